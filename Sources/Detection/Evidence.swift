import PacketDecoding
import PoolIntel
import SafeNumbers

/// Evidence other than a decoded mining session: encrypted or opaque connections to pool
/// names, pool-name lookups, miner user agents, node-to-node traffic. Each piece says who
/// (`host`, the client side), with whom, over what, for how long — and the scoring model
/// (`HostVerdicts`) fuses it with any mining sessions into one verdict per host.
public struct Evidence: Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// TLS whose SNI, certificate or resolved address names a listed pool.
        case tlsToPool = "tls-to-pool"
        /// TLS to a server no list names, behaving like a mining session (`ExchangeCadence`).
        case tlsMiningCadence = "tls-mining-cadence"
        /// A server certificate with the profile XMRig and xmrig-proxy generate for themselves.
        case minerCertificate = "miner-certificate"
        /// A WebSocket to a listed name, with no decodable miner messages inside.
        case webSocketToPool = "websocket-to-pool"
        /// Plain HTTP to a listed name (e.g. fetching a web-miner script), or a miner User-Agent.
        case httpToPool = "http-to-pool"
        case minerUserAgent = "miner-user-agent"
        /// An undecoded TCP connection to an address a pool name resolved to, or a listed address.
        case connectionToPool = "pool-connection"
        /// A Stratum V2 Noise handshake shape (64-byte first message) to a listed pool.
        case stratumV2Encrypted = "stratum-v2-encrypted"
        /// A DNS query or answer for a listed name.
        case dnsPoolLookup = "dns-pool-lookup"
        /// Cryptocurrency node-to-node protocol (Bitcoin, Monero levin, Ethereum discovery).
        case peerToPeer = "p2p-node"
        /// The server of the host's suspect flows answered the probe like a pool (`--probe`); the
        /// probe's sentence is in `details.message`.
        case probedPool = "probed-pool"
    }

    public var kind: Kind
    /// The client: the would-be miner or node.
    public var host: IPAddress
    public var peer: IPAddress?
    public var peerPort: UInt16
    /// The name involved (SNI, Host, DNS question, resolved name). Wire text: escape when printing.
    public var name: String?
    /// The list entry the name or address matched.
    public var pool: PoolMatch?
    public var first: Timestamp
    public var last: Timestamp
    /// Connections or messages merged into this record.
    public var count = 1
    public var packetsOut = 0
    public var packetsIn = 0
    public var bytesOut = 0
    public var bytesIn = 0
    public var software: String?
    public var coin: String?
    /// Protocol facts for the analyst (SNI, JA4, User-Agent, how the name was learned …).
    public var details = EvidenceDetails()
    /// The host's port and the IP protocol of the connection the record came from (of the first one,
    /// once repeats merge): with the peer, the flow's Community ID.
    public var hostPort: UInt16?
    public var transport: UInt8?

    public init(
        kind: Kind, host: IPAddress, peer: IPAddress?, peerPort: UInt16, name: String?, pool: PoolMatch?,
        first: Timestamp, last: Timestamp
    ) {
        self.kind = kind
        self.host = host
        self.peer = peer
        self.peerPort = peerPort
        self.name = name
        self.pool = pool
        self.first = first
        self.last = last
    }

    public var duration: Double { last.since(first) }

    public var peerEndpoint: String? { peer.map { $0.endpoint(port: peerPort) } }

    /// Records with the same key are merged (repeated lookups, reconnects).
    var mergeKey: String { "\(kind.rawValue)|\(name ?? "")|\(peer?.description ?? "")" }

    /// How many records were merged into this one (for sampling repeat events).
    public internal(set) var occurrences = 1

    /// The position in the input of the flow that gave this record (its first packet), set by the
    /// pipeline: with `first`, it orders records the same way whichever worker found them.
    public var origin = 0

    /// Where a record stands: its first time, then its flow's place in the input.
    struct OrderKey: Comparable, Sendable, Codable {
        var first: Timestamp
        var origin: Int
        static func < (a: OrderKey, b: OrderKey) -> Bool { (a.first, a.origin) < (b.first, b.origin) }
    }
    var orderKey: OrderKey { OrderKey(first: first, origin: origin) }
    /// Per merged field (the details', then software and coin), the record its value came from;
    /// empty until the first merge (every field then is this record's own).
    private(set) var fieldKeys: [OrderKey] = []

    /// Merges a record of the same key. The result does not depend on the order records arrive in:
    /// sums, earliest first, latest last, and each descriptive field from the earliest record that has it.
    mutating func merge(_ o: Evidence) {
        occurrences = occurrences.addingSaturated(o.occurrences)
        count = count.addingSaturated(o.count)
        packetsOut += o.packetsOut
        packetsIn += o.packetsIn
        bytesOut += o.bytesOut
        bytesIn += o.bytesIn
        let n = EvidenceDetails.mergedFields
        if fieldKeys.isEmpty { fieldKeys = Array(repeating: orderKey, count: n + 2) }
        let theirs = o.fieldKeys.isEmpty ? Array(repeating: o.orderKey, count: n + 2) : o.fieldKeys
        details.merge(o.details, keys: &fieldKeys, theirs: theirs)
        if let s = o.software, software == nil || theirs[n] < fieldKeys[n] {
            software = s
            fieldKeys[n] = theirs[n]
        }
        if let c = o.coin, coin == nil || theirs[n + 1] < fieldKeys[n + 1] {
            coin = c
            fieldKeys[n + 1] = theirs[n + 1]
        }
        if o.orderKey < orderKey {
            first = o.first
            origin = o.origin
            hostPort = o.hostPort
            transport = o.transport
        }
        if o.last > last { last = o.last }
    }
}

/// Thresholds of the scoring model (docs/detection.md "Scoring"), in one place.
public struct ScoringPolicy: Sendable, Codable {
    /// An encrypted or opaque connection to a pool name this long (summed over reconnects) is likely mining.
    public var longLivedSeconds: Double = 300
    /// "Periodic small messages": at least this many packets each way with this average payload or less.
    public var periodicMinPackets = 20
    public var periodicMaxAveragePayload = 400
    /// Connections to a listed pool (merged into one record) that count as long-lived together.
    public var repeatedConnections = 3
    /// Ports where TLS without SNI is ordinary enough (web, mail, LDAP, IMAP, POP3) that it adds nothing.
    @EncodedInOrder public var commonTLSPorts: Set<UInt16> = [443, 8443, 4443, 993, 995, 465, 636, 853]
    public init() {}
}

/// A set written in order: a set's own order changes from run to run, and a stored record should not.
@propertyWrapper
public struct EncodedInOrder<Element: Codable & Hashable & Comparable & Sendable>: Codable, Sendable {
    public var wrappedValue: Set<Element>
    public init(wrappedValue: Set<Element>) { self.wrappedValue = wrappedValue }
    public init(from decoder: Decoder) throws { wrappedValue = try Set(from: decoder) }
    public func encode(to encoder: Encoder) throws { try wrappedValue.sorted().encode(to: encoder) }
}
