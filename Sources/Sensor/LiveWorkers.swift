import Detection
import Dispatch
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Reporting
import Synchronization

/// What `live` runs: one capture thread (`LiveLoop`) or several (`LiveWorkers`). The caller commits,
/// alerts and reports from it once a second, whichever it is.
public protocol LiveSensor: AnyObject {
    /// Captures until `shouldStop` says so, calling `everySecond` about once a second on the thread
    /// that commits; throws when a capture handle fails.
    func run(shouldStop: () -> Bool, everySecond: (Timestamp) -> Void) throws(CaptureError)
    /// Reports for the hosts whose evidence changed since the last call, open flows included.
    func snapshotChanges() -> [HostReport]
    /// Hosts the next snapshot judges again though their evidence did not change (a probe answered).
    func rejudge(_ hosts: Set<IPAddress>)
    func holds(_ host: IPAddress) -> Bool
    var statistics: AnalysisStats { get }
    func drainRetiredSessions() -> [SessionRecord]
    /// Reloaded pool and allow lists.
    func replaceIntel(_ intel: PoolIntelligence)
    /// Capture counters in total (and per worker with several).
    func captureSummary() -> CaptureSummary
    func captureByInterface() -> [(interface: String, worker: Int, stats: CaptureStatistics)]
    var workers: Int { get }
    /// Capture workers that stopped ticking (a thread stuck).
    func stalled(at now: Timestamp) -> [Int]
    /// Stops capturing; every open flow ended: the final reports and counters.
    func finish() -> (reports: [HostReport], stats: AnalysisStats)
}

/// `live --workers N` (docs/architecture.md "Workers"): N capture threads. Each opens its own libpcap handle on
/// every interface, joined in one PACKET_FANOUT group per interface (hash mode with defragmentation:
/// the kernel sends both directions of a flow, and every fragment of a datagram, to one handle), and
/// runs its own `PacketPipeline` over them (`LiveLoop`). The workers share the name memory (a DNS answer seen
/// by one names the flow another sees) and one host table (`SharedVerdicts`), which the caller's
/// thread commits and alerts from. Memory caps are split between the workers.
public final class LiveWorkers: LiveSensor {
    public let count: Int
    public var workers: Int { count }
    public let interfaces: [String]
    private let shared: SharedVerdicts
    private let localNets: AddressSet?
    private let stopping = Flag()
    private let opened = DispatchSemaphore(value: 0)
    private let go = DispatchSemaphore(value: 0)
    private let group = DispatchGroup()
    private let reports: Locked<[WorkerState]>
    private let intel: Locked<(generation: Int, intel: PoolIntelligence)>
    private let failure = Locked<CaptureError?>(nil)

    /// What each worker last published (once a second) and, at the end, its part.
    struct WorkerState: Sendable {
        var stats = AnalysisStats()
        var capture: [CaptureStatistics] = []
        var part: AnalysisPart?
        /// When the worker last published (once a second while it captures).
        var published = Timestamp.distantPast
    }

    /// How a worker opens its source on one interface (its fan-out group and buffer share already in
    /// the options): a libpcap handle unless the caller brings another capture method.
    public typealias OpenSource =
        @Sendable (_ interface: String, _ options: LiveCapture.Options) throws(CaptureError) ->
        any PacketSource

    /// Opens every worker's handles (as the caller: root, before privileges are dropped) and waits for
    /// `start()`. Throws the first handle that could not be opened, with every thread ended.
    public init(
        interfaces: [String], options: LiveCapture.Options, workers: Int, limits: Limits, intel: PoolIntelligence,
        localNets: AddressSet?, policy: ScoringPolicy = ScoringPolicy(), collectRetired: Bool,
        open openSource: @escaping OpenSource = { name, options throws(CaptureError) in
            try LiveCapture(interface: name, options: options)
        },
        onEvent: (@Sendable (AnalysisEvent) -> Void)?
    ) throws(CaptureError) {
        let n = max(1, workers)
        count = n
        self.interfaces = interfaces
        self.localNets = localNets
        shared = SharedVerdicts(policy: policy, limits: limits.hosts)
        shared.collectRetired = collectRetired
        reports = Locked(Array(repeating: WorkerState(), count: n))
        self.intel = Locked((0, intel))
        let names = NameMemory(
            capacity: limits.maxNameCacheEntries, delay: limits.learnedNameDelay, inInputOrder: false)
        let share = limits.share(of: n)
        // One group per interface, numbered from the process id so that two sensors on one box do not
        // join each other's groups.
        let base = Int(OS.processID) &* 7
        for w in 0..<n {
            let shared = shared
            let stopping = stopping
            let opened = opened
            let go = go
            let reports = reports
            let lists = self.intel
            let failure = failure
            group.enter()
            let thread = Thread { [group] in
                defer { group.leave() }
                var captures: [any PacketSource] = []
                do throws(CaptureError) {
                    for (i, name) in interfaces.enumerated() {
                        var o = options
                        o.fanoutGroup = UInt16(truncatingIfNeeded: base &+ i)
                        // The kernel buffer asked for is the interface's: the workers' rings share it.
                        o.bufferSize = options.bufferSize.map { max($0 / n, 1 << 20) }
                        captures.append(try openSource(name, o))
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    opened.signal()
                    return
                }
                opened.signal()
                go.wait()
                guard !stopping.isSet else { return }
                var generation = 0
                let analyzer = PacketPipeline(
                    limits: share, intel: intel, localNets: localNets, policy: policy, names: names,
                    shared: shared, worker: w, onEvent: onEvent)
                let loop = LiveLoop(captures: captures, analyzer: analyzer)
                func publish() {
                    let stats = analyzer.statistics
                    let capture = captures.map { $0.statistics() }
                    let now = WallTime.now()
                    reports.withLock {
                        $0[w].stats = stats
                        $0[w].capture = capture
                        $0[w].published = now
                    }
                }
                do throws(CaptureError) {
                    try loop.run(shouldStop: { stopping.isSet }) { _ in
                        let (g, latest) = lists.withLock { ($0.generation, $0.intel) }
                        if g != generation {
                            analyzer.replaceIntel(latest)
                            generation = g
                        }
                        analyzer.publishOpenFindings()
                        publish()
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    stopping.set()
                }
                publish()
                let part = analyzer.finishPart(at: max(analyzer.clockNow, WallTime.now()))
                reports.withLock { $0[w].part = part }
            }
            thread.name = "capture-\(w)"
            thread.start()
        }
        for _ in 0..<n { opened.wait() }
        if let error = failure.withLock({ $0 }) {
            stopping.set()
            for _ in 0..<n { go.signal() }
            group.wait()
            throw error
        }
    }

    /// Lets the workers capture (they opened their handles at `init`, before privileges were dropped)
    /// and commits from this thread once a second until `shouldStop`.
    public func run(shouldStop: () -> Bool, everySecond: (Timestamp) -> Void) throws(CaptureError) {
        for _ in 0..<count { go.signal() }
        var next = WallTime.now().adding(seconds: 1)
        while !shouldStop() && !stopping.isSet {
            let now = WallTime.now()
            if now >= next {
                everySecond(now)
                next = now.adding(seconds: 1)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        // A worker whose handle failed stopped them all: say which.
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Hands reloaded lists to every worker (each takes them at its next second).
    public func replaceIntel(_ intel: PoolIntelligence) { self.intel.withLock { $0 = ($0.generation + 1, intel) } }

    public func snapshotChanges() -> [HostReport] { shared.snapshotChanges(localNets: localNets) }
    public func rejudge(_ hosts: Set<IPAddress>) { shared.rejudge(hosts) }

    public func holds(_ host: IPAddress) -> Bool { shared.holds(host) }

    public func drainRetiredSessions() -> [SessionRecord] { shared.drainRetiredSessions() }

    /// The workers' counters as of their last second, summed.
    public var statistics: AnalysisStats { summed { $0.stats } }

    /// The workers' counters (`pick`: their latest, or their final part's), summed; the host table's
    /// counts in place of the workers' own (empty) tables. A sum of peaks is not a peak: live workers
    /// have no shared samples, so `peakFlows` is an upper bound.
    private func summed(_ pick: (WorkerState) -> AnalysisStats) -> AnalysisStats {
        let states = reports.withLock { $0 }
        var s = AnalysisStats()
        for w in states { s.merge(pick(w)) }
        s.reassembly.peakFlows = states.reduce(0) { $0 + pick($1).reassembly.peakFlows }
        shared.count(into: &s)
        return s
    }

    /// Capture counters in total and per worker (summed over its interfaces).
    public func captureSummary() -> CaptureSummary {
        let per = reports.withLock { $0.map { $0.capture.reduce(CaptureStatistics(), +) } }
        return CaptureSummary(interfaces: interfaces, stats: per.reduce(CaptureStatistics(), +), perWorker: per)
    }

    /// Capture counters per interface and worker (metrics).
    public func captureByInterface() -> [(interface: String, worker: Int, stats: CaptureStatistics)] {
        let states = reports.withLock { $0 }
        return states.enumerated().flatMap { w, s in zip(interfaces, s.capture).map { ($0, w, $1) } }
    }

    /// Workers that have not published for 10 s (a capture thread stuck).
    public func stalled(at now: Timestamp) -> [Int] {
        reports.withLock { $0.enumerated().filter { now.since($0.element.published) > 10 }.map(\.offset) }
    }

    /// Stops every worker, waits for them to end their flows, and returns the run's reports and counters.
    public func finish() -> (reports: [HostReport], stats: AnalysisStats) {
        stopping.set()
        group.wait()
        return (shared.reports(localNets: localNets), summed { $0.part?.stats ?? $0.stats })
    }
}

/// A flag set once, read from any thread.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
