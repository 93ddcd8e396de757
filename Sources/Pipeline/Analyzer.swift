import Detection
import PacketDecoding
import PoolIntel
import SafeNumbers
import StreamReassembly
import Stratum

/// Counters for a whole run.
public struct AnalysisStats: Sendable {
    public var packets = 0
    public var bytes = 0
    public var nonIPPackets = 0
    public var malformedPackets = 0
    public var fragmentsReassembled = 0
    public var anomalies = AnomalyCounters()
    public var reassembly = ReassemblyStats()
    public var stratumSessions = 0
    public var dnsMessages = 0
    public var tlsHandshakes = 0
    public var httpFlows = 0
    public var webSocketFlows = 0
    public var peerFlows = 0
    /// Mining sessions to allow-listed pools, not counted against their miners.
    public var allowedSessions = 0
    public var nameCacheEvictions = 0
    public var evidenceDropped = 0
    /// Packets stamped earlier than a packet before them (analysed at the later time).
    public var timeWentBackwards = 0
    public var firstPacket: Timestamp?
    public var lastPacket: Timestamp?
    public init() {}

    /// Adds another worker's counters (peaks are the caller's: a sum of peaks is not a peak).
    public mutating func merge(_ o: AnalysisStats) {
        packets += o.packets; bytes = bytes.addingSaturated(o.bytes)
        nonIPPackets += o.nonIPPackets; malformedPackets += o.malformedPackets
        fragmentsReassembled += o.fragmentsReassembled
        anomalies.merge(o.anomalies)
        reassembly.merge(o.reassembly)
        stratumSessions += o.stratumSessions; dnsMessages += o.dnsMessages; tlsHandshakes += o.tlsHandshakes
        httpFlows += o.httpFlows; webSocketFlows += o.webSocketFlows; peerFlows += o.peerFlows
        allowedSessions += o.allowedSessions
        evidenceDropped += o.evidenceDropped
        timeWentBackwards += o.timeWentBackwards
        if let f = o.firstPacket, firstPacket.map({ f < $0 }) ?? true { firstPacket = f }
        if let l = o.lastPacket, lastPacket.map({ l > $0 }) ?? true { lastPacket = l }
    }
}

/// Whole seconds of packet time: where the flow count is sampled (`FlowTable.samplePeak`) and every
/// worker expires its idle flows — the same points in the input for one worker or many.
public struct SecondTicks: Sendable {
    private var last = Int64.min
    public init() {}
    /// Whether `clock` is in a later whole second than the previous tick.
    public mutating func crosses(_ clock: Timestamp) -> Bool {
        let second = clock.nanoseconds >= 0 ? clock.nanoseconds / 1_000_000_000 : (clock.nanoseconds + 1) / 1_000_000_000 - 1
        guard second > last else { return false }
        last = second
        return true
    }
}

/// The analysis pipeline: frame → decoding → (fragments) → flows and
/// reassembly → Stratum decoder → per-host verdicts. One code path for files
/// and live capture: the caller feeds frames with their packet time.
///
/// Alone, an analyzer numbers packets, keeps the clock and learns DNS answers itself (`process(time:…)`);
/// as one of several workers (`ParallelAnalysis`), the reader does those for every worker and hands
/// each packet over with its place in the input (`process(at:…)`, `tick`, `finishPart(at:)`).
public final class Analyzer {
    public let limits: Limits
    private var fragments: FragmentReassembler
    private var table: FlowTable<Dispatcher>
    private var dispatcher: Dispatcher
    private var lastFragmentSweep = Timestamp.distantPast
    /// The analysis clock: the latest packet time seen. It never moves backwards (README "Time").
    private var clock = Timestamp.distantPast
    private var ticks = SecondTicks()
    private var stats = AnalysisStats()

    /// Which hosts are ours (`--local-net`); nil reports every host.
    public let localNets: AddressSet?

    /// - Parameters:
    ///   - intel: pool and allow lists (the built-in list by default).
    ///   - localNets: when given, reports centre on hosts inside these blocks.
    ///   - names: the name memory, shared when several workers analyse one input.
    ///   - onEvent: called synchronously as detections happen (in packet order).
    public init(limits: Limits = Limits(), intel: PoolIntelligence = PoolIntelligence(), localNets: AddressSet? = nil,
                policy: ScoringPolicy = ScoringPolicy(), names: NameMemory? = nil, shared: SharedVerdicts? = nil, worker: Int = 0,
                onEvent: ((AnalysisEvent) -> Void)? = nil) {
        self.limits = limits
        self.localNets = localNets
        fragments = FragmentReassembler(limits: limits.fragments)
        table = FlowTable(limits: limits.reassembly)
        let memory = names ?? NameMemory(capacity: limits.maxNameCacheEntries, delay: limits.learnedNameDelay)
        dispatcher = Dispatcher(sink: Sink(limits: limits, intel: intel, policy: policy, names: memory, onEvent: onEvent))
        dispatcher.sink.shared = shared
        dispatcher.sink.worker = worker
    }

    /// Processes one captured frame (a single analyzer: it numbers packets and learns DNS answers itself).
    /// - Complexity: amortised O(1) for bypassed and in-order traffic; allocates nothing
    ///   on the fast path except when a flow is created or data must be buffered.
    public func process(time packetTime: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int) {
        // A packet stamped earlier than one already seen (merged captures, a clock step, a forged
        // pcapng offset) is analysed at the clock's time: flows never see time run backwards, so a
        // stray old timestamp cannot expire every flow at once or make a session end before it began.
        if packetTime > clock { clock = packetTime } else if packetTime < clock { stats.timeWentBackwards += 1 }
        if ticks.crosses(clock) { tick(time: clock) }
        let point = InputPoint(seq: stats.packets + 1, clock: clock)
        let decoded = PacketDecoder.decode(link: linkType, frame: frame)
        if Self.mayBeDNS(decoded) { learnDNSAtOnce(decoded, in: frame, at: point) }
        handle(decoded, frame: frame, at: point, originalLength: originalLength, packetTime: packetTime)
    }

    /// Processes one frame the reader numbered and learned from (a worker of `ParallelAnalysis`).
    public func process(at point: InputPoint, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int) {
        if point.clock > clock { clock = point.clock }
        handle(PacketDecoder.decode(link: linkType, frame: frame), frame: frame, at: point, originalLength: originalLength,
               packetTime: point.clock)
    }

    /// The names an unfragmented UDP DNS answer gives, learned before any flow sees the packet
    /// (`NameMemory`); the reader of `ParallelAnalysis` calls this for every worker.
    public static func learnDNSAtOnce(_ decoded: DecodeOutcome, in frame: UnsafeRawBufferPointer, at point: InputPoint,
                                      intel: PoolIntelligence, limits: Limits, names: NameMemory) {
        guard case .packet(let p) = decoded else { return }
        learnDNSAtOnce(p, in: frame, at: point, intel: intel, limits: limits, names: names)
    }

    private static func learnDNSAtOnce(_ p: DecodedPacket, in frame: UnsafeRawBufferPointer, at point: InputPoint,
                                       intel: PoolIntelligence, limits: Limits, names: NameMemory) {
        guard case .udp(let sp, let dp) = p.transport, sp == 53 || dp == 53, !p.payload.isEmpty,
              p.payload.upperBound <= frame.count else { return }
        DNSAnalyzer.learnAtOnce(UnsafeRawBufferPointer(rebasing: frame[p.payload]), intel: intel, limits: limits, names: names, at: point)
    }

    /// A UDP datagram to or from port 53: the only packets `learnDNSAtOnce` looks at (checked first,
    /// so that the other 99 % do not even pass the lists along).
    @inline(__always)
    public static func mayBeDNS(_ decoded: DecodeOutcome) -> Bool {
        guard case .packet(let p) = decoded, case .udp(let sp, let dp) = p.transport else { return false }
        return sp == 53 || dp == 53
    }

    private func learnDNSAtOnce(_ decoded: DecodeOutcome, in frame: UnsafeRawBufferPointer, at point: InputPoint) {
        let sink = dispatcher.sink
        Self.learnDNSAtOnce(decoded, in: frame, at: point, intel: sink.intel, limits: limits, names: sink.names)
    }

    private func handle(_ decoded: DecodeOutcome, frame: UnsafeRawBufferPointer, at point: InputPoint, originalLength: Int,
                        packetTime: Timestamp) {
        stats.packets += 1
        stats.bytes = stats.bytes.addingSaturated(max(originalLength, 0))
        if stats.firstPacket == nil || packetTime < stats.firstPacket! { stats.firstPacket = packetTime }
        if stats.lastPacket == nil || packetTime > stats.lastPacket! { stats.lastPacket = packetTime }
        let time = clock
        dispatcher.sink.point = point
        switch decoded {
        case .packet(let p):
            table.process(p, in: frame, time: time, seq: point.seq, handler: &dispatcher)
        case .fragment(let f):
            if time.since(lastFragmentSweep) > 1 {
                fragments.expire(now: time)
                lastFragmentSweep = time
            }
            guard let whole = fragments.add(f, in: frame, now: time) else { return }
            stats.fragmentsReassembled += 1
            dispatcher.sink.reassembledDatagram = true
            defer { dispatcher.sink.reassembledDatagram = false }
            whole.withUnsafeBytes { buf in
                let k = f.key
                switch PacketDecoder.decodeTransport(ByteView(buf), range: 0..<buf.count, proto: k.ipProtocol,
                                                     src: k.src, dst: k.dst, vlanID: k.vlanID, truncated: false) {
                case .packet(let p): table.process(p, in: buf, time: time, seq: point.seq, handler: &dispatcher)
                case .malformed(let a): stats.anomalies.record(a); stats.malformedPackets += 1
                default: break
                }
            }
        case .notIP:
            stats.nonIPPackets += 1
        case .malformed(let a):
            stats.anomalies.record(a)
            stats.malformedPackets += 1
        }
    }

    /// Swaps in reloaded pool and allow lists (SIGHUP); flows already judged keep their verdicts.
    public func replaceIntel(_ intel: PoolIntelligence) { dispatcher.sink.intel = intel }

    /// Advances the clock without a packet (a live link gone quiet; a worker at a whole second),
    /// expiring idle flows, and samples the flow count.
    public func tick(time: Timestamp) {
        if time > clock { clock = time }
        table.advance(to: clock, handler: &dispatcher)
        table.samplePeak()
        fragments.expire(now: clock)
    }

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
    public func finishPart(at end: Timestamp) -> AnalysisPart {
        tick(time: end)
        table.finishAll(handler: &dispatcher)
        let part = AnalysisPart(verdicts: dispatcher.sink.verdicts, stats: statistics, hostsSeen: dispatcher.sink.hostsSeen)
        _ = dispatcher.sink.verdicts.drainRetired()   // the part has them now: stored once
        return part
    }

    /// Every host seen in a TCP/UDP flow that has ended (all flows, after `finish()`).
    public var hostsSeen: [IPAddress: HostSeen] {
        guard let nets = localNets else { return dispatcher.sink.hostsSeen }
        return dispatcher.sink.hostsSeen.filter { nets.match($0.key) != nil }
    }

    /// With a store attached, sessions retired from memory are kept for it until drained.
    public var collectRetiredSessions: Bool {
        get { dispatcher.sink.verdicts.collectRetired }
        set { dispatcher.sink.verdicts.collectRetired = newValue }
    }

    /// Sessions retired from memory since the last call: store them (each reaches the store once).
    public func drainRetiredSessions() -> [SessionRecord] { dispatcher.sink.verdicts.drainRetired() }

    /// Reports for the hosts whose evidence changed since the last call, open flows included: what a
    /// live sensor commits and alerts on every few seconds. Only the flows that saw packets since the
    /// last call, and the open flows of the hosts they touch, are looked at (the table keeps a list of
    /// the former and the sink an index of the latter once this is first called), so a commit does
    /// not walk every flow on the thread that reads packets — unless more flows came and went within
    /// one period than the table holds (a flood), when one walk over the table is cheaper.
    /// - Complexity: O(flows touched since the last call + open flows of their hosts) plus judging those hosts.
    public func snapshotChanges() -> [HostReport] {
        let sink = dispatcher.sink
        let first = sink.openFlows == nil
        if first {
            // The first call: from now on the table lists touched flows and the sink indexes open ones.
            var index = OpenFlows()
            table.forEachFlow { index.add($0) }
            sink.openFlows = index
            table.tracksTouched = true
        }
        var hosts = sink.verdicts.takeChanged()
        let touched = table.takeTouched()
        if let touched, !first {
            for flow in touched { hosts.insert(flow.key.low.address); hosts.insert(flow.key.high.address) }
        } else {
            table.forEachFlow { flow in hosts.insert(flow.key.low.address); hosts.insert(flow.key.high.address) }
        }
        guard !hosts.isEmpty else { return [] }
        var verdicts = sink.verdicts.subset(hosts)
        var seen = Set<ObjectIdentifier>()
        for host in hosts {
            for flow in sink.openFlows?.flows(of: host) ?? [:].values where flow.app != nil && seen.insert(ObjectIdentifier(flow)).inserted {
                let found = dispatcher.findings(flow, reason: "open", final: false)
                for r in found.sessions where sink.admits(r, asOf: InputPoint(seq: flow.lastSeq, clock: flow.lastSeen)) { verdicts.add(r) }
                for e in found.evidence where sink.admits(e) { verdicts.add(e) }
            }
        }
        return verdicts.reports(localNets: localNets).filter { hosts.contains($0.host) }
    }


    /// A live worker's part of a commit (`SharedVerdicts`): what the flows that saw packets since the
    /// last call show so far goes to the shared table, which the committing thread judges from.
    /// - Complexity: O(flows touched since the last call).
    public func publishOpenFindings() {
        let sink = dispatcher.sink
        guard let shared = sink.shared else { return }
        var flows: [FlowState<FlowApp>] = []
        if !table.tracksTouched {
            table.tracksTouched = true
            table.forEachFlow { flows.append($0) }
        } else if let touched = table.takeTouched() {
            flows = touched
        } else {
            table.forEachFlow { flows.append($0) }
        }
        for flow in flows where flow.app != nil && (flow.app.analyzer != nil || flow.app.hint != nil || flow.app.published) {
            let found = dispatcher.findings(flow, reason: "open", final: false)
            let asOf = InputPoint(seq: flow.lastSeq, clock: flow.lastSeen)
            var sessions: [SessionRecord] = [], evidence: [Evidence] = []
            for var r in found.sessions where sink.admits(r, asOf: asOf) { r.origin = flow.firstSeq; sessions.append(r) }
            for var e in found.evidence where sink.admits(e) { e.origin = flow.firstSeq; evidence.append(e) }
            guard !sessions.isEmpty || !evidence.isEmpty || flow.app.published else { continue }
            shared.publish(SharedVerdicts.FlowID(worker: sink.worker, origin: flow.firstSeq),
                           hosts: [flow.key.low.address, flow.key.high.address], sessions: sessions, evidence: evidence)
            flow.app.published = !sessions.isEmpty || !evidence.isEmpty
        }
    }

    /// Whether the host table holds `host` now.
    public func holds(_ host: IPAddress) -> Bool { dispatcher.sink.verdicts.holds(host) }

    /// Host reports from sessions that have ended so far (open flows not included).
    public var currentReports: [HostReport] { dispatcher.sink.verdicts.reports(localNets: localNets) }

    public var statistics: AnalysisStats {
        var s = stats
        s.reassembly = table.stats
        s.anomalies.merge(fragments.anomalies)
        s.anomalies.merge(dispatcher.sink.anomalies)
        let sink = dispatcher.sink
        s.stratumSessions = sink.verdicts.sessionCount
        s.dnsMessages = sink.dnsMessages
        s.tlsHandshakes = sink.tlsHandshakes
        s.httpFlows = sink.httpFlows
        s.webSocketFlows = sink.webSocketFlows
        s.peerFlows = sink.peerFlows
        s.allowedSessions = sink.allowedSessions
        s.nameCacheEvictions = sink.names.evictions
        s.evidenceDropped = sink.verdicts.evidenceDropped
        s.anomalies.record(.evidenceCap, count: sink.verdicts.evidenceDropped)
        s.anomalies.record(.hostTableFull, count: sink.verdicts.hostsDropped)
        s.anomalies.record(.hostEvicted, count: sink.verdicts.hostsEvicted)
        s.anomalies.record(.sessionNotStored, count: sink.verdicts.retiredLost)
        s.anomalies.record(.timeWentBackwards, count: stats.timeWentBackwards)
        s.anomalies.record(.decoderMemoryCap, count: table.stats.decoderMemoryCapHits)
        s.anomalies.record(.reassemblyMemoryCap, count: table.stats.reassemblyMemoryCapHits)
        s.anomalies.record(.tcpOverlapConflict, count: table.stats.overlapConflicts)
        return s
    }
}


/// What one analyzer (one worker) found: merged with the other workers' parts, the same as one
/// analyzer would have found alone (README "Workers").
public struct AnalysisPart: Sendable {
    public var verdicts: HostVerdicts
    public var stats: AnalysisStats
    public var hostsSeen: [IPAddress: HostSeen]

    public init(verdicts: HostVerdicts, stats: AnalysisStats, hostsSeen: [IPAddress: HostSeen]) {
        self.verdicts = verdicts; self.stats = stats; self.hostsSeen = hostsSeen
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

    public func reports(localNets: AddressSet?) -> [HostReport] { verdicts.reports(localNets: localNets) }

    /// Every host seen in a TCP/UDP flow, within `localNets` when given.
    public func hosts(localNets: AddressSet?) -> [IPAddress: HostSeen] {
        guard let nets = localNets else { return hostsSeen }
        return hostsSeen.filter { nets.match($0.key) != nil }
    }
}

/// When a host was first and last seen in a flow.
public struct HostSeen: Sendable, Equatable {
    public var first: Timestamp
    public var last: Timestamp
    public init(first: Timestamp, last: Timestamp) { self.first = first; self.last = last }
}
