import Detection
import HTTP
import PacketDecoding
import PoolIntel
import Stratum
import StreamReassembly

/// HTTP/1.x, and WebSocket after an upgrade: Host, User-Agent (miner software), mining headers,
/// and the mining inside — JSON-RPC bodies (getwork, eth_getWork …) and JSON WebSocket messages go
/// to a `StratumSession`, Coinhive-style messages to a `WebMinerSession`. An ordinary web flow is
/// let go after one exchange.
extension ProtocolCounter {
    /// HTTP/1.x flows.
    static let httpFlows = ProtocolCounter("http_flows")
    /// HTTP flows upgraded to WebSocket.
    static let webSocketFlows = ProtocolCounter("websocket_flows")
}

extension Anomaly {
    static let httpMalformed = Anomaly("http_malformed")
    static let websocketMalformed = Anomaly("websocket_malformed")
    static let websocketMessageTooLarge = Anomaly("websocket_message_too_large")
}

/// The HTTP parser's caps (line and header sizes, bodies) are this protocol's caps.
extension HTTPLimits: ProtocolCaps {}

/// When an HTTP flow with nothing mining-like is let go.
struct HTTPCaps: ProtocolCaps {
    /// An ordinary WebSocket (nothing mining-like) is let go after this many messages.
    var ordinaryWebSocketMessages = 64
    /// An HTTP connection with nothing mining-like is let go after this many requests even when
    /// its server is a listed name.
    var ordinaryHTTPRequests = 64
}

final class HTTPAnalyzer: FlowAnalyzer {
    static let counters = [ProtocolCounter.httpFlows, .webSocketFlows]

    let requestDirection: FlowDirection
    private let caps: HTTPCaps
    private var parsers: (HTTPStreamParser, HTTPStreamParser)
    private var websocket: (WebSocketReader, WebSocketReader)?
    private(set) var facts = HTTPFacts()
    /// The mining JSON-RPC carried in bodies or WebSocket messages, once there is some.
    private var stratum: StratumSession?
    private var webMiner: WebMinerSession?
    private var wsMessages = 0
    private var malformed = false
    private var finished = false
    private var oversizedMessages = 0
    /// The listed pool the Host header names, looked up once.
    private var hostHint: PoolHint?
    private var hostChecked = false
    /// `CONNECT host:port` asked for, awaiting the proxy's answer.
    private var connectTarget: String?
    /// The proxy granted the CONNECT: what followed its answer in the same call.
    private var tunnelStart: (FlowDirection, [UInt8])?

    init(requestDirection: FlowDirection, limits: HTTPLimits, caps: HTTPCaps) {
        self.requestDirection = requestDirection
        self.caps = caps
        let lowIsRequest = requestDirection == .lowToHigh
        parsers = (
            HTTPStreamParser(requestSide: lowIsRequest, limits: limits, jsonBodiesOnly: true),
            HTTPStreamParser(requestSide: !lowIsRequest, limits: limits, jsonBodiesOnly: true)
        )
    }

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        let requestDirection: FlowDirection
        if HTTPProbe.looksLikeRequest(first) {
            requestDirection = direction
        } else if HTTPProbe.looksLikeResponse(first) {
            requestDirection = direction.reversed
        } else {
            return .notMine
        }
        return .mine(
            HTTPAnalyzer(
                requestDirection: requestDirection, limits: flow.limits.protocols[HTTPLimits.self],
                caps: flow.limits.protocols[HTTPCaps.self]))
    }

    func claimed(flow: FlowContext) { flow.shared.counts.add(.httpFlows) }

    private var transport: SessionTransport { facts.upgraded ? .websocket : .http }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        feed(bytes, direction, flow)
        if let start = tunnelStart, let target = connectTarget, let tunnel = Self.tunnel(to: target) {
            // An HTTP proxy granted CONNECT: the rest is a fresh stream to the target (docs/detection.md "HTTP CONNECT").
            return .tunnel(tunnel, pending: start.1.isEmpty ? [] : [start])
        }
        if stratum != nil { flow.publish(&stratum!, transport: transport) }
        let decision = decide(flow)
        guard case .bypass = decision else { return decision }
        // Judged ordinary (or broken): remember its Host for later flows, then keep only counters.
        rememberHost(flow, time: flow.time)
        if malformed { flow.shared.anomalies.record(facts.upgraded ? .websocketMalformed : .httpMalformed) }
        finished = true
        if !interesting(flow) && (stratum?.summary.shape ?? SessionShape.none) == .none { return .done }
        release()
        return .bypass
    }

    func end(direction: FlowDirection, flow: FlowContext) {
        if direction == .lowToHigh { parsers.0.end { _ in } } else { parsers.1.end { _ in } }
    }

    var bufferedBytes: Int {
        parsers.0.bufferedBytes + parsers.1.bufferedBytes
            + (websocket.map { $0.0.bufferedBytes + $0.1.bufferedBytes } ?? 0)
            + (stratum.map { $0.bufferedBytes + StratumAnalyzer.sessionCharge } ?? 0)
    }

    /// An identified mining session keeps being decoded (its partial lines dropped); else all is freed.
    func shed() -> Bool {
        stratum?.gap(from: .a)
        stratum?.gap(from: .b)
        if stratum?.identified == true { return false }
        release()
        return true
    }

    /// Frees parser buffers; what was learned (host, agent, sessions) stays.
    private func release() {
        let lowIsRequest = requestDirection == .lowToHigh
        parsers = (
            HTTPStreamParser(requestSide: lowIsRequest, limits: parsers.0.limits),
            HTTPStreamParser(requestSide: !lowIsRequest, limits: parsers.0.limits)
        )
        websocket = nil
    }

    // MARK: - Decoding

    private func feed(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection, _ flow: FlowContext) {
        var p = dir == .lowToHigh ? parsers.0 : parsers.1
        let isRequestSide = p.requestSide
        p.feed(bytes) { event in
            switch event {
            case .head(let h):
                facts.take(h)
                if h.isRequest && h.method == "CONNECT" && connectTarget == nil {
                    connectTarget = String(h.target.prefix(262))
                    if dir == .lowToHigh { parsers.1.tunnelOnSuccess = true } else { parsers.0.tunnelOnSuccess = true }
                } else if !h.isRequest, connectTarget != nil, tunnelStart == nil, (200..<300).contains(h.status) {
                    tunnelStart = (dir, [])  // granted: what follows this head is the tunnel
                }
            case .body(let b, _):
                if isRequestSide { facts.requestsComplete += 1 }
                // JSON-RPC (getwork, getblocktemplate, eth_getWork …) goes to the mining session as one line.
                guard let first = b.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
                    first == UInt8(ascii: "{")
                else { return }
                if stratum == nil {
                    stratum = StratumSession(limits: flow.limits.protocols[StratumLimits.self], overHTTP: true)
                }
                feedLine(b, dir, flow)
            case .upgraded(let rest) where tunnelStart != nil && !isRequestSide:
                tunnelStart!.1 += Array(rest)
            case .upgraded(let frames):
                facts.upgraded = true
                feedWebSocket(frames, dir, flow)
            }
        }
        if p.invalid { malformed = true }
        if dir == .lowToHigh { parsers.0 = p } else { parsers.1 = p }
    }

    /// One body or message as one Stratum line.
    private func feedLine(_ message: [UInt8], _ dir: FlowDirection, _ flow: FlowContext) {
        let line = message.filter { $0 != 0x0A && $0 != 0x0D } + [0x0A]
        line.withUnsafeBytes { _ = stratum!.feed($0, from: dir.side, time: flow.time) }
    }

    private func feedWebSocket(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection, _ flow: FlowContext) {
        let maxMessage = flow.limits.protocols[StratumLimits.self].maxLineLength
        if websocket == nil {
            websocket = (WebSocketReader(maxMessage: maxMessage), WebSocketReader(maxMessage: maxMessage))
        }
        var r = dir == .lowToHigh ? websocket!.0 : websocket!.1
        let before = r.oversizedMessages
        r.feed(bytes) { op, message in
            guard op == .text || op == .binary else { return }
            wsMessages += 1
            if webMiner == nil { webMiner = WebMinerSession() }
            if webMiner!.handle(message, from: dir.side, time: flow.time) { return }
            guard message.first == UInt8(ascii: "{") else { return }
            if stratum == nil { stratum = StratumSession(limits: flow.limits.protocols[StratumLimits.self]) }
            feedLine(message, dir, flow)
        }
        oversizedMessages += r.oversizedMessages - before
        if r.invalid { malformed = true }
        if dir == .lowToHigh { websocket!.0 = r } else { websocket!.1 = r }
    }

    // MARK: - Policy

    /// Whether anything here points at mining (else the flow is let go after one exchange).
    private func interesting(_ flow: FlowContext, poolNamed named: Bool? = nil) -> Bool {
        let poolNamed = named ?? (flow.hint != nil || hostName(flow) != nil)
        return poolNamed || connectTarget != nil || facts.upgraded || facts.upgradeRequested || facts.software != nil
            || !facts.miningHeaders.isEmpty
            || (webMiner?.messages ?? 0) > 0
            || (stratum.map { $0.summary.shape != .none || !$0.summary.minerMethods.isEmpty } ?? false)
    }

    private func decide(_ flow: FlowContext) -> AnalyzerDecision {
        if malformed { return .bypass }
        if facts.upgraded {
            // A WebSocket with nothing mining-like after many messages is an ordinary one.
            let mining = (webMiner?.messages ?? 0) > 0 || stratum.map { $0.summary.shape != .none } == true
            return !mining && wsMessages > caps.ordinaryWebSocketMessages ? .bypass : .keep
        }
        // One complete request (or a response) with nothing mining-like: an ordinary web flow.
        // Everything a miner reveals is in its request (agent, JSON-RPC body, Upgrade, Host);
        // waiting for the response would cost every web flow two more packets through reassembly.
        if (facts.requestsComplete >= 1 || facts.responses >= 1) && !interesting(flow) { return .bypass }
        return facts.requests > caps.ordinaryHTTPRequests && !interesting(flow, poolNamed: false)
            ? .bypass : .keep
    }

    /// The listed pool the Host header names, looked up once per flow.
    private func hostName(_ flow: FlowContext) -> PoolHint? {
        if !hostChecked, let host = facts.host {
            hostChecked = true
            let bare = Self.hostOnly(host)
            hostHint = flow.shared.intel.pool(named: bare).map { PoolHint(name: bare, match: $0, via: .thisFlowsHost) }
        }
        return hostHint
    }

    /// A listed (or allow-listed) Host names the server's address for later flows.
    private func rememberHost(_ flow: FlowContext, time: Timestamp) {
        let server = flow.key.destination(requestDirection)
        let ttl = flow.limits.learnedNameSeconds
        if let host = facts.host.map(Self.hostOnly), flow.shared.intel.isAllowed(name: host) {
            flow.remember(server.address, name: host, source: .earlierHost, ttl: ttl)
            return
        }
        guard let hint = hostName(flow), let name = hint.name else { return }
        flow.remember(server.address, name: name, match: hint.match, source: .earlierHost, ttl: ttl)
    }

    /// A CONNECT target ("pool.example.com:443", "[2001:db8::1]:443") as a tunnel.
    static func tunnel(to target: String) -> Tunnel? {
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]), port > 0
        else { return nil }
        var host = String(target[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        host = host.lowercased()
        return Tunnel(
            route: ProxyRoute(kind: "http-connect", target: target.lowercased()), host: host, address: IPAddress(host),
            port: port)
    }

    /// "pool.example.com:3333" → "pool.example.com"; IPv6 literals in brackets are left alone.
    static func hostOnly(_ host: String) -> String {
        if host.hasPrefix("[") { return host }
        // Bytes for an ASCII name (almost every Host): the same answer as walking its characters,
        // which costs grapheme breaking per call. -1: not ASCII.
        var text = host
        let cut = text.withUTF8 { b in b.allSatisfy { $0 < 0x80 } ? (b.lastIndex(of: UInt8(ascii: ":")) ?? b.count) : -1
        }
        if cut >= 0 { return cut == host.utf8.count ? host : String(decoding: host.utf8.prefix(cut), as: UTF8.self) }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    // MARK: - Findings

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        if final {
            if malformed && !finished {
                flow.shared.anomalies.record(facts.upgraded ? .websocketMalformed : .httpMalformed)
            }
            if oversizedMessages > 0 {
                flow.shared.anomalies.record(.websocketMessageTooLarge, count: oversizedMessages)
            }
            if facts.upgraded { flow.shared.counts.add(.webSocketFlows) }
        }
        var found = Findings(identifiedSession: stratum?.identified == true)
        var decoded = false
        if let w = webMiner, w.summary.shape != .none, var r = flow.record(w.summary, reason: reason) {
            r.transport = .websocket
            annotate(&r, flow)
            found.sessions.append(r)
            decoded = true
        }
        if let s = stratum {
            if final { flow.recordAnomalies(of: s) }
            if var r = flow.record(s.summary, reason: reason) {
                r.transport = transport
                annotate(&r, flow)
                found.sessions.append(r)
                decoded = decoded || r.summary.shape != .none
            }
        }
        if !decoded {
            if final { rememberHost(flow, time: flow.flow.lastSeen) }
            if let e = evidence(flow) { found.evidence.append(e) }
        }
        return found
    }

    /// The miner named itself in the User-Agent (cgminer, bfgminer …); the Host names the pool.
    private func annotate(_ r: inout SessionRecord, _ flow: FlowContext) {
        if r.summary.software == nil, facts.software != nil, let ua = facts.userAgent { r.summary.software = ua }
        var hint = flow.hint
        if let host = facts.host {
            let bare = Self.hostOnly(host)
            if !r.summary.poolHostnames.contains(bare) && r.summary.poolHostnames.count < 16 {
                r.summary.poolHostnames.append(bare)
            }
            if hint == nil { hint = hostName(flow) }
        }
        flow.annotate(&r, hint: hint)
    }

    /// A flow with no decodable session: HTTP or WebSocket to a listed pool, or a miner's User-Agent.
    private func evidence(_ flow: FlowContext) -> Evidence? {
        let hint = hostName(flow) ?? flow.hint ?? flow.laterHint
        let kind: Evidence.Kind
        if hint != nil {
            kind = facts.upgraded ? .webSocketToPool : .httpToPool
        } else if facts.software != nil || !facts.miningHeaders.isEmpty {
            kind = .minerUserAgent
        } else {
            return nil
        }
        var details = EvidenceDetails()
        details.httpHost = facts.host
        details.request = facts.firstRequest
        details.responseStatus = facts.firstStatus
        details.userAgent = facts.userAgent
        details.miningHeaders = facts.miningHeaders
        let name = kind == .minerUserAgent ? facts.host.map(Self.hostOnly) : nil
        return flow.evidence(
            kind, client: requestDirection, hint: hint, name: name, details: details, software: facts.software)
    }
}

/// What an HTTP exchange said about itself, kept after its buffers are freed.
struct HTTPFacts {
    var host: String?
    var firstRequest: String?
    var userAgent: String?
    var software: MinerCatalog.Software?
    var miningHeaders: [String] = []
    var responses = 0
    var firstStatus: Int?
    var requests = 0
    /// Requests whose head and body (if any) have been read.
    var requestsComplete = 0
    var upgradeRequested = false
    var upgraded = false

    /// Headers miners and pools use to announce themselves.
    static let miningHeaderNames = ["x-mining-extensions", "x-stratum", "x-mining-hashrate", "x-long-polling"]

    mutating func take(_ h: HTTPHead) {
        if h.isRequest {
            requests += 1
            if h.isWebSocketUpgrade { upgradeRequested = true }
            if h.bodyFraming == .none { requestsComplete += 1 }  // else counted when its body ends
            if host == nil, let hh = h.header("host") { host = hh.first(characters: 255) }
            if firstRequest == nil { firstRequest = "\(h.method) \(h.target)".first(characters: 200) }
            if let ua = h.header("user-agent") {
                if userAgent == nil { userAgent = ua.first(characters: 256) }
                if software == nil { software = MinerCatalog.identify(ua) }
            }
        }
        // Every mining header name starts with "x-": most heads have no such header to look for.
        for name in h.hasHeader(namePrefix: "x-") ? Self.miningHeaderNames : [] {
            if let v = h.header(name), miningHeaders.count < 8 { miningHeaders.append("\(name): \(v.prefix(120))") }
        }
        if !h.isRequest {
            responses += 1
            if firstStatus == nil { firstStatus = h.status }
        }
        if h.isWebSocketUpgrade && !h.isRequest { upgraded = true }
    }
}

extension String {
    /// The first `n` characters (`String(prefix(n))`) — without walking grapheme clusters when the
    /// string has at most `n` bytes, and so at most `n` characters (nearly every header value).
    func first(characters n: Int) -> String {
        utf8.count <= n ? self : String(prefix(n))
    }
}
