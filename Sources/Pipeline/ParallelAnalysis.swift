import DequeModule
import Detection
import Dispatch
import Locking
import PacketDecoding
import PoolIntel
import StreamReassembly
import Synchronization

/// One input analysed by several workers, with the result one worker gives alone — at every load,
/// caps reached included (docs/architecture.md "Workers").
///
/// The input's address pairs are split into `Limits.shards` shards, a number that does not depend on
/// the workers: each shard is a `PacketPipeline` with its share of every cap, and each worker holds
/// some shards (`ShardGroup`). The caller's thread is the reader: it numbers every packet, keeps the
/// clock, learns the names of unfragmented UDP DNS answers (so any shard's next flow sees them), and
/// gives each frame to the shard of its address pair — both directions, every port and every IP
/// fragment of two hosts go to one shard. Worker 0 is the reader itself (its shards' frames are
/// analysed in place, between its reads); workers 1…N−1 run on their own threads and get theirs in
/// batches over bounded queues. Whole seconds of packet time reach every shard in the same place
/// (idle expiry, flow-count samples). Names learned inside flows are shared through `NameMemory`; the
/// reader never hands out a packet before every worker has finished every packet both
/// `Limits.learnedNameDelay` and `Limits.learnedNamePackets` behind it, which is what makes those
/// names deterministic without making the workers wait for each other on sparse captures.
/// Findings merge order-free (`AnalysisPart.merge`).
public final class ParallelAnalysis: InputAnalysis {
    /// Threads analysing (at most one per shard).
    public let workerCount: Int
    public let shardCount: Int
    private let limits: Limits
    private let names: NameMemory
    private let results = Locked<[AnalysisPart?]>([])
    private let peaks: PeakSamples
    private let retired: Locked<[SessionRecord]>?
    private let group = DispatchGroup()
    /// The reader's state: reached once per call (a batch).
    private var dealer: Dealer
    /// The reader's own shards, analysed in place (no copy, no queue) between its reads.
    private var own: ShardGroup

    /// Frames per batch, and bytes: large enough that a queue operation per batch is cheap, small
    /// enough that workers start early and a batch stays in cache.
    static let batchFrames = 512
    static let batchBytes = 512 * 1024
    /// Batches waiting per worker before the reader waits (bounded memory: workers × depth × batch).
    static let queueDepth = 8

    /// - Parameters:
    ///   - workers: threads analysing (at least 1; at most one per shard).
    ///   - limits: the caps for the whole run; each shard gets its share (`Limits.share`).
    ///   - collectRetired: keep sessions retired from memory for a store (`drainRetiredSessions`).
    ///   - onEvent: called on the workers' threads (the reader's for worker 0) as detections happen,
    ///     each shard in its packet order.
    public convenience init(
        workers: Int, limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(),
        localNets: AddressSet? = nil,
        policy: ScoringPolicy = ScoringPolicy(), collectRetired: Bool = false,
        onEvent: (@Sendable (AnalysisEvent) -> Void)? = nil
    ) {
        self.init(
            workers: workers, limits: limits, intel: intel, localNets: localNets, policy: policy,
            collectRetired: collectRetired,
            assign: nil, onEvent: onEvent)
    }

    /// `assign`: tests choose the worker of an address pair (its first shard is taken); `spare`: when
    /// the reader parses for a worker the DNS that teaches no name (`Dealer.Spare`; tests force either way).
    init(
        workers: Int, limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(),
        localNets: AddressSet? = nil,
        policy: ScoringPolicy = ScoringPolicy(), collectRetired: Bool = false,
        assign: (@Sendable (IPAddress, IPAddress) -> Int)?, spare: Dealer.Spare = .whenBehind,
        onEvent: (@Sendable (AnalysisEvent) -> Void)? = nil
    ) {
        let shardCount = min(max(1, limits.shards), 4096)
        let split = ShardGroup.split(shardCount: shardCount, workers: workers)
        let n = split.count
        workerCount = n
        self.shardCount = shardCount
        self.limits = limits
        names = NameMemory(
            capacity: limits.maxNameCacheEntries, delay: limits.learnedNameDelay,
            delayPackets: limits.learnedNamePackets, stores: shardCount + 1)
        let queues = (0..<n).map { _ in BatchQueue(capacity: Self.queueDepth) }
        let finished = (0..<n).map { _ in BatchCounter() }
        peaks = PeakSamples(shards: shardCount)
        retired = collectRetired ? Locked([]) : nil
        results.withLock { $0 = Array(repeating: nil, count: shardCount) }
        let share = limits.share(of: shardCount)
        let names = names
        let peaks = peaks
        let results = results
        let retired = retired
        // Each shard teaches its own part of the name memory (the reader's DNS answers go to part 0).
        let path: @Sendable (Int, ((AnalysisEvent) -> Void)?) -> PacketPath = { shard, raise in
            PacketPath(limits: share, intel: intel, policy: policy, names: names, onEvent: raise, nameStore: shard + 1)
        }
        own = ShardGroup(
            shards: split[0], shardCount: shardCount, collectRetired: collectRetired, onEvent: onEvent, path: path)
        var owner = Array(repeating: 0, count: shardCount)
        for (w, shards) in split.enumerated() { for s in shards { owner[s] = w } }
        dealer = Dealer(
            owner: owner, firstShard: split.map { $0[0] }, limits: limits, intel: intel, names: names,
            queues: queues, finished: finished, peaks: peaks, assign: assign, spare: spare)
        for w in 1..<max(n, 1) {
            let queue = queues[w]
            let done = finished[w]
            let shards = split[w]
            group.enter()
            DispatchQueue(label: "stratumsniff.worker.\(w)").async { [group] in
                var mine = ShardGroup(
                    shards: shards, shardCount: shardCount, collectRetired: collectRetired, onEvent: onEvent,
                    path: path)
                while var batch = queue.pop() {
                    var end: Item?
                    batch.bytes.withUnsafeBytes { bytes in
                        for (index, item) in batch.items.enumerated() {
                            switch item.kind {
                            case .packet:
                                let frame =
                                    item.address != 0
                                    ? UnsafeRawBufferPointer(
                                        start: UnsafeRawPointer(bitPattern: item.address), count: item.length)
                                    : UnsafeRawBufferPointer(rebasing: bytes[item.offset..<item.offset + item.length])
                                mine.enqueue(
                                    shard: Int(item.shard), at: InputPoint(seq: item.seq, clock: item.clock),
                                    decoded: item.decoded, frame: frame, note: batch.notes.take(at: index))
                            case .tick:
                                mine.sample(item.seq, at: item.clock, before: item.position, peaks: peaks)
                            case .end:
                                end = item
                            }
                        }
                        mine.flush()  // before the batch's bytes are recycled
                    }
                    // The end of input is always the last item of the last batch (`Dealer.end`).
                    if let end {
                        mine.finish(
                            sample: end.seq, at: end.clock, before: end.position, peaks: peaks, results: results)
                    }
                    mine.drainRetired(into: retired)
                    done.count.add(1, ordering: .releasing)
                    batch.items.removeAll(keepingCapacity: true)
                    // The notes stay: the reader lets them go when it reuses the batch (`Dealer.send`), so
                    // that what it allocated is freed on its own thread.
                    batch.bytes.removeAll(keepingCapacity: true)
                    queue.recycle(batch)
                }
                group.leave()
            }
        }
    }

    public var packetsSeen: Int { dealer.input.stats.packets }

    /// Hands one captured frame to its worker (the reader's thread only).
    public func process(
        time packetTime: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int
    ) {
        let one = CapturedPacket(
            timestamp: packetTime, linkType: linkType, bytes: frame, originalLength: originalLength)
        withUnsafePointer(to: one) { process(batch: UnsafeBufferPointer(start: $0, count: 1), retained: false) }
    }

    /// Hands frames to their workers — retained frames by reference, others copied into the
    /// worker's batch; the reader's own shards' frames are analysed before the call returns (they are
    /// read in place, valid for the whole call). The reader's state is reached once per call.
    public func process(batch: UnsafeBufferPointer<CapturedPacket>, retained: Bool) {
        dealer.deal(batch, retained: retained, own: &own)
        own.drainRetired(into: retired)
    }

    /// Waits until every worker has finished what it was handed: no retained frame is referenced
    /// any more. A file's frames can then be let go before the next file (its pages, its buffers).
    public func releaseRetained() { dealer.settle() }

    /// Ends the input: waits for every worker and merges their parts.
    public func finishInput() -> AnalysisPart {
        dealer.end(own: &own, results: results)
        group.wait()
        let parts = results.withLock { $0 }.compactMap { $0 }
        var merged = AnalysisPart(
            verdicts: HostVerdicts(policy: parts.first?.verdicts.policy ?? ScoringPolicy(), limits: limits.hosts),
            stats: AnalysisStats(), hostsSeen: [:])
        for p in parts { merged.merge(p, maxHostsSeen: limits.maxHostsSeen) }
        // The host table's counters are the merged table's (it retires and drops past the caps too).
        merged.stats.count(merged.verdicts)
        // The reader's own counts: every packet once, the clock's view of time.
        dealer.input.apply(to: &merged.stats)
        merged.stats.anomalies.record(.timeWentBackwards, count: merged.stats.timeWentBackwards)
        merged.stats.reassembly.peakFlows = peaks.peak
        merged.stats.nameCacheEvictions = names.evictions
        return merged
    }

    /// Sessions the workers retired from memory since the last call (for a store).
    public func drainRetiredSessions() -> [SessionRecord] {
        retired?.withLock { r in
            defer { r = [] }
            return r
        } ?? []
    }
}

/// What the reader hands a worker.
struct Item: Sendable {
    enum Kind: Sendable { case packet, tick, end }
    var kind: Kind
    /// A packet's frame as the reader decoded it (its ranges are the frame's, wherever its bytes are).
    var decoded = DecodeOutcome.notIP
    /// A packet's shard.
    var shard: UInt16 = 0
    /// A packet's place in the input; a tick's (or the end's) sample number.
    var seq: Int
    /// A tick's place in the input: the packet it comes before (the end: just past the last).
    var position = 0
    var clock: Timestamp
    /// A retained frame's address (`InputAnalysis.process(batch:retained:)`), as a number because a
    /// pointer cannot cross threads in Swift's eyes: the caller keeps the memory valid until
    /// `finishInput()`, which returns only after every worker is done. 0: the frame was copied into
    /// the batch's bytes at `offset`.
    var address: UInt = 0
    var offset = 0
    var length = 0
}

/// Frames for one worker, their bytes back to back.
struct Batch: Sendable {
    var items: [Item] = []
    /// What the reader made of some of the items' datagrams (`DatagramAnalyzer.learnAtOnce`), by
    /// index in `items`.
    var notes = DatagramNotes()
    var bytes: [UInt8] = []
    var first = InputPoint.start

    /// A batch with room for a full load (a frame may overrun `batchBytes` by one packet).
    static func empty() -> Batch {
        var b = Batch()
        b.items.reserveCapacity(ParallelAnalysis.batchFrames)
        b.bytes.reserveCapacity(ParallelAnalysis.batchBytes + 65_536)
        return b
    }
}

/// What `analyze` feeds packets to: one analyzer, or workers behind a reader.
public protocol InputAnalysis: AnyObject {
    func process(time: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int)
    /// Frames in order, all valid during the call — and, when `retained`, until `releaseRetained()` or
    /// `finishInput()` returns (a file's mapping), so that they can be handed to other threads without a copy.
    func process(batch: UnsafeBufferPointer<CapturedPacket>, retained: Bool)
    /// Returns once no frame handed over as `retained` is referenced any more: the caller may then
    /// release its source (unmap a file) instead of keeping it until `finishInput()`.
    func releaseRetained()
    /// Ends the input: everything found.
    func finishInput() -> AnalysisPart
    /// Sessions retired from memory since the last call (for a store).
    func drainRetiredSessions() -> [SessionRecord]
    /// Packets taken so far.
    var packetsSeen: Int { get }
}

extension PacketPipeline: InputAnalysis {
    public func process(batch: UnsafeBufferPointer<CapturedPacket>, retained: Bool) { process(batch: batch) }
    /// Nothing to wait for: a batch is processed whole within its call.
    public func releaseRetained() {}
    public func finishInput() -> AnalysisPart { finishPart(at: clockNow) }
    public var packetsSeen: Int { statistics.packets }
}

/// A bounded blocking queue of batches from the reader to one worker: the reader waits when the
/// worker is `capacity` batches behind (nothing is dropped: this is a file, not a live link).
final class BatchQueue: Sendable {
    /// The batches and whether the reader has closed the queue, under one lock (as `BoundedQueue`'s):
    /// read apart, a worker could find the queue empty, then — the last batch pushed and the queue
    /// closed meanwhile — find it closed, and stop with the end of input unread (the `workers` fuzz
    /// target caught a run whose workers' findings were all missing).
    private let state = Locked((items: Deque<Batch>(), closed: false))
    /// Emptied batches handed back, their memory kept: no allocation (and no page faults) per batch.
    private let spares = Locked([Batch]())
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let capacity: Int
    /// Batches pushed and not yet taken, kept beside the lock so that the reader can glance at it
    /// per packet (`isBehind`): a hint for sharing work, never a count anything else relies on.
    private let queued = Atomic(0)

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        free = DispatchSemaphore(value: self.capacity)
    }

    /// Whether the worker is behind: half its queue or more is waiting.
    var isBehind: Bool { queued.load(ordering: .relaxed) * 2 >= capacity }

    func push(_ batch: Batch) {
        free.wait()
        state.withLock { $0.items.append(batch) }
        queued.add(1, ordering: .relaxed)
        filled.signal()
    }

    /// The next batch; nil once closed and drained.
    func pop() -> Batch? {
        while true {
            let (batch, closed) = state.withLock { s in (s.items.popFirst(), s.closed) }
            if let batch {
                queued.subtract(1, ordering: .relaxed)
                free.signal()
                return batch
            }
            if closed { return nil }
            filled.wait()
        }
    }

    func recycle(_ batch: Batch) { spares.withLock { if $0.count < 4 { $0.append(batch) } } }

    func spare() -> Batch? { spares.withLock { $0.popLast() } }

    func close() {
        state.withLock { $0.closed = true }
        filled.signal()
    }
}

/// Batches a worker has finished (the reader holds packets back on it).
final class BatchCounter: Sendable {
    let count = Atomic(0)
}

/// The flow count summed over shards at each sample (a whole second, the end), and the largest sum.
final class PeakSamples: Sendable {
    private struct State {
        var partial: [Int: (flows: Int, shards: Int)] = [:]
        var peak = 0
    }
    private let state = Locked(State())
    private let shards: Int

    init(shards: Int) { self.shards = shards }

    /// Some shards' part of sample `number`: each path's idle flows expired at `clock`, the flows
    /// left counted, reported once for all of them.
    /// `before`: the place in the input of the packet the second begins with (or just past the last).
    func sample(_ number: Int, _ paths: inout [PacketPath], at clock: Timestamp, before seq: Int) {
        var flows = 0
        for i in paths.indices {
            paths[i].flush()
            paths[i].tick(time: clock, before: seq)
            flows += paths[i].table.count
        }
        report(sample: number, flows: flows, shards: paths.count)
    }

    private func report(sample: Int, flows: Int, shards: Int) {
        state.withLock { s in
            var p = s.partial[sample] ?? (0, 0)
            p.flows += flows
            p.shards += shards
            if p.shards == self.shards {
                s.partial[sample] = nil
                s.peak = max(s.peak, p.flows)
            } else {
                s.partial[sample] = p
            }
        }
    }

    var peak: Int { state.withLock { $0.peak } }
}

extension Limits {
    /// One shard's share of caps that bound the whole run's memory: they sum to the configured
    /// totals. Per-flow and per-host caps, timeouts and the shared name memory stay as they are.
    public func share(of shards: Int) -> Limits {
        guard shards > 1 else { return self }
        func part(_ v: Int) -> Int { max(1, v / shards) }
        var l = self
        l.reassembly.maxFlows = part(reassembly.maxFlows)
        l.reassembly.maxReassemblyMemory = part(reassembly.maxReassemblyMemory)
        l.reassembly.maxDecoderMemory = part(reassembly.maxDecoderMemory)
        l.fragments.maxBufferedBytes = part(fragments.maxBufferedBytes)
        l.hosts.maxHosts = part(hosts.maxHosts)
        l.hosts.maxSessions = part(hosts.maxSessions)
        l.hosts.maxEvidence = part(hosts.maxEvidence)
        l.hosts.maxBytes = part(hosts.maxBytes)
        l.hosts.maxRetiredPending = part(hosts.maxRetiredPending)
        l.hosts.maxRetiredBytes = part(hosts.maxRetiredBytes)
        l.maxHostsSeen = maxHostsSeen == 0 ? 0 : part(maxHostsSeen)  // 0: not collected
        return l
    }
}
