import CryptoP2P
import DNS
import HTTP
import PacketDecoding
import PoolIntel
import StreamReassembly
import Stratum
import TLS

/// A pool name or address a flow's server is known by, from before the flow started
/// (DNS answer, earlier SNI or Host, or an address on a list). A class so that the
/// common case (no hint) costs one pointer in every flow.
final class PoolHint {
    var name: String?
    var match: PoolMatch
    /// "DNS answer", "TLS SNI", "HTTP Host", "address list".
    var via: String
    init(name: String?, match: PoolMatch, via: String) { self.name = name; self.match = match; self.via = via }
}

/// The protocol a TCP flow was recognised as, with its decoder state. Decoders
/// other than Stratum are classes so they mutate in place inside the flow.
enum FlowMode {
    case undecided
    case stratum
    case tls(TLSFlow)
    case http(HTTPFlow)
    case stratumV2(StratumV2Flow)
    case dnsTCP(DNSTCPFlow)
    case peer(PeerFlow)
    /// A Stratum V2 Noise handshake shape: a 64-byte first message from the client.
    case noiseShape
    /// Nothing decodable; only counted.
    case opaque
}

/// TLS: the ClientHello from the client, ServerHello and (TLS ≤ 1.2) the certificate from the server.
final class TLSFlow {
    var readers = (TLSHandshakeReader(), TLSHandshakeReader())
    var hello: ClientHello?
    var clientDirection: FlowDirection?
    var serverHello: ServerHello?
    var certificate: CertificateNames?
    var malformed = false
    /// The flow was bypassed after the handshake (its anomalies and names are already recorded).
    var finished = false
    /// The listed pool its names point to, looked up once when the handshake is done.
    var nameHint: PoolHint?

    /// Returns false once nothing more will be learned (bypass).
    func feed(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection) -> Bool {
        var r = dir == .lowToHigh ? readers.0 : readers.1
        r.feed(bytes) { type, body in
            switch type {
            case 1 where hello == nil:
                do { hello = try ClientHello.parse(body); clientDirection = dir } catch { malformed = true }
            case 2 where serverHello == nil:
                serverHello = try? ServerHello.parse(body)
            case 11 where certificate == nil:
                certificate = try? CertificateNames.parse(certificateMessage: body)
            default:
                break
            }
        }
        if dir == .lowToHigh { readers.0 = r } else { readers.1 = r }
        if done { release(); return false }
        return true
    }

    /// Nothing more to learn: the hello was unreadable, both sides are past the plaintext
    /// handshake, or we have the hello and the server has answered as far as it will in the clear.
    private var done: Bool {
        if malformed { return true }
        let states = (readers.0.state, readers.1.state)
        if states.0 != .handshake && states.1 != .handshake { return true }
        guard let client = clientDirection else { return false }
        let serverState = client == .lowToHigh ? states.1 : states.0
        if serverState != .handshake { return true }
        guard let sh = serverHello else { return false }
        // TLS 1.3 encrypts the certificate: nothing more to read after ServerHello.
        return sh.version == 0x0304 || certificate != nil
    }

    /// Frees the record buffers once the flow is bypassed; the parsed facts stay.
    func release() { readers = (TLSHandshakeReader(), TLSHandshakeReader()) }

    var bufferedBytes: Int { readers.0.bufferedBytes + readers.1.bufferedBytes }

    /// Every name the handshake revealed, most trustworthy first.
    var names: [String] {
        var out: [String] = []
        if let s = hello?.serverName { out.append(s) }
        if let cn = certificate?.subjectCommonName { out.append(cn) }
        out += certificate?.dnsNames ?? []
        return out
    }
}

/// HTTP/1.x, and WebSocket after an upgrade. JSON-RPC bodies and JSON WebSocket
/// messages are handed to the flow's `StratumSession`; Coinhive-style messages
/// to a `WebMinerSession`.
final class HTTPFlow {
    let requestDirection: FlowDirection
    var parsers: (HTTPStreamParser, HTTPStreamParser)
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
    var websocket: (WebSocketReader, WebSocketReader)?
    var webMiner: WebMinerSession?
    var wsMessages = 0
    var malformed = false
    var finished = false
    var oversizedMessages = 0
    /// The listed pool the Host header names, looked up once (see `Dispatcher.hostHint`).
    var hostHint: PoolHint?
    var hostChecked = false

    init(requestDirection: FlowDirection, limits: HTTPLimits) {
        self.requestDirection = requestDirection
        let lowIsRequest = requestDirection == .lowToHigh
        parsers = (HTTPStreamParser(requestSide: lowIsRequest, limits: limits, jsonBodiesOnly: true),
                   HTTPStreamParser(requestSide: !lowIsRequest, limits: limits, jsonBodiesOnly: true))
    }

    /// Frees parser buffers when the flow is bypassed; what was learned (host, agent ...) stays.
    func release() {
        let lowIsRequest = requestDirection == .lowToHigh
        parsers = (HTTPStreamParser(requestSide: lowIsRequest, limits: parsers.0.limits),
                   HTTPStreamParser(requestSide: !lowIsRequest, limits: parsers.0.limits))
        websocket = nil
    }

    var bufferedBytes: Int {
        parsers.0.bufferedBytes + parsers.1.bufferedBytes + (websocket.map { $0.0.bufferedBytes + $0.1.bufferedBytes } ?? 0)
    }

    /// Whether anything here points at mining (else the flow is bypassed after one exchange).
    func interesting(_ stratum: StratumSession?, poolNamed: Bool) -> Bool {
        poolNamed || upgraded || upgradeRequested || software != nil || !miningHeaders.isEmpty
            || (webMiner?.messages ?? 0) > 0 || (stratum.map { $0.summary.shape != .none || !$0.summary.minerMethods.isEmpty } ?? false)
    }

    func feed(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection, time: Timestamp, stratum: inout StratumSession?,
              limits: StratumLimits) {
        let side: Side = dir == .lowToHigh ? .a : .b
        var p = dir == .lowToHigh ? parsers.0 : parsers.1
        let isRequestSide = p.requestSide
        p.feed(bytes) { event in
            switch event {
            case .head(let h):
                if h.isRequest {
                    requests += 1
                    if h.isWebSocketUpgrade { upgradeRequested = true }
                    if h.bodyFraming == .none { requestsComplete += 1 }   // else counted when its body ends
                    if host == nil, let hh = h.header("host") { host = String(hh.prefix(255)) }
                    if firstRequest == nil { firstRequest = String("\(h.method) \(h.target)".prefix(200)) }
                    if let ua = h.header("user-agent") {
                        if userAgent == nil { userAgent = String(ua.prefix(256)) }
                        if software == nil { software = MinerCatalog.identify(ua) }
                    }
                }
                for name in ["x-mining-extensions", "x-stratum", "x-mining-hashrate", "x-long-polling"] {
                    if let v = h.header(name), miningHeaders.count < 8 { miningHeaders.append("\(name): \(v.prefix(120))") }
                }
                if !h.isRequest { responses += 1; if firstStatus == nil { firstStatus = h.status } }
                if h.isWebSocketUpgrade && !h.isRequest { upgraded = true }
            case .body(let b, _):
                if isRequestSide { requestsComplete += 1 }
                // JSON-RPC (getwork, getblocktemplate, eth_getWork …) goes to the mining session as one line.
                guard let first = b.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "{") else { return }
                if stratum == nil { stratum = StratumSession(limits: limits, overHTTP: true) }
                let line = b.filter { $0 != 0x0A && $0 != 0x0D } + [0x0A]
                line.withUnsafeBytes { _ = stratum!.feed($0, from: side, time: time.nanoseconds) }
            case .upgraded(let frames):
                upgraded = true
                feedWebSocket(frames, dir, side: side, time: time, stratum: &stratum, limits: limits)
            }
        }
        if p.invalid { malformed = true }
        if dir == .lowToHigh { parsers.0 = p } else { parsers.1 = p }
    }

    private func feedWebSocket(_ bytes: UnsafeRawBufferPointer, _ dir: FlowDirection, side: Side, time: Timestamp,
                               stratum: inout StratumSession?, limits: StratumLimits) {
        if websocket == nil { websocket = (WebSocketReader(maxMessage: limits.maxLineLength), WebSocketReader(maxMessage: limits.maxLineLength)) }
        var r = dir == .lowToHigh ? websocket!.0 : websocket!.1
        let before = r.oversizedMessages
        r.feed(bytes) { op, message in
            guard op == .text || op == .binary else { return }
            wsMessages += 1
            if webMiner == nil { webMiner = WebMinerSession() }
            if webMiner!.handle(message, from: side, time: time.nanoseconds) { return }
            guard message.first == UInt8(ascii: "{") else { return }
            if stratum == nil { stratum = StratumSession(limits: limits) }
            let line = message.filter { $0 != 0x0A && $0 != 0x0D } + [0x0A]
            line.withUnsafeBytes { _ = stratum!.feed($0, from: side, time: time.nanoseconds) }
        }
        oversizedMessages += r.oversizedMessages - before
        if r.invalid { malformed = true }
        if dir == .lowToHigh { websocket!.0 = r } else { websocket!.1 = r }
    }
}

final class StratumV2Flow {
    var session = StratumV2Session()
}

final class DNSTCPFlow {
    var framers = (DNSTCPFramer(), DNSTCPFramer())
}

/// Node-to-node protocols: the first message of each direction is checked.
final class PeerFlow {
    var seen: (PeerHandshake?, PeerHandshake?) = (nil, nil)
    var checked = (false, false)

    static func recognise(_ b: UnsafeRawBufferPointer) -> PeerHandshake? {
        PeerProtocols.bitcoin(b) ?? PeerProtocols.levin(b)
    }

    /// Returns false once both directions have been checked.
    func feed(_ b: UnsafeRawBufferPointer, _ dir: FlowDirection) -> Bool {
        if dir == .lowToHigh, !checked.0 { checked.0 = true; seen.0 = Self.recognise(b) }
        if dir == .highToLow, !checked.1 { checked.1 = true; seen.1 = Self.recognise(b) }
        return !(checked.0 && checked.1)
    }
}
