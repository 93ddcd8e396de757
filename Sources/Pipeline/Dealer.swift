import DequeModule
import Dispatch
import Locking
import PacketDecoding
import PoolIntel
import StreamReassembly

/// The reader's side of `ParallelAnalysis`, as one value: it numbers every packet, keeps the clock,
/// learns the names of unfragmented UDP DNS answers, and deals each frame to the shard of its
/// address pair — the reader's own shards' frames into a batch it runs itself (`own`), the others'
/// into batches for their workers' queues — holding packets back until what older ones taught is
/// known (`holdBack`). `ParallelAnalysis` reaches it once per batch of input, so the per-packet loop
/// touches no class-held state.
struct Dealer {
    let workerCount: Int
    /// Shard number → the worker holding it.
    let owner: [Int]
    /// Per worker, its first shard (where `assign` puts a pair).
    let firstShard: [Int]
    let limits: Limits
    let intel: PoolIntelligence
    let names: NameMemory
    /// Per worker (index 0, the reader's own, unused).
    let queues: [BatchQueue]
    let finished: [BatchCounter]
    let peaks: PeakSamples
    /// Tests choose the worker of an address pair (to put a lookup and its connection apart).
    let assign: (@Sendable (IPAddress, IPAddress) -> Int)?
    /// The seed of the address-pair hash that picks a frame's shard: taken from the input's first
    /// frame (its time and bytes), so that one capture is split the same way run after run — what a
    /// cap decides must not change between runs — while traffic cannot aim at one shard without
    /// knowing where the capture began.
    private var seed: (UInt64, UInt64)?
    /// Batches being gathered, per worker (index 0, the reader's own, unused).
    private var pending: [Batch]
    /// The first frame given to the reader's own shards since they were last flushed.
    private var ownSince: InputPoint?
    /// Per worker, the batches handed over and not yet known finished: (number, first packet's place).
    private var inFlight: [Deque<(Int, InputPoint)>]
    /// The oldest place `holdBack` watched at its last full look: the reader's own frames, a batch
    /// gathered or handed over and not known finished (nil: none). Until a packet is settled against
    /// it, no newer one can be either, so most packets cost `holdBack` one comparison.
    private var oldestWatched: InputPoint?
    private var sent: [Int]
    private(set) var input = InputCount()
    private let nap = DispatchSemaphore(value: 0)
    let spare: Spare

    /// When the reader parses, for the worker it goes to, a DNS message that teaches no name (a query,
    /// an answer for a name no list holds). The reader, which every packet passes, leaves it to the
    /// worker — unless that worker is behind: then the reader parses it and the note spares the worker
    /// the work. What is found is the same either way; this keeps the reader and the workers even as
    /// the traffic's mix changes (a quarter of an office's packets can be DNS). Asked only of a DNS
    /// datagram: the queue's count is a line both threads write. `always` and `never` are for tests.
    enum Spare: Sendable { case whenBehind, always, never }

    init(
        owner: [Int], firstShard: [Int], limits: Limits, intel: PoolIntelligence, names: NameMemory,
        queues: [BatchQueue], finished: [BatchCounter], peaks: PeakSamples,
        assign: (@Sendable (IPAddress, IPAddress) -> Int)?, spare: Spare = .whenBehind
    ) {
        workerCount = firstShard.count
        self.spare = spare
        self.owner = owner
        self.firstShard = firstShard
        self.limits = limits
        self.intel = intel
        self.names = names
        self.queues = queues
        self.finished = finished
        self.peaks = peaks
        self.assign = assign
        pending = (0..<workerCount).map { _ in Batch.empty() }
        inFlight = Array(repeating: [], count: workerCount)
        sent = Array(repeating: 0, count: workerCount)
    }

    /// Deals frames to their shards; the reader's own shards' frames are analysed before it returns.
    mutating func deal(_ batch: UnsafeBufferPointer<CapturedPacket>, retained: Bool, own: inout ShardGroup) {
        for f in batch { deal(f, retained: retained, own: &own) }
        own.flush()  // the frames are valid only during this call unless retained
        ownSince = nil
        names.purge(lowWater: self.lowWater)
    }

    /// The oldest place any shard may still be processing: no name lookup will be made before it
    /// (what `NameMemory.purge` may forget for good).
    private var lowWater: InputPoint {
        var low = InputPoint(seq: input.stats.packets + 1, clock: input.clock)
        func older(_ p: InputPoint) { if p.seq < low.seq { low = p } }
        if let first = ownSince { older(first) }
        for w in 1..<workerCount {
            if !pending[w].items.isEmpty { older(pending[w].first) }
            let done = finished[w].count.load(ordering: .acquiring)
            if let (_, first) = inFlight[w].first(where: { $0.0 > done }) { older(first) }
        }
        return low
    }

    private mutating func deal(_ f: CapturedPacket, retained: Bool, own: inout ShardGroup) {
        let frame = f.bytes
        let (point, second) = input.take(time: f.timestamp, originalLength: f.originalLength)
        let clock = point.clock
        if second {
            var tick = Item(kind: .tick, seq: input.samples, clock: clock)
            tick.position = point.seq
            for w in 1..<workerCount { append(tick, to: w) }
            own.sample(input.samples, at: clock, before: point.seq, peaks: peaks)
        }
        if seed == nil { seed = Self.seed(from: f) }
        let decoded = PacketDecoder.decode(link: f.linkType, frame: frame)
        let s = shard(for: decoded)
        let w = owner[s]
        let note = PacketPath.learnAtOnce(
            decoded, in: frame, intel: intel, limits: limits, names: names, at: point,
            spareWorker: w != 0 && spares(w))
        holdBack(point, own: &own)
        if w == 0 {
            if ownSince == nil { ownSince = point }
            own.enqueue(shard: s, at: point, decoded: decoded, frame: frame, note: note)
            return
        }
        var item = Item(kind: .packet, seq: point.seq, clock: clock)
        item.decoded = decoded
        item.shard = UInt16(truncatingIfNeeded: s)
        item.length = frame.count
        if retained, let base = frame.baseAddress {
            item.address = UInt(bitPattern: base)
        } else {
            item.offset = pending[w].bytes.count
            pending[w].bytes.append(contentsOf: frame)
        }
        pending[w].notes.add(note, at: pending[w].items.count)
        append(item, to: w)
    }

    @inline(__always) private func spares(_ w: Int) -> Bool {
        switch spare {
        case .whenBehind: queues[w].isBehind
        case .always: true
        case .never: false
        }
    }

    /// Ends the input: every shard gets the end (the last sample's number and the clock) and the
    /// workers' queues close; the reader's own shards finish here.
    mutating func end(own: inout ShardGroup, results: Locked<[AnalysisPart?]>) {
        let last = input.end()
        let clock = input.clock
        var end = Item(kind: .end, seq: last, clock: clock)
        end.position = input.stats.packets + 1
        for w in 1..<workerCount {
            append(end, to: w)
            send(w)
            queues[w].close()
        }
        own.finish(sample: last, at: clock, before: end.position, peaks: peaks, results: results)
    }

    /// The seed of the shard hash, from the first frame: its time and up to 64 of its bytes.
    static func seed(from f: CapturedPacket) -> (UInt64, UInt64) {
        var a = UInt64(bitPattern: f.timestamp.nanoseconds) ^ 0x243F_6A88_85A3_08D3
        var b = UInt64(truncatingIfNeeded: f.bytes.count) ^ 0x1319_8A2E_0370_7344
        for (i, byte) in f.bytes.prefix(64).enumerated() {
            if i % 2 == 0 {
                a = FlowHasher.mum(a ^ UInt64(byte), 0x9E37_79B9_7F4A_7C15)
            } else {
                b = FlowHasher.mum(b ^ UInt64(byte), 0xD6E8_FEB8_6659_FD93)
            }
        }
        return (FlowHasher.mum(a, b) | 1, FlowHasher.mum(b, a ^ 0xA409_3822_299F_31D0))
    }

    /// The shard of a frame: by its two addresses (and VLAN), unordered, so that both directions,
    /// every flow between two hosts and every fragment of their datagrams meet in one shard.
    private func shard(for decoded: DecodeOutcome) -> Int {
        guard owner.count > 1 else { return 0 }
        let a: IPAddress
        let b: IPAddress
        let vlan: UInt16
        switch decoded {
        case .packet(let p): (a, b, vlan) = (p.src, p.dst, p.vlanID)
        case .fragment(let f): (a, b, vlan) = (f.key.src, f.key.dst, f.key.vlanID)
        default: return 0
        }
        if let assign { return firstShard[min(max(assign(a, b), 0), workerCount - 1)] }
        let seed = self.seed ?? (1, 0)
        // Unordered: the pair's two folded words, combined commutatively, then mixed with the seed
        // (the flow table's multiply-fold step, `FlowHasher`).
        let x = Self.fold(a)
        let y = Self.fold(b)
        let h = FlowHasher.mum((x &+ y) ^ seed.0, ((x ^ y) &+ UInt64(vlan)) ^ seed.1)
        return Int(h % UInt64(owner.count))
    }

    @inline(__always) private static func fold(_ a: IPAddress) -> UInt64 {
        switch a {
        case .v4(let v): UInt64(v)
        case .v6(let hi, let lo): FlowHasher.mum(hi ^ 0x9E37_79B9_7F4A_7C15, lo ^ 0xD6E8_FEB8_6659_FD93)
        }
    }

    private mutating func append(_ item: Item, to w: Int) {
        if pending[w].items.isEmpty { pending[w].first = InputPoint(seq: item.seq, clock: item.clock) }
        pending[w].items.append(item)
        if pending[w].items.count >= ParallelAnalysis.batchFrames
            || pending[w].bytes.count >= ParallelAnalysis.batchBytes
        {
            send(w)
        }
    }

    private mutating func send(_ w: Int) {
        guard !pending[w].items.isEmpty else { return }
        let batch = pending[w]
        pending[w] = queues[w].spare() ?? Batch.empty()
        // A reused batch still holds the notes of its last load, which the reader made: they are let go
        // here, on the thread whose allocator they came from, where the next notes will reuse the memory.
        pending[w].notes.removeAll()
        sent[w] += 1
        inFlight[w].append((sent[w], batch.first))
        queues[w].push(batch)
    }

    /// The oldest place `holdBack` must still watch.
    private var watched: InputPoint? {
        var oldest = ownSince
        func older(_ p: InputPoint) { if oldest == nil || p.seq < oldest!.seq { oldest = p } }
        for w in 1..<workerCount {
            if !pending[w].items.isEmpty { older(pending[w].first) }
            if let (_, first) = inFlight[w].first { older(first) }
        }
        return oldest
    }

    /// Hands out everything gathered and waits until every worker has finished it: afterwards no
    /// worker refers to a frame handed over so far (a file's mapping can be let go).
    mutating func settle() {
        for w in 1..<workerCount {
            send(w)
            while finished[w].count.load(ordering: .acquiring) < sent[w] {
                _ = nap.wait(timeout: .now() + .microseconds(20))
            }
            inFlight[w].removeAll()
        }
    }

    /// Before a packet at `now` is handed out: every packet far enough behind it (`NameMemory.settled`)
    /// is finished by its worker (sent first if still gathered here), so the names it taught are in
    /// `NameMemory`. Far enough is a second of packet time and `Limits.learnedNamePackets` packets:
    /// more than the reader keeps in flight, so on any capture the reader waits only for a worker
    /// that is that far behind — and then its queue is full and the reader would wait anyway.
    private mutating func holdBack(_ now: InputPoint, own: inout ShardGroup) {
        if let oldest = oldestWatched, !names.settled(oldest, asOf: now) { return }
        defer { oldestWatched = watched }
        // The reader's own shards hold frames back too (up to one input batch): what they teach must
        // be in `NameMemory` before a packet far enough later goes to a worker.
        if let first = ownSince, names.settled(first, asOf: now) {
            own.flush()
            ownSince = nil
        }
        for w in 1..<workerCount {
            if !pending[w].items.isEmpty, names.settled(pending[w].first, asOf: now) { send(w) }
            var done = finished[w].count.load(ordering: .acquiring)
            while let (number, first) = inFlight[w].first {
                if number <= done {
                    inFlight[w].removeFirst()
                    continue
                }
                guard names.settled(first, asOf: now) else { break }
                _ = nap.wait(timeout: .now() + .microseconds(20))
                done = finished[w].count.load(ordering: .acquiring)
            }
        }
    }
}
