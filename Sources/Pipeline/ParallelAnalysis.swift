import Locking
import DequeModule
import Detection
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import PacketCapture
import PacketDecoding
import PoolIntel
import Synchronization

/// One input analysed by several workers, each an `Analyzer` on its own thread, with the result one
/// analyzer would give alone (README "Workers").
///
/// The caller's thread is the reader: it numbers every packet, keeps the clock, learns the names of
/// unfragmented UDP DNS answers (so any worker's next flow sees them), and hands each frame to the
/// worker of its address pair — both directions, every port and every IP fragment of two hosts go to
/// one worker — in batches over bounded queues. Whole seconds of packet time reach every worker in
/// the same place (idle expiry, flow-count samples). Names learned inside flows are shared through
/// `NameMemory`; the reader never hands out a packet before every worker has finished every packet
/// more than `Limits.learnedNameDelay` older, which is what makes those names deterministic.
/// Findings merge order-free (`AnalysisPart.merge`).
public final class ParallelAnalysis: InputAnalysis {
    public let workerCount: Int
    private let limits: Limits
    private let intel: PoolIntelligence
    private let names: NameMemory
    private let queues: [BatchQueue]
    private let finished: [BatchCounter]
    private let results = Locked<[AnalysisPart?]>([])
    private let peaks: PeakSamples
    private let retired: Locked<[SessionRecord]>?
    private let group = DispatchGroup()
    /// The reader's state.
    private var pending: [Batch]
    /// Per worker, the batches handed over and not yet known finished: (number, first clock).
    private var inFlight: [Deque<(Int, Timestamp)>]
    private var sent: [Int]
    private var state = ReaderState()
    private let sharding: Sharding
    /// Per worker, where its scan of a mapped file has got to (`scan`).
    private let scanProgress: [ScanProgress]
    /// Worker 0's account of a scan: the reader's state after it, and where it stopped.
    private let scanned = Locked<(ReaderState, Int, String?)?>(nil)
    private let scanDone = DispatchSemaphore(value: 0)

    /// Frames per batch, and bytes: large enough that a queue operation per batch is cheap, small
    /// enough that workers start early and a batch stays in cache.
    static let batchFrames = 512
    static let batchBytes = 512 * 1024
    /// Batches waiting per worker before the reader waits (bounded memory: workers × depth × batch).
    static let queueDepth = 8

    /// - Parameters:
    ///   - workers: threads analysing (at least 1).
    ///   - limits: the caps for the whole run; each worker gets its share (`Limits.share`).
    ///   - collectRetired: keep sessions retired from memory for a store (`drainRetiredSessions`).
    ///   - onEvent: called on the worker threads as detections happen (each worker in its packet order).
    public convenience init(workers: Int, limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(), localNets: AddressSet? = nil,
                policy: ScoringPolicy = ScoringPolicy(), collectRetired: Bool = false,
                onEvent: (@Sendable (AnalysisEvent) -> Void)? = nil) {
        self.init(workers: workers, limits: limits, intel: intel, localNets: localNets, policy: policy, collectRetired: collectRetired,
                  assign: nil, onEvent: onEvent)
    }

    init(workers: Int, limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(), localNets: AddressSet? = nil,
         policy: ScoringPolicy = ScoringPolicy(), collectRetired: Bool = false, assign: (@Sendable (IPAddress, IPAddress) -> Int)?,
         onEvent: (@Sendable (AnalysisEvent) -> Void)? = nil) {
        let n = max(1, workers)
        let sharding = Sharding(workers: n, assign: assign)
        self.sharding = sharding
        workerCount = n
        self.limits = limits
        self.intel = intel
        names = NameMemory(capacity: limits.maxNameCacheEntries, delay: limits.learnedNameDelay)
        queues = (0..<n).map { _ in BatchQueue(capacity: Self.queueDepth) }
        finished = (0..<n).map { _ in BatchCounter() }
        peaks = PeakSamples(workers: n)
        retired = collectRetired ? Locked([]) : nil
        pending = (0..<n).map { _ in Batch.empty() }
        inFlight = Array(repeating: [], count: n)
        sent = Array(repeating: 0, count: n)
        results.withLock { $0 = Array(repeating: nil, count: n) }
        let progress = (0..<n).map { _ in ScanProgress() }
        scanProgress = progress
        let share = limits.share(of: n)
        for w in 0..<n {
            let queue = queues[w], done = finished[w], names = names, peaks = peaks, results = results, retired = retired
            let scanned = scanned, scanDone = scanDone
            group.enter()
            DispatchQueue(label: "stratumsniff.worker.\(w)").async { [group] in
                let analyzer = Analyzer(limits: share, intel: intel, localNets: localNets, policy: policy, names: names, onEvent: onEvent)
                analyzer.collectRetiredSessions = retired != nil
                while var batch = queue.pop() {
                    if let job = batch.scan {
                        let outcome = Self.scan(job, worker: w, analyzer: analyzer, sharding: sharding, progress: progress, names: names,
                                                intel: intel, limits: limits, peaks: peaks, retired: retired)
                        if w == 0 { scanned.withLock { $0 = outcome }; scanDone.signal() }
                    }
                    batch.bytes.withUnsafeBytes { bytes in
                        for item in batch.items {
                            switch item.kind {
                            case .packet:
                                let frame = UnsafeRawBufferPointer(rebasing: bytes[item.offset..<item.offset + item.length])
                                analyzer.process(at: InputPoint(seq: item.seq, clock: item.clock), linkType: item.linkType,
                                                 frame: frame, originalLength: item.originalLength)
                            case .tick:
                                analyzer.tick(time: item.clock)
                                peaks.report(sample: item.seq, flows: analyzer.openFlows)
                            case .end:
                                analyzer.tick(time: item.clock)
                                peaks.report(sample: item.seq, flows: analyzer.openFlows)
                                let part = analyzer.finishPart(at: item.clock)
                                results.withLock { $0[w] = part }
                            }
                        }
                    }
                    if let retired {
                        let sessions = analyzer.drainRetiredSessions()
                        if !sessions.isEmpty { retired.withLock { $0 += sessions } }
                    }
                    done.count.add(1, ordering: .releasing)
                    // A walk's batch carries no frames: not worth keeping (and it must never be walked twice).
                    guard batch.scan == nil else { continue }
                    batch.items.removeAll(keepingCapacity: true)
                    batch.bytes.removeAll(keepingCapacity: true)
                    queue.recycle(batch)
                }
                group.leave()
            }
        }
    }

    public var packetsSeen: Int { state.stats.packets }

    /// Hands one captured frame to its worker (the reader's thread only).
    public func process(time packetTime: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int) {
        let (point, tick) = state.take(time: packetTime, originalLength: originalLength)
        if tick {
            for w in 0..<workerCount { append(Item(kind: .tick, seq: state.tickCount, clock: point.clock), to: w) }
        }
        let decoded = PacketDecoder.decode(link: linkType, frame: frame)
        Analyzer.learnDNSAtOnce(decoded, in: frame, at: point, intel: intel, limits: limits, names: names)
        holdBack(point.clock)
        let w = sharding.worker(for: decoded)
        var item = Item(kind: .packet, seq: point.seq, clock: point.clock)
        item.linkType = linkType
        item.originalLength = originalLength
        item.length = frame.count
        item.offset = pending[w].bytes.count
        pending[w].bytes.append(contentsOf: frame)
        append(item, to: w)
    }

    /// Ends the input: waits for every worker and merges their parts.
    public func finishInput() -> AnalysisPart {
        state.tickCount += 1
        for w in 0..<workerCount {
            append(Item(kind: .end, seq: state.tickCount, clock: state.clock), to: w)
            send(w)
            queues[w].close()
        }
        group.wait()
        let parts = results.withLock { $0 }.compactMap { $0 }
        var merged = AnalysisPart(verdicts: HostVerdicts(policy: parts.first?.verdicts.policy ?? ScoringPolicy(), limits: limits.hosts),
                                  stats: AnalysisStats(), hostsSeen: [:])
        for p in parts { merged.merge(p, maxHostsSeen: limits.maxHostsSeen) }
        // The reader's own counts: every packet once, the clock's view of time.
        let stats = state.stats
        merged.stats.packets = stats.packets
        merged.stats.bytes = stats.bytes
        merged.stats.firstPacket = stats.firstPacket
        merged.stats.lastPacket = stats.lastPacket
        merged.stats.timeWentBackwards = stats.timeWentBackwards
        merged.stats.anomalies.record(.timeWentBackwards, count: stats.timeWentBackwards)
        merged.stats.reassembly.peakFlows = peaks.peak
        merged.stats.nameCacheEvictions = names.evictions
        return merged
    }

    /// Sessions the workers retired from memory since the last call (for a store).
    public func drainRetiredSessions() -> [SessionRecord] {
        retired?.withLock { r in defer { r = [] }; return r } ?? []
    }

    // MARK: - Files read from a mapping

    /// Reads a capture file. A classic pcap file that maps (`PcapFileSource.mappable`) is not read
    /// here at all: every worker maps it and walks all its records — numbering them, keeping the clock
    /// and the whole seconds, learning DNS answers, as the reader would — and analyses those of its own
    /// address pairs; nothing is copied or queued. Workers hold back on each other by the same
    /// one-second rule. Where the plain records end (a record libpcap treats specially, or the end),
    /// the reader goes on with libpcap from that byte. Any other file: the reader hands frames over.
    /// `waiting` is called about ten times a second while the workers read (store the retired sessions).
    public func read(_ source: PcapFileSource, waiting: () -> Void = {}) throws(CaptureError) {
        guard workerCount > 1, let m = source.mappable else {
            try source.forEachPacket { p in process(time: p.timestamp, linkType: p.linkType, frame: p.bytes, originalLength: p.originalLength) }
            return
        }
        // Every worker finishes what it was handed before any starts walking: a worker still on
        // earlier packets would not show in the walkers' hold-back.
        for w in 0..<workerCount {
            send(w)
            while finished[w].count.load(ordering: .acquiring) < sent[w] { spinWait() }
        }
        let job = ScanJob(path: m.path, snapshot: m.snapshot, linkType: source.linkType, state: state)
        // A worker that has not begun its walk yet is at the walk's start for the others' hold-back
        // (were it "not walking", the others could run ahead of names it is about to learn).
        for p in scanProgress { p.next.store(state.clock.nanoseconds, ordering: .releasing) }
        for w in 0..<workerCount {
            var batch = Batch()
            batch.scan = job
            batch.firstClock = state.clock
            sent[w] += 1
            inFlight[w].append((sent[w], state.clock))
            queues[w].push(batch)
        }
        while scanDone.wait(timeout: .now() + .milliseconds(100)) == .timedOut { waiting() }
        guard let (after, stop, failure) = scanned.withLock({ s in defer { s = nil }; return s }) else { return }
        if let failure { throw .readFailed(source: source.name, reason: failure, packetsRead: after.stats.packets - state.stats.packets) }
        state = after
        try source.forEachPacket(startingAt: stop) { p in
            process(time: p.timestamp, linkType: p.linkType, frame: p.bytes, originalLength: p.originalLength)
        }
    }

    /// One worker's walk of a mapped file (see `read`): returns the reader's state after it, the
    /// offset where the plain records end, and why it could not map the file, if it could not.
    static func scan(_ job: ScanJob, worker w: Int, analyzer: Analyzer, sharding: Sharding, progress: [ScanProgress], names: NameMemory,
                     intel: PoolIntelligence, limits: Limits, peaks: PeakSamples, retired: Locked<[SessionRecord]>?) -> (ReaderState, Int, String?) {
        var state = job.state
        guard var records = MappedRecords(path: job.path, snapshot: job.snapshot) else {
            progress[w].next.store(.max, ordering: .releasing)
            return (state, 24, "worker \(w) could not map the file: \(String(cString: strerror(errno)))")
        }
        let link = job.linkType
        let delayNanos = names.delayNanos
        var sinceDrain = 0
        let stop = records.forEach { _, seconds, nanos, frame, length in
            let (point, tick) = state.take(time: Timestamp(seconds: seconds, nanos: nanos), originalLength: length)
            // Everything before this record is done here; wait while another worker has not finished
            // what lies more than the delay before it (the reader's hold-back, between peers).
            progress[w].next.store(point.clock.nanoseconds, ordering: .releasing)
            for other in progress.indices where other != w {
                while NameMemory.settled(Timestamp(nanoseconds: progress[other].next.load(ordering: .acquiring)), asOf: point.clock, delayNanos: delayNanos) {
                    progress[w].nap()
                }
            }
            if tick {
                analyzer.tick(time: point.clock)
                peaks.report(sample: state.tickCount, flows: analyzer.openFlows)
            }
            let decoded = PacketDecoder.decode(link: link, frame: frame)
            Analyzer.learnDNSAtOnce(decoded, in: frame, at: point, intel: intel, limits: limits, names: names)
            if sharding.worker(for: decoded) == w {
                analyzer.process(at: point, linkType: link, frame: frame, originalLength: length)
            }
            sinceDrain += 1
            if sinceDrain >= 65_536, let retired {
                sinceDrain = 0
                let sessions = analyzer.drainRetiredSessions()
                if !sessions.isEmpty { retired.withLock { $0 += sessions } }
            }
            return true
        }
        progress[w].next.store(.max, ordering: .releasing)
        return (state, stop, nil)
    }

    // MARK: - The reader's side

    private func append(_ item: Item, to w: Int) {
        if pending[w].items.isEmpty { pending[w].firstClock = item.clock }
        pending[w].items.append(item)
        if pending[w].items.count >= Self.batchFrames || pending[w].bytes.count >= Self.batchBytes { send(w) }
    }

    private func send(_ w: Int) {
        guard !pending[w].items.isEmpty else { return }
        let batch = pending[w]
        pending[w] = queues[w].spare() ?? Batch.empty()
        sent[w] += 1
        inFlight[w].append((sent[w], batch.firstClock))
        queues[w].push(batch)
    }

    /// Before a packet at `now` is handed out: every packet more than `delay` older is finished by its
    /// worker (sent first if still gathered here), so the names it taught are in `NameMemory`.
    private func holdBack(_ now: Timestamp) {
        let delayNanos = names.delayNanos
        for w in 0..<workerCount {
            if !pending[w].items.isEmpty, NameMemory.settled(pending[w].firstClock, asOf: now, delayNanos: delayNanos) { send(w) }
            var done = finished[w].count.load(ordering: .acquiring)
            while let (number, first) = inFlight[w].first {
                if number <= done { inFlight[w].removeFirst(); continue }
                guard NameMemory.settled(first, asOf: now, delayNanos: delayNanos) else { break }
                // Rare on real traffic (a second of packets fills many batches); sparse captures wait here.
                spinWait()
                done = finished[w].count.load(ordering: .acquiring)
            }
        }
    }

    private let nap = DispatchSemaphore(value: 0)
    private func spinWait() { _ = nap.wait(timeout: .now() + .microseconds(20)) }
}

/// What the reader hands a worker.
struct Item: Sendable {
    enum Kind: Sendable { case packet, tick, end }
    var kind: Kind
    /// A packet's place in the input; a tick's (or the end's) sample number.
    var seq: Int
    var clock: Timestamp
    var linkType: LinkType = .ethernet
    var offset = 0
    var length = 0
    var originalLength = 0
}

/// Frames for one worker, their bytes back to back.
struct Batch: Sendable {
    /// A mapped file to walk instead of items (every worker gets the same one).
    var scan: ScanJob?
    var items: [Item] = []
    var bytes: [UInt8] = []
    var firstClock = Timestamp.distantPast

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
    /// Ends the input: everything found.
    func finishInput() -> AnalysisPart
    /// Sessions retired from memory since the last call (for a store).
    func drainRetiredSessions() -> [SessionRecord]
    /// Packets taken so far.
    var packetsSeen: Int { get }
}

extension Analyzer: InputAnalysis {
    public func finishInput() -> AnalysisPart { finishPart(at: clockNow) }
    public var packetsSeen: Int { statistics.packets }
}

/// A bounded blocking queue of batches from the reader to one worker: the reader waits when the
/// worker is `capacity` batches behind (nothing is dropped: this is a file, not a live link).
final class BatchQueue: Sendable {
    private let items = Locked(Deque<Batch>())
    /// Emptied batches handed back, their memory kept: no allocation (and no page faults) per batch.
    private let spares = Locked([Batch]())
    private let closed = Atomic(false)
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore

    init(capacity: Int) { free = DispatchSemaphore(value: max(1, capacity)) }

    func push(_ batch: Batch) {
        free.wait()
        items.withLock { $0.append(batch) }
        filled.signal()
    }

    /// The next batch; nil once closed and drained.
    func pop() -> Batch? {
        while true {
            if let b = items.withLock({ $0.popFirst() }) { free.signal(); return b }
            if closed.load(ordering: .acquiring) { return nil }
            filled.wait()
        }
    }

    func recycle(_ batch: Batch) { spares.withLock { if $0.count < 4 { $0.append(batch) } } }

    func spare() -> Batch? { spares.withLock { $0.popLast() } }

    func close() {
        closed.store(true, ordering: .releasing)
        filled.signal()
    }
}

/// Batches a worker has finished (the reader holds packets back on it).
final class BatchCounter: Sendable {
    let count = Atomic(0)
}

/// The flow count summed over workers at each sample (a whole second, the end), and the largest sum.
final class PeakSamples: Sendable {
    private struct State {
        var partial: [Int: (flows: Int, reports: Int)] = [:]
        var peak = 0
    }
    private let state = Locked(State())
    private let workers: Int

    init(workers: Int) { self.workers = workers }

    func report(sample: Int, flows: Int) {
        state.withLock { s in
            var p = s.partial[sample] ?? (0, 0)
            p.flows += flows
            p.reports += 1
            if p.reports == workers {
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
    /// One worker's share of caps that bound the whole run's memory: they sum to the configured
    /// totals. Per-flow and per-host caps, timeouts and the shared name memory stay as they are.
    public func share(of workers: Int) -> Limits {
        guard workers > 1 else { return self }
        func part(_ v: Int) -> Int { max(1, v / workers) }
        var l = self
        l.reassembly.maxFlows = part(reassembly.maxFlows)
        l.reassembly.maxReassemblyMemory = part(reassembly.maxReassemblyMemory)
        l.reassembly.maxDecoderMemory = part(reassembly.maxDecoderMemory)
        l.fragments.maxBufferedBytes = part(fragments.maxBufferedBytes)
        l.hosts.maxHosts = part(hosts.maxHosts)
        l.hosts.maxSessions = part(hosts.maxSessions)
        l.hosts.maxEvidence = part(hosts.maxEvidence)
        l.hosts.maxRetiredPending = part(hosts.maxRetiredPending)
        l.maxHostsSeen = part(maxHostsSeen)
        return l
    }
}

/// What the reader keeps: every packet's number, the clock, the whole seconds, its own counters.
/// Workers scanning a mapped file keep one each, from the same start: the same numbers for the same packets.
struct ReaderState: Sendable {
    var stats = AnalysisStats()
    var clock = Timestamp.distantPast
    var ticks = SecondTicks()
    var tickCount = 0

    /// Counts a packet: its place in the input, and whether a whole second began with it.
    mutating func take(time: Timestamp, originalLength: Int) -> (InputPoint, Bool) {
        stats.packets += 1
        stats.bytes = stats.bytes.addingSaturated(max(originalLength, 0))
        if stats.firstPacket == nil || time < stats.firstPacket! { stats.firstPacket = time }
        if stats.lastPacket == nil || time > stats.lastPacket! { stats.lastPacket = time }
        if time > clock { clock = time } else if time < clock { stats.timeWentBackwards += 1 }
        let tick = ticks.crosses(clock)
        if tick { tickCount += 1 }
        return (InputPoint(seq: stats.packets, clock: clock), tick)
    }
}

/// The worker of a frame: by its two addresses (and VLAN), unordered, so that both directions, every
/// flow between two hosts and every fragment of their datagrams meet in one worker. Seeded per run:
/// an attacker choosing addresses cannot aim traffic at one worker (and would only slow it: results
/// do not depend on which worker sees what).
struct Sharding: Sendable {
    let workers: Int
    private let seed = Hasher()
    /// Tests choose the worker of an address pair (to put a lookup and its connection apart).
    let assign: (@Sendable (IPAddress, IPAddress) -> Int)?

    init(workers: Int, assign: (@Sendable (IPAddress, IPAddress) -> Int)?) { self.workers = workers; self.assign = assign }

    func worker(for decoded: DecodeOutcome) -> Int {
        guard workers > 1 else { return 0 }
        let a: IPAddress, b: IPAddress, vlan: UInt16
        switch decoded {
        case .packet(let p): (a, b, vlan) = (p.src, p.dst, p.vlanID)
        case .fragment(let f): (a, b, vlan) = (f.key.src, f.key.dst, f.key.vlanID)
        default: return 0
        }
        if let assign { return min(max(assign(a, b), 0), workers - 1) }
        var h = seed
        if a < b { h.combine(a); h.combine(b) } else { h.combine(b); h.combine(a) }
        h.combine(vlan)
        return Int(UInt(bitPattern: h.finalize()) % UInt(workers))
    }
}

/// A mapped file every worker walks (`ParallelAnalysis.read`), from the reader's state.
struct ScanJob: Sendable {
    var path: String
    var snapshot: Int
    var linkType: LinkType
    var state: ReaderState
}

/// Where a worker's walk of a mapped file has got to: the clock of the record it is on (nanoseconds;
/// `Int64.max` when it is not walking).
final class ScanProgress: Sendable {
    let next = Atomic<Int64>(.max)
    private let rest = DispatchSemaphore(value: 0)
    func nap() { _ = rest.wait(timeout: .now() + .microseconds(20)) }
}
