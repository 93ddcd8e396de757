/// How the name a finding carries was learned: the flow itself said it, or the server's address was
/// known by it (docs/detection.md "Names for addresses").
public enum NameSource: Sendable, Equatable, Hashable, Codable {
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
public struct EvidenceDetails: Sendable, Equatable, Codable {
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
    /// The behaviour model's measurements of the flow (of the host's flows to the server, once
    /// merged), when it had an exchange of each kind mining has; `looksLikeMining` says whether they
    /// meet the thresholds.
    public var cadence: CadenceMeasures?
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
    /// probed-pool: the host's flows to the server were, on their own, only suspicious (brief).
    /// Optional so that it is written only where it applies.
    var weakFlowsValue: Bool?
    public var weakFlows: Bool {
        get { weakFlowsValue ?? false }
        set { weakFlowsValue = newValue }
    }

    public init() {}

    /// Fills what this record lacks from `other` (merged evidence keeps its first values).
    /// Fields `merge` takes from one record or another (the flags are or-ed).
    static let mergedFields = 17

    /// Merges another record's facts field by field: each field keeps the value of the earliest record
    /// (by `keys`, one per field: where the value came from) that has one. Earliest-wins per field is
    /// the same whatever order records arrive in — workers merge their findings in any order.
    mutating func merge<K: Comparable>(_ o: EvidenceDetails, keys: inout [K], theirs: [K]) {
        var i = 0
        func take<T>(_ path: WritableKeyPath<EvidenceDetails, T>, empty: (T) -> Bool) {
            defer { i += 1 }
            guard !empty(o[keyPath: path]) else { return }
            if empty(self[keyPath: path]) || theirs[i] < keys[i] {
                self[keyPath: path] = o[keyPath: path]
                keys[i] = theirs[i]
            }
        }
        take(\.sni) { $0 == nil }
        take(\.alpn) { $0.isEmpty }
        take(\.ja3) { $0 == nil }
        take(\.ja4) { $0 == nil }
        take(\.tlsVersion) { $0 == nil }
        take(\.certificateNames) { $0.isEmpty }
        // Measurements add up (a host's flows to one server are judged together), so this field takes
        // no earliest value; its slot among the keys stays, as the order of the others does.
        if let theirs = o.cadence {
            if cadence == nil { cadence = theirs } else { cadence!.merge(theirs) }
        }
        i += 1
        take(\.httpHost) { $0 == nil }
        take(\.request) { $0 == nil }
        take(\.responseStatus) { $0 == nil }
        take(\.userAgent) { $0 == nil }
        take(\.miningHeaders) { $0.isEmpty }
        take(\.answers) { $0.isEmpty }
        take(\.message) { $0 == nil }
        take(\.nameFrom) { $0 == nil }
        take(\.proxy) { $0 == nil }
        take(\.proxyRefused) { $0 == nil }
        assert(i == Self.mergedFields)
        noSNI = noSNI || o.noSNI
        minerCertificate = minerCertificate || o.minerCertificate
    }
}
