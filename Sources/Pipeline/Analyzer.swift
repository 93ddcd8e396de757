import Detection
import PacketDecoding
import StreamReassembly
import Stratum

/// Something that happened during analysis, for event streams (JSONL).
public struct AnalysisEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        case sessionIdentified
        case login(accepted: Bool, user: String?)
        case share(accepted: Bool)
        case reconnect(host: String)
        case sessionEnded(reason: String)
    }
    public var time: Timestamp
    public var kind: Kind
    public var session: SessionRecord
}

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
    public var firstPacket: Timestamp?
    public var lastPacket: Timestamp?
}

/// The analysis pipeline: frame → decoding → (fragments) → flows and
/// reassembly → Stratum decoder → per-host verdicts. One code path for files
/// and, later, live capture: the caller feeds frames with their packet time.
public final class Analyzer {
    public let limits: Limits
    private var fragments: FragmentReassembler
    private var table: FlowTable<Dispatcher>
    private var dispatcher: Dispatcher
    private var lastFragmentSweep = Timestamp.zero
    private var stats = AnalysisStats()

    /// - Parameter onEvent: called synchronously as detections happen (in packet order).
    public init(limits: Limits = Limits(), onEvent: ((AnalysisEvent) -> Void)? = nil) {
        self.limits = limits
        fragments = FragmentReassembler(limits: limits.fragments)
        table = FlowTable(limits: limits.reassembly)
        dispatcher = Dispatcher(sink: Sink(limits: limits.stratum, onEvent: onEvent))
    }

    /// Processes one captured frame.
    /// - Complexity: amortised O(1) for bypassed and in-order traffic; allocates nothing
    ///   on the fast path except when a flow is created or data must be buffered.
    public func process(time: Timestamp, linkType: LinkType, frame: UnsafeRawBufferPointer, originalLength: Int) {
        stats.packets += 1
        stats.bytes += originalLength
        if stats.firstPacket == nil || time < stats.firstPacket! { stats.firstPacket = time }
        if stats.lastPacket == nil || time > stats.lastPacket! { stats.lastPacket = time }
        switch PacketDecoder.decode(link: linkType, frame: frame) {
        case .packet(let p):
            table.process(p, in: frame, time: time, handler: &dispatcher)
        case .fragment(let f):
            if time.since(lastFragmentSweep) > 1 {
                fragments.expire(now: time)
                lastFragmentSweep = time
            }
            guard let whole = fragments.add(f, in: frame, now: time) else { return }
            stats.fragmentsReassembled += 1
            whole.withUnsafeBytes { buf in
                let k = f.key
                switch PacketDecoder.decodeTransport(ByteView(buf), range: 0..<buf.count, proto: k.ipProtocol,
                                                     src: k.src, dst: k.dst, vlanID: k.vlanID, truncated: false) {
                case .packet(let p): table.process(p, in: buf, time: time, handler: &dispatcher)
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

    /// Advances the clock without a packet (a live link gone quiet), expiring idle flows.
    public func tick(time: Timestamp) {
        table.advance(to: time, handler: &dispatcher)
        fragments.expire(now: time)
    }

    /// Ends the run: flushes every open flow into the verdicts and returns them.
    public func finish() -> [HostReport] {
        table.finishAll(handler: &dispatcher)
        return dispatcher.sink.verdicts.reports()
    }

    /// Every host seen in a TCP/UDP flow that has ended (all flows, after `finish()`).
    public var hostsSeen: Set<IPAddress> { dispatcher.sink.hostsSeen }

    /// Host reports from sessions that have ended so far (open flows not included).
    public var currentReports: [HostReport] { dispatcher.sink.verdicts.reports() }

    public var statistics: AnalysisStats {
        var s = stats
        s.reassembly = table.stats
        s.anomalies.merge(fragments.anomalies)
        s.anomalies.merge(dispatcher.sink.anomalies)
        s.stratumSessions = dispatcher.sink.verdicts.sessionCount
        return s
    }
}

/// Shared state the per-flow dispatcher writes into.
final class Sink {
    let limits: StratumLimits
    let onEvent: ((AnalysisEvent) -> Void)?
    var verdicts = HostVerdicts()
    var anomalies = AnomalyCounters()
    /// Every address seen in a flow, for `--all-hosts` (bounded: beyond the cap, new hosts are not listed).
    var hostsSeen = Set<IPAddress>()
    static let maxHostsSeen = 1 << 20
    init(limits: StratumLimits, onEvent: ((AnalysisEvent) -> Void)?) { self.limits = limits; self.onEvent = onEvent }
}

/// Per-flow decoder state.
struct FlowApp {
    var stratum: StratumSession?
    var overlongSeen = 0
}

/// Routes reassembled streams to the protocol decoders and their findings to detection.
struct Dispatcher: FlowHandler {
    let sink: Sink

    func startFlow(_ flow: FlowState<FlowApp>) -> FlowApp { FlowApp() }

    func deliver(_ event: StreamEvent, direction: FlowDirection, flow: FlowState<FlowApp>, time: Timestamp) -> StreamDecision {
        let side: Side = direction == .lowToHigh ? .a : .b
        switch event {
        case .data(let bytes):
            if flow.app.stratum == nil {
                // Without a SYN the stream starts mid-line: resynchronise at the first newline.
                let mid = !flow.sawSYN
                flow.app.stratum = StratumSession(limits: sink.limits, midStream: (mid, mid))
            }
            let keep = flow.app.stratum!.feed(bytes, from: side, time: time.nanoseconds)
            publish(flow, time: time)
            return keep ? .continue : .bypass
        case .gap:
            flow.app.stratum?.gap(from: side)
            return .continue
        case .datagram:
            return .bypass   // no UDP decoder yet (DNS arrives with the next decoders)
        case .end:
            return .continue
        }
    }

    func endFlow(_ flow: FlowState<FlowApp>, reason: FlowEndReason, time: Timestamp) {
        if sink.hostsSeen.count < Sink.maxHostsSeen {
            sink.hostsSeen.insert(flow.key.low.address)
            sink.hostsSeen.insert(flow.key.high.address)
        }
        guard let s = flow.app.stratum else { return }
        if s.overlongLines > 0 { sink.anomalies.record(.stratumLineTooLong, count: s.overlongLines) }
        if s.validMessages > 0 && s.badLines > 0 { sink.anomalies.record(.stratumBadJSON, count: s.badLines) }
        if s.summary.roleConflict { sink.anomalies.record(.stratumRoleConflict) }
        guard let record = Self.record(flow, s.summary, reason: reason.rawValue) else { return }
        sink.verdicts.add(record)
        if s.identified { sink.onEvent?(AnalysisEvent(time: time, kind: .sessionEnded(reason: reason.rawValue), session: record)) }
    }

    private func publish(_ flow: FlowState<FlowApp>, time: Timestamp) {
        guard let onEvent = sink.onEvent, flow.app.stratum!.hasEvents else { return }
        let events = flow.app.stratum!.drainEvents()
        guard let record = Self.record(flow, flow.app.stratum!.summary, reason: "open") else { return }
        for e in events {
            let kind: AnalysisEvent.Kind = switch e {
            case .sessionIdentified: .sessionIdentified
            case .login(let ok, let user): .login(accepted: ok, user: user)
            case .share(let ok, _): .share(accepted: ok)
            case .reconnect(let host): .reconnect(host: host)
            }
            onEvent(AnalysisEvent(time: time, kind: kind, session: record))
        }
    }

    static func record(_ flow: FlowState<FlowApp>, _ summary: StratumSummary, reason: String) -> SessionRecord? {
        guard let minerSide = summary.minerSide else { return nil }
        let minerDir: FlowDirection = minerSide == .a ? .lowToHigh : .highToLow
        let miner = flow.key.source(minerDir), pool = flow.key.destination(minerDir)
        let minerBytes = minerDir == .lowToHigh ? flow.bytes.0 : flow.bytes.1
        let poolBytes = minerDir == .lowToHigh ? flow.bytes.1 : flow.bytes.0
        return SessionRecord(miner: miner.address, minerPort: miner.port, pool: pool.address, poolPort: pool.port,
                             vlanID: flow.key.vlanID, summary: summary, flowFirstSeen: flow.firstSeen,
                             flowLastSeen: flow.lastSeen, minerBytes: minerBytes, poolBytes: poolBytes, endReason: reason)
    }
}
