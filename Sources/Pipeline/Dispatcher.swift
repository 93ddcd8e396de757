import CryptoP2P
import DNS
import Detection
import HTTP
import PacketDecoding
import PoolIntel
import StreamReassembly
import Stratum
import TLS

/// Shared state the per-flow dispatcher writes into.
final class Sink {
    let limits: Limits
    var intel: PoolIntelligence
    let onEvent: ((AnalysisEvent) -> Void)?
    var verdicts: HostVerdicts
    var anomalies = AnomalyCounters()
    var names: NameCache
    var dnsMessages = 0
    var tlsHandshakes = 0
    var httpFlows = 0
    var webSocketFlows = 0
    var peerFlows = 0
    /// Mining sessions not counted because the allow list covers their pool (sanctioned mining).
    var allowedSessions = 0
    /// Every address seen in a flow, for `--all-hosts` (bounded: beyond the cap, new hosts are not listed).
    var hostsSeen: [IPAddress: (first: Timestamp, last: Timestamp)] = [:]

    /// Remembers that `host` was seen from `first` to `last` (bounded: beyond the cap, new hosts are not listed).
    func saw(_ host: IPAddress, from first: Timestamp, to last: Timestamp) {
        if let t = hostsSeen[host] {
            hostsSeen[host] = (min(t.first, first), max(t.last, last))
        } else if hostsSeen.count < limits.maxHostsSeen {
            hostsSeen[host] = (first, last)
        }
    }

    init(limits: Limits, intel: PoolIntelligence, policy: ScoringPolicy, onEvent: ((AnalysisEvent) -> Void)?) {
        self.limits = limits
        self.intel = intel
        self.onEvent = onEvent
        verdicts = HostVerdicts(policy: policy, limits: limits.hosts)
        names = NameCache(capacity: limits.maxNameCacheEntries)
    }

    /// Records evidence unless the allow list covers either end. The event stream gets the first
    /// of each record and then repeats 2, 4, 8 … (powers of two): a flood of identical lookups
    /// cannot turn into a flood of events, and a refused host (table full) none at all.
    func add(_ e: Evidence) {
        guard admits(e) else { return }
        let published = switch verdicts.add(e) {
        case .new: true
        case .merged(let n): n & (n - 1) == 0
        case .refused: false
        }
        if published { onEvent?(AnalysisEvent(time: e.last, kind: .evidence(e), session: nil)) }
    }

    func add(_ r: SessionRecord) {
        if admits(r) { verdicts.add(r) } else { allowedSessions += 1 }
    }

    func admits(_ e: Evidence) -> Bool {
        if intel.isAllowed(e.host) || e.peer.map({ intel.isAllowed($0, port: e.peerPort) }) == true { return false }
        if let n = e.name, intel.isAllowed(name: n) { return false }
        return true
    }

    /// A session whose pool the allow list covers — by address, by a name the session or its flow
    /// gave (Stratum host names, HTTP Host), or by the name a DNS answer, SNI or Host gave the address
    /// — is sanctioned mining: not counted against its miner (README "Pool intelligence").
    func admits(_ r: SessionRecord) -> Bool {
        if intel.isAllowed(r.miner) || intel.isAllowed(r.pool, port: r.poolPort) { return false }
        if r.summary.poolHostnames.contains(where: { intel.isAllowed(name: Dispatcher.hostOnly($0)) }) { return false }
        if !names.isEmpty, let e = names.lookup(r.pool, now: r.flowLastSeen), e.match == nil { return false }
        return true
    }

    /// Remembers that `address` goes by `name`, if the name is a listed pool.
    /// An allow-listed name is remembered too (without a match), so that sessions to its addresses
    /// are known to be sanctioned.
    func remember(_ address: IPAddress, name: String, match: PoolMatch? = nil, source: String, ttl: Double, now: Timestamp) {
        if intel.isAllowed(name: name) {
            names.insert(address, name: name, match: nil, source: source, ttl: ttl, now: now)
            return
        }
        guard let m = match ?? intel.pool(named: name) else { return }
        names.insert(address, name: name, match: m, source: source, ttl: ttl, now: now)
    }

    /// What the server of a new flow is known as, if that is a listed pool.
    func hint(for server: Endpoint, now: Timestamp) -> PoolHint? {
        if !names.isEmpty, let e = names.lookup(server.address, now: now) {
            // An allow-listed name wins over the address lists too.
            guard let m = e.match else { return nil }
            return PoolHint(name: e.name, match: m, via: e.source)
        }
        if let m = intel.pool(at: server.address, port: server.port) {
            return PoolHint(name: nil, match: m, via: "address list")
        }
        return nil
    }
}

/// Per-flow decoder state.
struct FlowApp {
    var mode = FlowMode.undecided
    /// Boxed: a StratumSession is ~520 bytes and most flows never have one; inline, every one of
    /// 131 072 flows would carry it (68 MB under a SYN flood). `_modify` mutates it in place.
    private var stratumBox: StratumBox?
    var hint: PoolHint?
    var overlongSeen = 0
    /// Packets of the flow when the last incremental snapshot looked at it.
    var snapshotPackets = 0

    var stratum: StratumSession? {
        // Borrowed in place (no copy of the ~520-byte session and its arrays on every read).
        _read {
            if let b = stratumBox { yield b.session } else { yield nil }
        }
        set {
            if let newValue { if let b = stratumBox { b.session = newValue } else { stratumBox = StratumBox(newValue) } }
            else { stratumBox = nil }
        }
        _modify {
            if stratumBox == nil { stratumBox = StratumBox(nil) }
            yield &stratumBox!.session
            if stratumBox!.session == nil { stratumBox = nil }
        }
    }
}

final class StratumBox {
    var session: StratumSession?
    init(_ s: StratumSession?) { session = s }
}

/// Routes reassembled streams to the protocol decoders and their findings to detection.
///
/// The first payload of a TCP flow picks the decoder with cheap probes (TLS record header,
/// HTTP method, SV2 SetupConnection, P2P magic, '{' for JSON-RPC); a flow nothing wants is
/// bypassed at once and costs one table lookup per packet from then on. Bypassed flows keep
/// their packet and byte counters, which is what encrypted-session evidence is built from.
struct Dispatcher: FlowHandler {
    let sink: Sink

    func startFlow(_ flow: FlowState<FlowApp>) -> FlowApp {
        var app = FlowApp()
        app.hint = sink.hint(for: flow.key.destination(flow.initiator), now: flow.firstSeen)
        return app
    }

    func deliver(_ event: StreamEvent, direction: FlowDirection, flow: FlowState<FlowApp>, time: Timestamp) -> StreamDecision {
        switch event {
        case .data(let bytes):
            if case .undecided = flow.app.mode { flow.app.mode = probe(bytes, direction, flow) }
            return feed(bytes, direction, flow, time)
        case .gap:
            let side: Side = direction == .lowToHigh ? .a : .b
            switch flow.app.mode {
            case .stratum: flow.app.stratum?.gap(from: side)
            case .undecided: break
            default: return .bypass   // binary framings cannot resynchronise after a gap
            }
            return .continue
        case .datagram(let bytes):
            return datagram(bytes, direction, flow, time)
        case .end:
            if case .http(let h) = flow.app.mode {
                var p = direction == .lowToHigh ? h.parsers.0 : h.parsers.1
                p.end { _ in }
                if direction == .lowToHigh { h.parsers.0 = p } else { h.parsers.1 = p }
            }
            return .continue
        }
    }

    // MARK: - Memory budget

    /// A decoded Stratum session's own state (session, summary, pending requests) in the budget.
    static let sessionCharge = 1024

    func bufferedBytes(_ flow: FlowState<FlowApp>) -> Int {
        var n = flow.app.stratum.map { $0.bufferedBytes + Self.sessionCharge } ?? 0
        switch flow.app.mode {
        case .tls(let t): n += t.bufferedBytes
        case .http(let h): n += h.bufferedBytes
        case .stratumV2(let s): n += s.session.bufferedBytes
        case .dnsTCP(let d): n += d.framers.0.bufferedBytes + d.framers.1.bufferedBytes
        case .undecided, .stratum, .peer, .noiseShape, .opaque: break
        }
        return n
    }

    /// The decoder budget ran out while this flow held some of it. An identified mining session
    /// keeps being decoded (only its partial lines are dropped, as after a gap): the sensor is never
    /// blinded to a miner it has found. Anything else is freed and bypassed; what it revealed stays.
    func shed(_ flow: FlowState<FlowApp>) -> Bool {
        flow.app.stratum?.gap(from: .a)
        flow.app.stratum?.gap(from: .b)
        if flow.app.stratum?.identified == true { return false }
        switch flow.app.mode {
        case .tls(let t): t.release()
        case .http(let h): h.release()
        case .stratumV2(let s): s.session.shed()
        case .dnsTCP(let d): d.framers = (DNSTCPFramer(), DNSTCPFramer())
        case .undecided, .stratum, .peer, .noiseShape, .opaque: break
        }
        return true
    }

    // MARK: - Probing

    private func probe(_ b: UnsafeRawBufferPointer, _ dir: FlowDirection, _ flow: FlowState<FlowApp>) -> FlowMode {
        if TLSProbe.looksLikeHandshake(b) { sink.tlsHandshakes += 1; return .tls(TLSFlow()) }
        if HTTPProbe.looksLikeRequest(b) { sink.httpFlows += 1; return .http(HTTPFlow(requestDirection: dir, limits: sink.limits.http)) }
        if HTTPProbe.looksLikeResponse(b) { sink.httpFlows += 1; return .http(HTTPFlow(requestDirection: dir.reversed, limits: sink.limits.http)) }
        if StratumV2Session.probe(b) { return .stratumV2(StratumV2Flow()) }
        if PeerFlow.recognise(b) != nil { sink.peerFlows += 1; return .peer(PeerFlow()) }
        if flow.key.low.port == 53 || flow.key.high.port == 53 { return .dnsTCP(DNSTCPFlow()) }
        // A stream seen from its SYN that starts with anything but JSON is not JSON-RPC.
        // Without the SYN we may be mid-line, so Stratum gets to resynchronise at a newline.
        if flow.sawSYN {
            guard let first = b.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return .undecided }
            if first != UInt8(ascii: "{") {
                if dir == flow.initiator && StratumV2Session.looksLikeNoiseHello(b.count) { return .noiseShape }
                return .opaque
            }
        }
        return .stratum
    }

    // MARK: - Streams

    private func feed(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection, _ flow: FlowState<FlowApp>, _ time: Timestamp) -> StreamDecision {
        let side: Side = dir == .lowToHigh ? .a : .b
        switch flow.app.mode {
        case .undecided:
            return .continue
        case .stratum:
            if flow.app.stratum == nil {
                // Without a SYN the stream starts mid-line: resynchronise at the first newline.
                let mid = !flow.sawSYN
                flow.app.stratum = StratumSession(limits: sink.limits.stratum, midStream: (mid, mid))
            }
            let keep = flow.app.stratum!.feed(bytes, from: side, time: time.nanoseconds)
            publish(flow, time: time, transport: "tcp")
            return keep ? .continue : .bypass
        case .tls(let t):
            if t.feed(bytes, dir) { return .continue }
            handshakeDone(t, flow, time: time)
            return .bypass
        case .http(let h):
            h.feed(bytes, dir, time: time, stratum: &flow.app.stratum, limits: sink.limits.stratum)
            if flow.app.stratum != nil { publish(flow, time: time, transport: h.upgraded ? "websocket" : "http") }
            let decision = httpDecision(h, flow)
            if decision == .bypass { bypassHTTP(h, flow, time: time) }
            return decision
        case .stratumV2(let s):
            s.session.feed(bytes, from: side, time: time.nanoseconds)
            if s.session.invalid { sink.anomalies.record(.stratumV2Malformed); return .bypass }
            return .continue
        case .dnsTCP(let d):
            var f = dir == .lowToHigh ? d.framers.0 : d.framers.1
            f.feed(bytes) { msg in dnsMessage(msg, from: flow.key.source(dir), to: flow.key.destination(dir), time: time) }
            if dir == .lowToHigh { d.framers.0 = f } else { d.framers.1 = f }
            return .continue
        case .peer(let p):
            return p.feed(bytes, dir) ? .continue : .bypass
        case .noiseShape, .opaque:
            return .bypass
        }
    }

    /// The TLS handshake has told all it will. The SNI names the server for later flows;
    /// a flow whose names match no list keeps nothing but its counters (the TLS state is freed).
    private func handshakeDone(_ t: TLSFlow, _ flow: FlowState<FlowApp>, time: Timestamp) {
        if t.malformed { sink.anomalies.record(.tlsMalformed) }
        t.nameHint = tlsNameHint(t)
        rememberSNI(t, flow, time: time)
        if flow.app.hint == nil && t.nameHint == nil { flow.app.mode = .opaque }
        t.finished = true
    }

    /// The first of the handshake's names (SNI, then certificate) that a pool list names.
    private func tlsNameHint(_ t: TLSFlow) -> PoolHint? {
        for (i, n) in t.names.enumerated() {
            if let m = sink.intel.pool(named: n) {
                return PoolHint(name: n, match: m, via: i == 0 && t.hello?.serverName != nil ? "this flow's SNI" : "this flow's certificate")
            }
        }
        return nil
    }

    /// A listed SNI names the server's address for later flows (SNI-less, encrypted, other hosts).
    private func rememberSNI(_ t: TLSFlow, _ flow: FlowState<FlowApp>, time: Timestamp) {
        let server = flow.key.destination(t.clientDirection ?? flow.initiator)
        if let sni = t.hello?.serverName, sink.intel.isAllowed(name: sni) {
            sink.remember(server.address, name: sni, source: "an earlier flow's TLS SNI", ttl: sink.limits.learnedNameSeconds, now: time)
            return
        }
        guard let h = t.nameHint, h.via == "this flow's SNI", let name = h.name else { return }
        sink.remember(server.address, name: name, match: h.match, source: "an earlier flow's TLS SNI", ttl: sink.limits.learnedNameSeconds, now: time)
    }

    /// The listed pool an HTTP flow's Host header names, looked up once per flow.
    private func hostHint(_ h: HTTPFlow) -> PoolHint? {
        if !h.hostChecked, let host = h.host {
            h.hostChecked = true
            let bare = Self.hostOnly(host)
            h.hostHint = sink.intel.pool(named: bare).map { PoolHint(name: bare, match: $0, via: "HTTP Host") }
        }
        return h.hostHint
    }

    /// A listed Host names the server's address for later flows.
    private func rememberHost(_ h: HTTPFlow, _ flow: FlowState<FlowApp>, time: Timestamp) {
        let server = flow.key.destination(h.requestDirection)
        if let host = h.host, sink.intel.isAllowed(name: Self.hostOnly(host)) {
            sink.remember(server.address, name: Self.hostOnly(host), source: "an earlier flow's HTTP Host", ttl: sink.limits.learnedNameSeconds, now: time)
            return
        }
        guard let hint = hostHint(h), let name = hint.name else { return }
        sink.remember(server.address, name: name, match: hint.match, source: "an earlier flow's HTTP Host", ttl: sink.limits.learnedNameSeconds, now: time)
    }

    /// An HTTP flow judged ordinary: remember its Host for later flows, then keep only counters.
    private func bypassHTTP(_ h: HTTPFlow, _ flow: FlowState<FlowApp>, time: Timestamp) {
        rememberHost(h, flow, time: time)
        if h.malformed { sink.anomalies.record(h.upgraded ? .websocketMalformed : .httpMalformed) }
        h.finished = true
        let named = flow.app.hint != nil || hostHint(h) != nil
        if !h.interesting(flow.app.stratum, poolNamed: named) && (flow.app.stratum?.summary.shape ?? SessionShape.none) == .none {
            flow.app.mode = .opaque
        } else {
            h.release()
        }
    }

    private func httpDecision(_ h: HTTPFlow, _ flow: FlowState<FlowApp>) -> StreamDecision {
        if h.malformed { return .bypass }
        if h.upgraded {
            // A WebSocket with nothing mining-like after many messages is an ordinary one.
            let mining = (h.webMiner?.messages ?? 0) > 0 || flow.app.stratum.map { $0.summary.shape != .none } == true
            return !mining && h.wsMessages > 64 ? .bypass : .continue
        }
        let named = flow.app.hint != nil || hostHint(h) != nil
        // One complete request (or a response) with nothing mining-like: an ordinary web flow.
        // Everything a miner reveals is in its request (agent, JSON-RPC body, Upgrade, Host);
        // waiting for the response would cost every web flow two more packets through reassembly.
        if (h.requestsComplete >= 1 || h.responses >= 1) && !h.interesting(flow.app.stratum, poolNamed: named) { return .bypass }
        return h.requests > 64 && !h.interesting(flow.app.stratum, poolNamed: false) ? .bypass : .continue
    }

    /// "pool.example.com:3333" → "pool.example.com"; IPv6 literals in brackets are left alone.
    static func hostOnly(_ host: String) -> String {
        if host.hasPrefix("[") { return host }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    // MARK: - Datagrams

    private func datagram(_ b: UnsafeRawBufferPointer, _ dir: FlowDirection, _ flow: FlowState<FlowApp>, _ time: Timestamp) -> StreamDecision {
        let src = flow.key.source(dir), dst = flow.key.destination(dir)
        if src.port == 53 || dst.port == 53 {
            dnsMessage(b, from: src, to: dst, time: time)
            return .continue
        }
        if let h = PeerProtocols.discoveryV4(b) {
            var e = Evidence(kind: .peerToPeer, host: src.address, peer: dst.address, peerPort: dst.port, name: nil, pool: nil,
                             first: time, last: time)
            e.coin = h.network.rawValue
            e.details = [("message", h.message)]
            sink.peerFlows += 1
            sink.add(e)
        }
        return .bypass
    }

    /// One DNS message: pool-name questions become evidence against the asking host;
    /// answers fill the name cache so later connections are attributed to the name.
    private func dnsMessage(_ b: UnsafeRawBufferPointer, from src: Endpoint, to dst: Endpoint, time: Timestamp) {
        let msg: DNSMessage
        do { msg = try DNSParser.parse(b, limits: sink.limits.dns) } catch { sink.anomalies.record(.dnsMalformed); return }
        sink.dnsMessages += 1
        for q in msg.questions {
            // The name that matched a list: the question itself or a CNAME on the way.
            let aliases = msg.isResponse && msg.answers.contains(where: { $0.type == .cname }) ? msg.aliases(of: q.name) : []
            let addresses = msg.isResponse ? msg.addresses(for: q.name) : []
            if let allowed = ([q.name] + aliases).first(where: { sink.intel.isAllowed(name: $0) }) {
                for (address, ttl) in addresses { sink.remember(address, name: allowed, source: "a DNS answer", ttl: Double(ttl), now: time) }
                continue
            }
            guard let (name, match) = ([q.name] + aliases).lazy.compactMap({ n in sink.intel.pool(named: n).map { (n, $0) } }).first
            else { continue }
            for (address, ttl) in addresses {
                sink.remember(address, name: name, match: match, source: "a DNS answer", ttl: Double(ttl), now: time)
            }
            let asker = msg.isResponse ? dst : src, server = msg.isResponse ? src : dst
            var e = Evidence(kind: .dnsPoolLookup, host: asker.address, peer: server.address, peerPort: server.port,
                             name: name, pool: match, first: time, last: time)
            e.count = msg.isResponse ? 0 : 1   // a query and its answer are one lookup
            e.coin = match.entry.singleCoin
            if !addresses.isEmpty { e.details.append(("answers", addresses.prefix(8).map { $0.0.description }.joined(separator: ", "))) }
            sink.add(e)
        }
    }

    // MARK: - Flow end

    func endFlow(_ flow: FlowState<FlowApp>, reason: FlowEndReason, time: Timestamp) {
        sink.saw(flow.key.low.address, from: flow.firstSeen, to: flow.lastSeen)
        sink.saw(flow.key.high.address, from: flow.firstSeen, to: flow.lastSeen)
        let found = findings(flow, reason: reason.rawValue, final: true)
        for r in found.sessions { sink.add(r) }
        if let s = flow.app.stratum, s.identified, let r = found.sessions.last {
            // Stamped with the session's last packet, not the packet (or tick) that found it idle.
            sink.onEvent?(AnalysisEvent(time: flow.lastSeen, kind: .sessionEnded(reason: reason.rawValue), session: r))
        }
        for e in found.evidence { sink.add(e) }
    }

    /// What a flow has shown so far: its mining sessions, or else its other evidence.
    /// - Parameter final: the flow is ending — count its anomalies and remember its names.
    ///   A snapshot of a still-open flow (`final` false) changes nothing.
    func findings(_ flow: FlowState<FlowApp>, reason: String, final: Bool) -> (sessions: [SessionRecord], evidence: [Evidence]) {
        var sessions: [SessionRecord] = []
        var decodedSession = false
        var transport = "tcp"
        if case .http(let h) = flow.app.mode {
            transport = h.upgraded ? "websocket" : "http"
            if final {
                if h.malformed && !h.finished { sink.anomalies.record(h.upgraded ? .websocketMalformed : .httpMalformed) }
                if h.oversizedMessages > 0 { sink.anomalies.record(.websocketMessageTooLarge, count: h.oversizedMessages) }
                if h.upgraded { sink.webSocketFlows += 1 }
            }
            if let w = h.webMiner, w.summary.shape != .none, var r = Self.record(flow, w.summary, reason: reason) {
                r.transport = "websocket"
                annotate(&r, flow)
                sessions.append(r)
                decodedSession = true
            }
        }
        if let s = flow.app.stratum {
            if final {
                if s.overlongLines > 0 { sink.anomalies.record(.stratumLineTooLong, count: s.overlongLines) }
                if s.validMessages > 0 && s.badLines > 0 { sink.anomalies.record(.stratumBadJSON, count: s.badLines) }
                if s.summary.roleConflict { sink.anomalies.record(.stratumRoleConflict) }
                if s.implausibleNumbers > 0 { sink.anomalies.record(.stratumImplausibleNumber, count: s.implausibleNumbers) }
            }
            if var record = Self.record(flow, s.summary, reason: reason) {
                record.transport = transport
                annotate(&record, flow)
                sessions.append(record)
                decodedSession = decodedSession || record.summary.shape != .none
            }
        }
        if case .stratumV2(let v) = flow.app.mode, v.session.setupProtocol == 0,
           var record = Self.record(flow, v.session.summary, reason: reason) {
            annotate(&record, flow)
            sessions.append(record)
            decodedSession = true
        }
        return (sessions, decodedSession ? [] : flowEvidence(flow, final: final))
    }

    /// Evidence from a flow that carried no decodable mining session.
    private func flowEvidence(_ flow: FlowState<FlowApp>, final: Bool) -> [Evidence] {
        var out: [Evidence] = []
        let client = flow.initiator
        var hint = flow.app.hint
        var kind: Evidence.Kind?
        var details: [(String, String)] = []
        var software: MinerCatalog.Software?
        var clientDir = client
        switch flow.app.mode {
        case .tls(let t):
            if let d = t.clientDirection { clientDir = d }
            // A flow that ended mid-handshake never went through handshakeDone.
            let own = t.finished ? t.nameHint : tlsNameHint(t)
            if let own { hint = own }
            if final && !t.finished {
                t.nameHint = own
                rememberSNI(t, flow, time: flow.lastSeen)
                if t.malformed { sink.anomalies.record(.tlsMalformed) }
            }
            guard hint != nil else { return out }
            kind = .tlsToPool
            if let h = t.hello {
                if let s = h.serverName { details.append(("sni", s)) } else { details.append(("no_sni", "true")) }
                if !h.alpn.isEmpty { details.append(("alpn", h.alpn.joined(separator: ","))) }
                details.append(("ja3", h.ja3))
                details.append(("ja4", h.ja4))
            }
            if let sh = t.serverHello { details.append(("tls_version", sh.versionName)) }
            if let c = t.certificate, !t.names.isEmpty { details.append(("certificate_names", ([c.subjectCommonName].compactMap { $0 } + c.dnsNames).prefix(8).joined(separator: ", "))) }
        case .http(let h):
            clientDir = h.requestDirection
            if final { rememberHost(h, flow, time: flow.lastSeen) }
            if let own = hostHint(h) { hint = own }
            if let host = h.host { details.append(("http_host", host)) }
            if let r = h.firstRequest { details.append(("request", r)) }
            if let st = h.firstStatus { details.append(("response_status", String(st))) }
            if let ua = h.userAgent { details.append(("user_agent", ua)) }
            for m in h.miningHeaders { details.append(("mining_header", m)) }
            software = h.software
            if hint != nil { kind = h.upgraded ? .webSocketToPool : .httpToPool }
            else if h.software != nil || !h.miningHeaders.isEmpty { kind = .minerUserAgent }
            else { return out }
        case .noiseShape:
            guard hint != nil else { return out }   // weak evidence: never on its own
            kind = .stratumV2Encrypted
        case .opaque, .undecided, .stratum, .stratumV2, .dnsTCP:
            guard hint != nil, flow.isTCP else { return out }
            kind = .connectionToPool
        case .peer(let p):
            for (dir, h) in [(FlowDirection.lowToHigh, p.seen.0), (.highToLow, p.seen.1)] {
                guard let h else { continue }
                let me = flow.key.source(dir), other = flow.key.destination(dir)
                var e = Evidence(kind: .peerToPeer, host: me.address, peer: other.address, peerPort: other.port, name: nil,
                                 pool: nil, first: flow.firstSeen, last: flow.lastSeen)
                e.coin = h.network.rawValue
                e.software = h.userAgent
                e.details = [("message", h.message)]
                e.packetsOut = dir == .lowToHigh ? flow.packets.0 : flow.packets.1
                e.packetsIn = dir == .lowToHigh ? flow.packets.1 : flow.packets.0
                e.bytesOut = dir == .lowToHigh ? flow.bytes.0 : flow.bytes.1
                e.bytesIn = dir == .lowToHigh ? flow.bytes.1 : flow.bytes.0
                out.append(e)
            }
            return out
        }
        guard let kind else { return out }
        let me = flow.key.source(clientDir), server = flow.key.destination(clientDir)
        var e = Evidence(kind: kind, host: me.address, peer: server.address, peerPort: server.port,
                         name: hint?.name ?? (kind == .minerUserAgent ? details.first { $0.0 == "http_host" }.map { Self.hostOnly($0.1) } : nil),
                         pool: hint?.match, first: flow.firstSeen, last: flow.lastSeen)
        let lowIsClient = clientDir == .lowToHigh
        e.packetsOut = lowIsClient ? flow.packets.0 : flow.packets.1
        e.packetsIn = lowIsClient ? flow.packets.1 : flow.packets.0
        e.bytesOut = lowIsClient ? flow.bytes.0 : flow.bytes.1
        e.bytesIn = lowIsClient ? flow.bytes.1 : flow.bytes.0
        e.software = software?.display
        e.coin = hint?.match.entry.singleCoin ?? software?.typicalCoins.first
        if let h = hint, h.via != "this flow's SNI" { details.append(("name_from", h.via)) }
        e.details = details
        out.append(e)
        return out
    }

    /// Adds what the network told us about the pool's name to a decoded session.
    private func annotate(_ r: inout SessionRecord, _ flow: FlowState<FlowApp>) {
        var hint = flow.app.hint
        if case .http(let h) = flow.app.mode, r.summary.software == nil, h.software != nil, let ua = h.userAgent {
            r.summary.software = ua   // the miner named itself in the User-Agent (cgminer, bfgminer ...)
        }
        if case .http(let h) = flow.app.mode, let host = h.host {
            let bare = Self.hostOnly(host)
            if !r.summary.poolHostnames.contains(bare) && r.summary.poolHostnames.count < 16 { r.summary.poolHostnames.append(bare) }
            if hint == nil { hint = hostHint(h) }
        }
        if let n = hint?.name, !r.summary.poolHostnames.contains(n) { r.summary.poolHostnames.insert(n, at: 0) }
        if hint == nil {
            for n in r.summary.poolHostnames {
                if let m = sink.intel.pool(named: Self.hostOnly(n)) { hint = PoolHint(name: n, match: m, via: "session"); break }
            }
        }
        r.poolList = hint?.match
    }

    private func publish(_ flow: FlowState<FlowApp>, time: Timestamp, transport: String) {
        guard let onEvent = sink.onEvent, flow.app.stratum!.hasEvents else { return }
        let events = flow.app.stratum!.drainEvents()
        guard var record = Self.record(flow, flow.app.stratum!.summary, reason: "open") else { return }
        record.transport = transport
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
