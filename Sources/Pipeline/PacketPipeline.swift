import Detection
import PacketDecoding
import PoolIntel
import SafeNumbers
import Stratum
import StreamReassembly

/// The reader's step, in one place for one analyzer and for the reader of several workers: every
/// packet counted and numbered, the clock kept (it never moves backwards: docs/hostile-input.md "Time"), and whether
/// a whole second of packet time began with it.
struct InputCount: Sendable {
    /// Packets, bytes, first and last packet times, times that went backwards.
    private(set) var stats = AnalysisStats()
    private(set) var clock = Timestamp.distantPast
    private var ticks = SecondTicks()
    /// Samples so far (whole seconds, and the end).
    private(set) var samples = 0

    mutating func take(time: Timestamp, originalLength: Int) -> (point: InputPoint, second: Bool) {
        stats.packets += 1
        stats.bytes = stats.bytes.addingSaturated(max(originalLength, 0))
        if stats.firstPacket == nil || time < stats.firstPacket! { stats.firstPacket = time }
        if stats.lastPacket == nil || time > stats.lastPacket! { stats.lastPacket = time }
        // A packet stamped earlier than one already seen (merged captures, a clock step, a forged
        // pcapng offset) is analysed at the clock's time: flows never see time run backwards, so a
        // stray old timestamp cannot expire every flow at once or make a session end before it began.
        if time > clock { clock = time } else if time < clock { stats.timeWentBackwards += 1 }
        let second = ticks.crosses(clock)
        if second { samples += 1 }
        return (InputPoint(seq: stats.packets, clock: clock), second)
    }

    /// The clock moved on without a packet (a live link gone quiet): a packet stamped before it is
    /// then analysed at the clock's time and counted as going backwards, as any other.
    mutating func advance(to time: Timestamp) { if time > clock { clock = time } }

    /// The end of input: the last sample's number.
    mutating func end() -> Int {
        samples += 1
        return samples
    }

    /// These counts in `s` (they are the reader's, whatever the workers counted).
    func apply(to s: inout AnalysisStats) {
        s.packets = stats.packets
        s.bytes = stats.bytes
        s.firstPacket = stats.firstPacket
        s.lastPacket = stats.lastPacket
        s.timeWentBackwards = stats.timeWentBackwards
    }
}

/// The analysis pipeline: frame → decoding → (fragments) → flows and
/// reassembly → Stratum decoder → per-host verdicts. One code path for files
/// and live capture: the caller feeds frames with their packet time.
///
/// Alone, an analyzer numbers packets, keeps the clock and learns DNS answers itself (`process(time:…)`);
/// the shards of `ParallelAnalysis` are bare `PacketPath`s held by their worker (`ShardGroup`), to which
/// the reader, having done those for every shard, hands each packet with its place in the input.
public final class PacketPipeline {
    public let limits: Limits
    /// Everything a packet touches, as one value: reached once per call (a batch), so the packet
    /// loop inside touches no class-held state (no dynamic exclusivity checks per packet).
    private var path: PacketPath

    /// Which hosts are ours (`--local-net`); nil reports every host.
    public let localNets: AddressSet?

    /// Changed hosts a live snapshot left for the next (more than `maxReportsPerSnapshot` changed).
    private var deferredHosts: Set<IPAddress> = []

    /// - Parameters:
    ///   - intel: pool and allow lists (the built-in list by default).
    ///   - localNets: when given, reports centre on hosts inside these blocks.
    ///   - names: the name memory, shared when several workers analyse one input.
    ///   - onEvent: called synchronously as detections happen (in packet order).
    public init(
        limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(), localNets: AddressSet? = nil,
        policy: ScoringPolicy = ScoringPolicy(), names: NameMemory? = nil, shared: SharedVerdicts? = nil,
        worker: Int = 0,
        onEvent: ((AnalysisEvent) -> Void)? = nil
    ) {
        self.limits = limits
        self.localNets = localNets
        let memory =
            names
            ?? NameMemory(
                capacity: limits.maxNameCacheEntries, delay: limits.learnedNameDelay,
                delayPackets: limits.learnedNamePackets)
        path = PacketPath(limits: limits, intel: intel, policy: policy, names: memory, onEvent: onEvent)
        path.dispatcher.runState.shared = shared
        path.dispatcher.runState.worker = worker
    }

    private var table: FlowTable<Dispatcher> {
        get { path.table }
        _modify { yield &path.table }
    }
    private var dispatcher: Dispatcher { path.dispatcher }
    private var clock: Timestamp { path.clock }

    /// Processes one captured frame (a single analyzer: it numbers packets and learns DNS answers itself).
    /// - Complexity: amortised O(1) for bypassed and in-order traffic; allocates nothing
    ///   on the fast path except when a flow is created or data must be buffered.
    public func process(
        time packetTime: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int
    ) {
        path.read(
            CapturedPacket(timestamp: packetTime, linkType: linkType, bytes: frame, originalLength: originalLength))
        path.flush()
    }

    /// Processes frames in order, exactly as `process(time:…)` one by one would — but with the flow
    /// table's memory fetched ahead (`PacketPath.process(batch:)`).
    public func process(batch: UnsafeBufferPointer<CapturedPacket>) { path.process(batch: batch) }

    /// Processes the frames taken so far, in order.
    public func flush() { path.flush() }

    /// Swaps in reloaded pool and allow lists (SIGHUP); flows already judged keep their verdicts.
    public func replaceIntel(_ intel: PoolIntelligence) { path.replaceIntel(intel) }

    /// Advances the clock without a packet (a live link gone quiet; a worker at a whole second),
    /// expiring idle flows, and samples the flow count.
    public func tick(time: Timestamp) { path.tick(time: time) }

    /// The analysis clock (the latest packet time).
    public var clockNow: Timestamp { clock }

    /// Flows open now (a worker's share of a sample, `ParallelAnalysis`).
    public var openFlows: Int { table.count }

    /// Ends the run: flushes every open flow into the verdicts and returns them.
    public func finish() -> [HostReport] {
        finishPart(at: clock).reports(localNets: localNets)
    }

    /// Ends the run at `end` (the input's last clock): what this analyzer found, to be merged with
    /// other workers' parts. Flows idle by then expire as idle first, as they would have alone.
    public func finishPart(at end: Timestamp) -> AnalysisPart { path.finishPart(at: end) }

    /// Every host seen in a TCP/UDP flow that has ended (all flows, after `finish()`).
    public var hostsSeen: [IPAddress: HostSeen] {
        guard let nets = localNets else { return dispatcher.runState.hostsSeen }
        return dispatcher.runState.hostsSeen.filter { nets.match($0.key) != nil }
    }

    /// With a store attached, sessions retired from memory are kept for it until drained.
    public var collectRetiredSessions: Bool {
        get { dispatcher.runState.verdicts.collectRetired }
        set { dispatcher.runState.verdicts.collectRetired = newValue }
    }

    /// Sessions retired from memory since the last call: store them (each reaches the store once).
    public func drainRetiredSessions() -> [SessionRecord] { dispatcher.runState.verdicts.drainRetired() }

    /// Reports for the hosts whose evidence changed since the last call, open flows included: what a
    /// live sensor commits and alerts on every few seconds. Only the flows that saw packets since the
    /// last call, and the open flows of the hosts they touch, are looked at (the table keeps a list of
    /// the former and the run state an index of the latter once this is first called), so a commit does
    /// not walk every flow on the thread that reads packets — unless more flows came and went within
    /// one period than the table holds (a flood), when one walk over the table is cheaper.
    /// - Complexity: O(flows touched since the last call + open flows of their hosts) plus judging those hosts.
    public func snapshotChanges() -> [HostReport] {
        let runState = dispatcher.runState
        if runState.openFlows == nil {
            // The first call: from now on the run state indexes open flows (and `touchedFlows` starts the
            // table's list of touched ones, returning every flow this once).
            var index = OpenFlows()
            table.forEachFlow { index.add($0) }
            runState.openFlows = index
        }
        var hosts = runState.verdicts.takeChanged().union(deferredHosts)
        for flow in touchedFlows() {
            hosts.insert(flow.key.low.address)
            hosts.insert(flow.key.high.address)
        }
        guard !hosts.isEmpty else {
            deferredHosts = []
            return []
        }
        let (reports, deferred) = HostVerdicts.mostSerious(
            hosts, limit: runState.verdicts.limits.maxReportsPerSnapshot,
            maxBytes: runState.verdicts.limits.maxSnapshotBytes
        ) {
            part in
            var verdicts = runState.verdicts.subset(Set(part))
            var seen = Set<ObjectIdentifier>()
            for host in part {
                for flow in runState.openFlows?.flows(of: host) ?? [:].values
                where flow.app != nil && seen.insert(ObjectIdentifier(flow)).inserted {
                    let found = openFindings(flow)
                    for r in found.sessions { verdicts.add(r) }
                    for e in found.evidence { verdicts.add(e) }
                }
            }
            let asked = Set(part)
            return verdicts.reports(localNets: localNets).filter { asked.contains($0.host) }
        }
        deferredHosts = Set(deferred)
        return reports
    }

    /// Hosts the next snapshot judges again though their evidence did not change (a probe answered).
    public func rejudge(_ hosts: Set<IPAddress>) { deferredHosts.formUnion(hosts) }

    /// A live worker's part of a commit (`SharedVerdicts`): what the flows that saw packets since the
    /// last call show so far goes to the shared table, which the committing thread judges from.
    /// - Complexity: O(flows touched since the last call).
    public func publishOpenFindings() {
        let runState = dispatcher.runState
        guard let shared = runState.shared else { return }
        // `removed`: making room for one flow's copy may have ended another of the list.
        for flow in touchedFlows()
        where !flow.removed && flow.app != nil
            && (flow.app.analyzer != nil || flow.app.hint != nil || flow.app.published)
        {
            let (sessions, evidence) = openFindings(flow)
            guard !sessions.isEmpty || !evidence.isEmpty || flow.app.published else { continue }
            shared.publish(
                SharedVerdicts.FlowID(worker: runState.worker, origin: flow.firstSeq),
                hosts: [flow.key.low.address, flow.key.high.address], sessions: sessions, evidence: evidence)
            flow.app.published = !sessions.isEmpty || !evidence.isEmpty
            // The published copy is this flow's memory too: charged to the decoder budget like its
            // analyzer, which may end idle flows (or shed this one) to make room.
            flow.app.publishedBytes = SharedVerdicts.OpenFindings.cost(sessions: sessions, evidence: evidence)
            path.recharge(flow)
        }
    }

    /// The flows that saw packets since the last call; every flow on the first call (which starts the
    /// table's list) and when more came and went than the table holds.
    private func touchedFlows() -> [FlowState<FlowApp>] {
        if table.tracksTouched, let touched = table.takeTouched() { return touched }
        table.tracksTouched = true
        var flows: [FlowState<FlowApp>] = []
        table.forEachFlow { flows.append($0) }
        return flows
    }

    /// What an open flow shows so far that the allow list lets count, stamped with the flow's place.
    private func openFindings(_ flow: FlowState<FlowApp>) -> (sessions: [SessionRecord], evidence: [Evidence]) {
        let runState = dispatcher.runState
        let found = dispatcher.findings(flow, reason: .open, final: false)
        let asOf = InputPoint(seq: flow.lastSeq, clock: flow.lastSeen)
        var sessions: [SessionRecord] = []
        var evidence: [Evidence] = []
        for var r in found.sessions where runState.admits(r, asOf: asOf, at: path.dispatcher.progress) {
            r.origin = flow.firstSeq
            sessions.append(r)
        }
        for var e in found.evidence where runState.admits(e) {
            e.origin = flow.firstSeq
            evidence.append(e)
        }
        return (sessions, evidence)
    }

    /// Whether `host` is tracked now: held by the host table, or with flows still open (a miner whose
    /// session is still going has no ended session in the table yet, but is mining all the same —
    /// the `stratumsniff_hosts` gauge counted only the former and said 1 miner where alerts said 3).
    public func holds(_ host: IPAddress) -> Bool {
        let runState = dispatcher.runState
        return runState.verdicts.holds(host) || runState.openFlows?.flows(of: host)?.isEmpty == false
    }

    /// Host reports from sessions that have ended so far (open flows not included).
    public var currentReports: [HostReport] { dispatcher.runState.verdicts.reports(localNets: localNets) }

    public var statistics: AnalysisStats { path.statistics }
}

/// What one analyzer (one worker) found: merged with the other workers' parts, the same as one
/// analyzer would have found alone (docs/architecture.md "Workers").
public struct AnalysisPart: Sendable {
    public var verdicts: HostVerdicts
    public var stats: AnalysisStats
    public var hostsSeen: [IPAddress: HostSeen]

    public init(verdicts: HostVerdicts, stats: AnalysisStats, hostsSeen: [IPAddress: HostSeen]) {
        self.verdicts = verdicts
        self.stats = stats
        self.hostsSeen = hostsSeen
    }

    /// Takes in another worker's part (counters summed; the reader's own counts are set by the caller).
    public mutating func merge(_ o: AnalysisPart, maxHostsSeen: Int) {
        verdicts.merge(o.verdicts)
        stats.merge(o.stats)
        for host in o.hostsSeen.keys.sorted() {
            let t = o.hostsSeen[host]!
            if let u = hostsSeen[host] {
                hostsSeen[host] = HostSeen(first: min(t.first, u.first), last: max(t.last, u.last))
            } else if hostsSeen.count < maxHostsSeen {
                hostsSeen[host] = t
            }
        }
    }

    public func reports(localNets: AddressSet?, unflagged: Bool = false) -> [HostReport] {
        verdicts.reports(localNets: localNets, unflagged: unflagged)
    }

    /// Every host seen in a TCP/UDP flow, within `localNets` when given.
    public func hosts(localNets: AddressSet?) -> [IPAddress: HostSeen] {
        guard let nets = localNets else { return hostsSeen }
        return hostsSeen.filter { nets.match($0.key) != nil }
    }
}

/// When a host was first and last seen in a flow (made only here; read by reports).
public struct HostSeen: Sendable, Equatable {
    public var first: Timestamp
    public var last: Timestamp
}
