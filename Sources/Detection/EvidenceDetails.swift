/// How the name a finding carries was learned: the flow itself said it, or the server's address was
/// known by it (README "Names for addresses").
public enum NameSource: Sendable, Equatable, Hashable {
    /// This flow's TLS ClientHello (SNI).
    case thisFlowsSNI
    /// This flow's certificate (TLS ≤ 1.2 sends it in the clear).
    case thisFlowsCertificate
    /// This flow's HTTP Host header.
    case thisFlowsHost
    /// This flow's proxy request (SOCKS4/4a/5, HTTP CONNECT); the proxy kind.
    case thisFlowsProxyRequest(String)
    /// Host names the mining session itself gave (subscribe, hello, reconnect).
    case session
    /// A DNS answer for the name (within its TTL).
    case dnsAnswer
    /// An earlier flow's TLS SNI to the same address (within `Limits.learnedNameSeconds`).
    case earlierSNI
    /// An earlier flow's HTTP Host to the same address.
    case earlierHost
    /// The address (or address:port) is on a pool list.
    case addressList
}

/// What a piece of evidence showed, protocol by protocol — typed; the JSON object of strings
/// (`details`, README keys) and the sentences are made from it in Reporting.
public struct EvidenceDetails: Sendable, Equatable {
    // TLS
    public var sni: String?
    /// A ClientHello without SNI (XMRig's TLS sends none by default).
    public var noSNI = false
    public var alpn: [String] = []
    public var ja3: String?
    public var ja4: String?
    public var tlsVersion: String?
    public var certificateNames: [String] = []
    /// The server's certificate has the profile XMRig / xmrig-proxy generate for themselves.
    public var minerCertificate = false
    /// The behaviour model's measurements, when the flow met its thresholds.
    public var cadence: CadenceSummary?
    // HTTP
    public var httpHost: String?
    public var request: String?
    public var responseStatus: Int?
    public var userAgent: String?
    public var miningHeaders: [String] = []
    // DNS
    public var answers: [String] = []
    // Node traffic: what the message was ("version", "levin handshake", "discv4 ping").
    public var message: String?
    /// How the name was learned, when not from this flow's SNI (which the `sni` detail already says).
    public var nameFrom: NameSource?
    /// The proxy the connection went through, and whether it refused (its reply code).
    public var proxy: ProxyRoute?
    public var proxyRefused: UInt8?

    public init() {}

    /// Fills what this record lacks from `other` (merged evidence keeps its first values).
    mutating func fill(from o: EvidenceDetails) {
        if sni == nil { sni = o.sni }
        noSNI = noSNI || o.noSNI
        if alpn.isEmpty { alpn = o.alpn }
        if ja3 == nil { ja3 = o.ja3 }
        if ja4 == nil { ja4 = o.ja4 }
        if tlsVersion == nil { tlsVersion = o.tlsVersion }
        if certificateNames.isEmpty { certificateNames = o.certificateNames }
        minerCertificate = minerCertificate || o.minerCertificate
        if cadence == nil { cadence = o.cadence }
        if httpHost == nil { httpHost = o.httpHost }
        if request == nil { request = o.request }
        if responseStatus == nil { responseStatus = o.responseStatus }
        if userAgent == nil { userAgent = o.userAgent }
        if miningHeaders.isEmpty { miningHeaders = o.miningHeaders }
        if answers.isEmpty { answers = o.answers }
        if message == nil { message = o.message }
        if nameFrom == nil { nameFrom = o.nameFrom }
        if proxy == nil { proxy = o.proxy }
        if proxyRefused == nil { proxyRefused = o.proxyRefused }
    }
}
