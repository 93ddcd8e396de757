import DequeModule
import Dispatch
import PacketDecoding
import PoolIntel
import StreamReassembly

/// The reader's side of `ParallelAnalysis`, as one value: it numbers every packet, keeps the clock,
/// learns the names of unfragmented UDP DNS answers, and deals each frame to the worker of its
/// address pair — worker 0's share straight into the reader's own packet path, the others' into
/// batches for their queues — holding packets back until what older ones taught is known
/// (`holdBack`). `ParallelAnalysis` reaches it once per batch of input, so the per-packet loop
/// touches no class-held state.
struct Dealer {
    let workerCount: Int
    let limits: Limits
    let intel: PoolIntelligence
    let names: NameMemory
    /// Per worker (index 0, the reader's own, unused).
    let queues: [BatchQueue]
    let finished: [BatchCounter]
    let peaks: PeakSamples
    /// Tests choose the worker of an address pair (to put a lookup and its connection apart).
    let assign: (@Sendable (IPAddress, IPAddress) -> Int)?
    /// The seed of the address-pair hash that picks a frame's worker.
    private let seed: (UInt64, UInt64) = {
        var g = SystemRandomNumberGenerator()
        return (g.next() | 1, g.next())
    }()
    /// Batches being gathered, per worker.
    private var pending: [Batch]
    /// Per worker, the batches handed over and not yet known finished: (number, first packet's place).
    private var inFlight: [Deque<(Int, InputPoint)>]
    private var sent: [Int]
    private(set) var input = InputCount()
    private let nap = DispatchSemaphore(value: 0)

    init(
        workerCount: Int, limits: Limits, intel: PoolIntelligence, names: NameMemory, queues: [BatchQueue],
        finished: [BatchCounter],
        peaks: PeakSamples, assign: (@Sendable (IPAddress, IPAddress) -> Int)?
    ) {
        self.workerCount = workerCount
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

    /// Deals frames to their workers; worker 0's go into `own` (processed at its next flush).
    mutating func deal(_ batch: UnsafeBufferPointer<CapturedPacket>, retained: Bool, own: inout PacketPath) {
        for f in batch { deal(f, retained: retained, own: &own) }
    }

    private mutating func deal(_ f: CapturedPacket, retained: Bool, own: inout PacketPath) {
        let frame = f.bytes
        let (point, second) = input.take(time: f.timestamp, originalLength: f.originalLength)
        let clock = point.clock
        if second {
            for w in 1..<workerCount { append(Item(kind: .tick, seq: input.samples, clock: clock), to: w) }
            peaks.sample(input.samples, &own, at: clock)
        }
        let decoded = PacketDecoder.decode(link: f.linkType, frame: frame)
        PacketPath.learnAtOnce(decoded, in: frame, intel: intel, limits: limits, names: names, at: point)
        holdBack(point, own: &own)
        let w = worker(for: decoded)
        if w == 0 {
            own.enqueue(at: point, linkType: f.linkType, frame: frame)
            return
        }
        var item = Item(kind: .packet, seq: point.seq, clock: clock)
        item.linkType = f.linkType
        item.length = frame.count
        if retained, let base = frame.baseAddress {
            item.address = UInt(bitPattern: base)
        } else {
            item.offset = pending[w].bytes.count
            pending[w].bytes.append(contentsOf: frame)
        }
        append(item, to: w)
    }

    /// Ends the input: every worker gets the end (sample number and clock, returned) and its queue closes.
    mutating func end() -> (last: Int, clock: Timestamp) {
        let last = input.end()
        let clock = input.clock
        for w in 1..<workerCount {
            append(Item(kind: .end, seq: last, clock: clock), to: w)
            send(w)
            queues[w].close()
        }
        return (last, clock)
    }

    /// The worker of a frame: by its two addresses (and VLAN), unordered, so that both directions,
    /// every flow between two hosts and every fragment of their datagrams meet in one worker. Seeded
    /// per run: an attacker choosing addresses cannot aim traffic at one worker (and would only slow
    /// it: results do not depend on which worker sees what).
    private func worker(for decoded: DecodeOutcome) -> Int {
        guard workerCount > 1 else { return 0 }
        let a: IPAddress
        let b: IPAddress
        let vlan: UInt16
        switch decoded {
        case .packet(let p): (a, b, vlan) = (p.src, p.dst, p.vlanID)
        case .fragment(let f): (a, b, vlan) = (f.key.src, f.key.dst, f.key.vlanID)
        default: return 0
        }
        if let assign { return min(max(assign(a, b), 0), workerCount - 1) }
        // Unordered: the pair's two folded words, combined commutatively, then mixed with the seed
        // (the flow table's multiply-fold step, `FlowHasher`).
        let x = Self.fold(a)
        let y = Self.fold(b)
        let h = FlowHasher.mum((x &+ y) ^ seed.0, ((x ^ y) &+ UInt64(vlan)) ^ seed.1)
        // The reader also reads, decodes and copies for everyone: its own share is a quarter of another
        // worker's (weights 1 : 4 : 4 …, which balanced the two threads of a 2-core run best).
        let slot = Int(h % UInt64(4 * workerCount - 3))
        return slot == 0 ? 0 : 1 + (slot - 1) / 4
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
        sent[w] += 1
        inFlight[w].append((sent[w], batch.first))
        queues[w].push(batch)
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
    private mutating func holdBack(_ now: InputPoint, own: inout PacketPath) {
        // The reader's own share holds frames back too (up to one input batch, `PacketPath.enqueue`):
        // what they teach must be in `NameMemory` before a packet far enough later goes to a worker.
        if let first = own.pendingSince, names.settled(first, asOf: now) { own.flush() }
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
