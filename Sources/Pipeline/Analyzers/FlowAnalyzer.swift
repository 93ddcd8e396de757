import Detection
import PacketDecoding
import PoolIntel
import Stratum
import StreamReassembly

/// One protocol's decoder for one flow: the contract every protocol module implements, in the
/// spirit of Zeek's analyzer API (deliver stream, undelivered/gap, end of data) and Suricata's
/// app-layer registration (probe and parse side by side in one table, `AnalyzerTable`).
///
/// The `Dispatcher` offers a TCP flow's first payload to the table's probes in order; the first
/// analyzer that claims the flow then receives its in-order bytes per direction, its gaps and its
/// ends, and answers each with a decision. When the flow ends (or a live snapshot looks at it) the
/// analyzer says what it found: mining sessions and evidence.
protocol FlowAnalyzer: AnyObject, SendableMetatype {
    /// Claims a TCP flow from its first payload (sent by `direction`). Cheap: every new flow is
    /// offered to every analyzer listed before the one that takes it. Pure: it only answers "is it
    /// mine" — what the run counts about a claimed flow belongs in `claimed`.
    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe

    /// This analyzer took the flow: count it (once per claim). Default: nothing to count.
    func claimed(flow: FlowContext)

    /// Counts in the run's summary (`ProtocolCounter`), listed so the summary shows them at zero too.
    static var counters: [ProtocolCounter] { get }

    /// In-order bytes of one direction, borrowed for the call.
    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision

    /// `count` bytes of one direction were never seen (capture loss, a cap, a mid-stream pickup).
    /// Default: bypass — a binary framing cannot find its place again.
    func gap(_ count: Int, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision

    /// One direction ended (FIN, RST, eviction, expiry). Default: nothing to do.
    func end(direction: FlowDirection, flow: FlowContext)

    /// Bytes held in buffers, charged to the global decoder budget (`Limits`).
    var bufferedBytes: Int { get }

    /// The decoder budget ran out while this flow held some of it: free the buffers. Return false
    /// to keep decoding (an identified miner is never dropped), true to be bypassed.
    func shed() -> Bool

    /// What the flow has shown so far. `final`: the flow is ending — count its anomalies and
    /// remember its names; a snapshot of a flow still open (`final` false) changes nothing.
    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings
}

extension FlowAnalyzer {
    func gap(_ count: Int, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision { .bypass }
    func end(direction: FlowDirection, flow: FlowContext) {}
    func claimed(flow: FlowContext) {}
    static var counters: [ProtocolCounter] { [] }
    var bufferedBytes: Int { 0 }
    func shed() -> Bool { true }
}

/// A probe's answer.
enum Probe {
    /// This analyzer takes the flow.
    case mine(any FlowAnalyzer)
    /// Not this protocol: ask the next analyzer in the table.
    case notMine
    /// Cannot tell yet (e.g. only whitespace so far): ask again with the next payload.
    case needMoreData
}

/// An analyzer's answer to what it was given.
enum AnalyzerDecision {
    /// Keep delivering.
    case keep
    /// Nothing more to decode: later packets cost a table lookup; the analyzer keeps what it learned
    /// and is asked for its findings when the flow ends.
    case bypass
    /// Nothing more to decode and nothing to report: the analyzer is freed at once (an ordinary
    /// TLS or web flow keeps only its counters).
    case done
    /// Hand-over: the rest of the stream is a fresh stream to the tunnel's target (a proxy granted
    /// a CONNECT). The table probes it anew, its server known by the target's name; `pending` are
    /// bytes already received past the hand-over point, delivered first, in order.
    case tunnel(Tunnel, pending: [(FlowDirection, [UInt8])])
}

/// A stream carried through a proxy: how, and to where the client asked to go.
final class Tunnel {
    let route: ProxyRoute
    /// The target's address when the request gave one instead of a name.
    let address: IPAddress?
    let port: UInt16
    let host: String

    init(route: ProxyRoute, host: String, address: IPAddress?, port: UInt16) {
        self.route = route
        self.host = host
        self.address = address
        self.port = port
    }

    /// Proxies in the chain so far.
    var hops: Int { route.kind.split(separator: ">").count }
    /// Longest chain followed: each hop is one handshake a client chose to nest.
    static let maxHops = 4

    /// What the target is known as: a listed name in the request, else what the name cache or the
    /// address lists say about its address.
    func hint(_ shared: RunState, asOf point: InputPoint, at now: InputPoint) -> PoolHint? {
        let via = NameSource.thisFlowsProxyRequest(route.kind)
        if address == nil, let m = shared.intel.pool(named: host) { return PoolHint(name: host, match: m, via: via) }
        if let address { return shared.hint(for: Endpoint(address: address, port: port), asOf: point, at: now) }
        return nil
    }
}

/// What an analyzer found in one flow.
struct Findings {
    var sessions: [SessionRecord] = []
    var evidence: [Evidence] = []
    /// The last session was recognised as mining while it ran: its end is an event (`session_end`).
    var identifiedSession = false
}

/// A flow as its analyzer sees it: the flow's key, timing and counters, and the state shared by
/// every flow (lists, name cache, counters, event stream).
struct FlowContext {
    let flow: FlowState<FlowApp>
    let shared: RunState
    /// Analysis time of the packet being delivered (the flow's last packet at its end).
    let time: Timestamp
    /// The packet the pipeline is processing — later than `point` when the flow ends after its last
    /// packet: name lookups are made there (`NameMemory.lookup`).
    let progress: InputPoint

    var key: FlowKey { flow.key }
    /// The pool name or listed address the server was known by when the flow began.
    var hint: PoolHint? { flow.app.hint }
    /// What the server came to be known as after the flow began (a name learned meanwhile: a live
    /// worker that took the DNS answer in after this flow's first packet). A last resort.
    var laterHint: PoolHint? { flow.app.laterHint }
    var limits: Limits { shared.limits }
    /// The packet being delivered (the flow's latest; its last at the end): names learned now are
    /// stamped with it, tunnels look names up as of it.
    var point: InputPoint { InputPoint(seq: flow.lastSeq, clock: time) }
    /// The flow, by its first packet's position (stamped on what it gives: `RunState.add`).
    var origin: Int { flow.firstSeq }

    /// Records evidence this flow gave (see `RunState.add(_:at:origin:)`).
    func add(_ e: Evidence) { shared.add(e, at: point, origin: origin) }

    /// Remembers a name this flow told for `address` (see `RunState.remember`).
    func remember(_ address: IPAddress, name: String, match: PoolMatch? = nil, source: NameSource, ttl: Double) {
        shared.remember(address, name: name, match: match, source: source, ttl: ttl, at: point)
    }

    /// The session as a record: which side mined, with the flow's times and byte counts.
    func record(_ summary: StratumSummary, reason: SessionEndReason) -> SessionRecord? {
        guard let minerSide = summary.minerSide else { return nil }
        let minerDir: FlowDirection = minerSide == .a ? .lowToHigh : .highToLow
        let miner = flow.key.source(minerDir)
        let pool = flow.key.destination(minerDir)
        let minerBytes = minerDir == .lowToHigh ? flow.bytes.0 : flow.bytes.1
        let poolBytes = minerDir == .lowToHigh ? flow.bytes.1 : flow.bytes.0
        var r = SessionRecord(
            miner: miner.address, minerPort: miner.port, pool: pool.address, poolPort: pool.port,
            vlanID: flow.key.vlanID, summary: summary, flowFirstSeen: flow.firstSeen,
            flowLastSeen: flow.lastSeen, minerBytes: minerBytes, poolBytes: poolBytes, endReason: reason)
        if let t = flow.app.tunnel {
            r.proxy = t.route
            if !r.summary.poolHostnames.contains(t.host) { r.summary.poolHostnames.insert(t.host, at: 0) }
        }
        return r
    }

    /// Puts what the network said about the pool's name on a decoded session: the name the server
    /// was known by (`hint`, else one the flow itself gave), or a listed name the session revealed.
    func annotate(_ r: inout SessionRecord, hint start: PoolHint?) {
        var hint = start
        if let n = hint?.name, !r.summary.poolHostnames.contains(n) { r.summary.poolHostnames.insert(n, at: 0) }
        if hint == nil {
            for n in r.summary.poolHostnames {
                if let m = shared.intel.pool(named: HTTPAnalyzer.hostOnly(n)) {
                    hint = PoolHint(name: n, match: m, via: .session)
                    break
                }
            }
        }
        if hint == nil, let later = laterHint {
            hint = later
            if let n = later.name, !r.summary.poolHostnames.contains(n) { r.summary.poolHostnames.append(n) }
        }
        r.poolList = hint?.match
    }

    /// Releases a session's pending events (identified, logins, shares, reconnects) to the event stream.
    func publish(_ session: inout StratumSession, transport: SessionTransport) {
        guard let onEvent = shared.onEvent, session.hasEvents else { return }
        let events = session.drainEvents()
        guard var record = record(session.summary, reason: .open) else { return }
        record.transport = transport
        for e in events {
            let kind: AnalysisEvent.Kind =
                switch e {
                case .sessionIdentified: .sessionIdentified
                case .login(let ok, let user): .login(accepted: ok, user: user)
                case .share(let ok, _): .share(accepted: ok)
                case .reconnect(let host): .reconnect(host: host)
                }
            onEvent(
                AnalysisEvent(
                    time: time, kind: kind, session: record, policy: shared.verdicts.policy, seq: point.seq))
        }
    }

    /// Counts a finished session's decoder anomalies (once, when its flow ends).
    func recordAnomalies(of s: StratumSession) {
        let a = shared
        if s.overlongLines > 0 { a.anomalies.record(.stratumLineTooLong, count: s.overlongLines) }
        if s.validMessages > 0 && s.badLines > 0 { a.anomalies.record(.stratumBadJSON, count: s.badLines) }
        if s.summary.roleConflict { a.anomalies.record(.stratumRoleConflict) }
        if s.implausibleNumbers > 0 { a.anomalies.record(.stratumImplausibleNumber, count: s.implausibleNumbers) }
    }

    /// Evidence about the flow as a whole, from `client`'s side: who talked to which server, for
    /// how long, how much — the kind says what made it evidence.
    func evidence(
        _ kind: Evidence.Kind, client: FlowDirection, hint: PoolHint?, name: String? = nil,
        details: EvidenceDetails = EvidenceDetails(), software: MinerCatalog.Software? = nil
    ) -> Evidence {
        let me = flow.key.source(client)
        let server = flow.key.destination(client)
        var e = Evidence(
            kind: kind, host: me.address, peer: server.address, peerPort: server.port,
            name: hint?.name ?? name, pool: hint?.match, first: flow.firstSeen, last: flow.lastSeen)
        e.hostPort = me.port
        e.transport = flow.key.ipProtocol.rawValue
        let lowIsClient = client == .lowToHigh
        e.packetsOut = lowIsClient ? flow.packets.0 : flow.packets.1
        e.packetsIn = lowIsClient ? flow.packets.1 : flow.packets.0
        e.bytesOut = lowIsClient ? flow.bytes.0 : flow.bytes.1
        e.bytesIn = lowIsClient ? flow.bytes.1 : flow.bytes.0
        e.software = software?.display
        e.coin = hint?.match.entry.singleCoin ?? software?.typicalCoins.first
        var details = details
        if let h = hint, h.via != .thisFlowsSNI { details.nameFrom = h.via }
        if let t = flow.app.tunnel { details.proxy = t.route }
        e.details = details
        return e
    }

    /// A TCP connection to a server known as a listed pool, with nothing decodable in it.
    func connectionToPool() -> [Evidence] {
        guard let hint = hint ?? laterHint, flow.isTCP else { return [] }
        return [evidence(.connectionToPool, client: flow.initiator, hint: hint)]
    }
}
