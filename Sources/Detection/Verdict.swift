import Coins
import PacketDecoding
import PoolIntel
import Stratum

/// The verdict vocabulary. Later work adds evidence kinds, not verdicts.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    case mining
    case likelyMining = "likely-mining"
    case suspicious
    case pool
    case cryptoNode = "crypto-node"
    case none

    /// Whether this verdict makes the exit status 1.
    public var isMiner: Bool { self == .mining || self == .likelyMining }

    /// Whether the host counts in `hosts_flagged`, the headline: a host to act on. Pool servers are
    /// listed and counted apart (`pool_servers`: one miner probing 147 pools is one host flagged, not
    /// 148); crypto-nodes are listed, not flagged (a node talking to its peers is not mining).
    public var isFlagged: Bool { self == .mining || self == .likelyMining || self == .suspicious }
}

/// One mining conversation between two endpoints, with what it revealed.
public struct SessionRecord: Sendable, Codable {
    public var miner: IPAddress
    public var minerPort: UInt16
    public var pool: IPAddress
    public var poolPort: UInt16
    public var vlanID: UInt16
    public var summary: StratumSummary
    /// Flow times (packet time), which can be wider than the mining messages.
    public var flowFirstSeen: Timestamp
    public var flowLastSeen: Timestamp
    public var minerBytes: Int
    public var poolBytes: Int
    public var endReason: SessionEndReason
    /// What carried the mining messages.
    public var transport = SessionTransport.tcp
    /// The pool list entry the pool's name or address matched, if any.
    public var poolList: PoolMatch?
    /// The proxy the session went through (then `pool` is the proxy's address).
    public var proxy: ProxyRoute?
    /// The position in the input of the flow's first packet (set by the pipeline): with
    /// `flowFirstSeen`, the order reports list sessions in, whichever worker saw them.
    public var origin = 0

    public init(
        miner: IPAddress, minerPort: UInt16, pool: IPAddress, poolPort: UInt16, vlanID: UInt16,
        summary: StratumSummary, flowFirstSeen: Timestamp, flowLastSeen: Timestamp,
        minerBytes: Int, poolBytes: Int, endReason: SessionEndReason
    ) {
        self.miner = miner
        self.minerPort = minerPort
        self.pool = pool
        self.poolPort = poolPort
        self.vlanID = vlanID
        self.summary = summary
        self.flowFirstSeen = flowFirstSeen
        self.flowLastSeen = flowLastSeen
        self.minerBytes = minerBytes
        self.poolBytes = poolBytes
        self.endReason = endReason
    }

    public var poolEndpoint: String { pool.endpoint(port: poolPort) }

    /// The pool's first revealed host name when it says more than the address: not
    /// "10.0.0.2:3336 (10.0.0.2:3336)" nor "192.0.2.70:8332 (192.0.2.70)".
    public var poolName: String? {
        guard let h = summary.poolHostnames.first else { return nil }
        if h == poolEndpoint || h == pool.description || h == "[\(pool)]" { return nil }
        if h.hasPrefix(pool.description + ":") || h.hasPrefix("[\(pool)]:") { return nil }
        return h
    }

    /// "198.51.100.1:3333 (pool.example.com:3333)", or the endpoint alone; through a proxy,
    /// "pool.example.com:3333 via SOCKS5 proxy 10.1.2.3:1080".
    public var poolDisplay: String {
        if let p = proxy { return "\(p.target) via \(p.label) proxy \(poolEndpoint)" }
        return poolEndpoint + (poolName.map { " (\($0))" } ?? "")
    }
    public var minerEndpoint: String { miner.endpoint(port: minerPort) }

    /// Coin from the wallet shape, else the pool host name, else the dialect.
    public var coin: String? {
        if let c = summary.coin { return c }
        if let c = poolList?.entry.singleCoin { return c }
        for host in summary.poolHostnames {
            if let c = Coins.coin(forHostname: host) { return c }
        }
        if let c = summary.algorithms.lazy.compactMap(Coins.coin(forAlgorithm:)).first { return c }
        return summary.dialect.flatMap { Coins.coin(forDialect: $0.rawValue) }
    }

    public var estimatedHashrate: Double? { summary.estimatedHashrate }

    /// What this session's rate counts and may be added to: rates of different coins (SHA-256d,
    /// Ethash, RandomX, Equihash…) are not the same quantity.
    public var rateKind: RateKind { RateKind(coin: coin, dialect: summary.dialect?.rawValue) }
}

/// A connection made through a proxy: which kind, and the target the client asked it for.
public struct ProxyRoute: Sendable, Equatable, Codable {
    /// "socks4", "socks4a", "socks5".
    public var kind: String
    /// "pool.example.com:3333" as the client named it.
    public var target: String
    public init(kind: String, target: String) {
        self.kind = kind
        self.target = target
    }
    /// "SOCKS5", "SOCKS4a", "HTTP CONNECT"; a chain hop by hop: "HTTP CONNECT → SOCKS5".
    public var label: String { Self.label(kind) }

    /// Between the kinds of a chain's hops in `kind` ("http-connect>socks5").
    public static let hopSeparator = ">"

    public static func label(_ kind: String) -> String {
        if kind.contains(hopSeparator) {
            return kind.split(separator: ">").map { label(String($0)) }.joined(separator: " → ")
        }
        switch kind {
        case "socks4a": return "SOCKS4a"
        case "http-connect": return "HTTP CONNECT"
        default: return kind.uppercased()
        }
    }
}

/// The coin a rate belongs to, or — when the coin could not be told — the dialect it was mined with,
/// so that totals only ever add like to like.
public struct RateKind: Hashable, Sendable, Comparable {
    public var coin: String?
    public var dialect: String?

    public init(coin: String?, dialect: String?) {
        self.coin = coin
        self.dialect = coin == nil ? dialect : nil
    }

    public var unit: HashrateUnit { Coins.unit(of: coin) }

    /// "zcash", or "unknown coin (stratum-v1)".
    public var label: String { coin ?? "unknown coin" + (dialect.map { " (\($0))" } ?? "") }

    public static func < (a: RateKind, b: RateKind) -> Bool { a.label < b.label }
}

/// What carried a session's mining messages; the JSON spells the raw values.
public enum SessionTransport: String, Sendable, Codable {
    /// Plain Stratum (or SV2) on the TCP stream.
    case tcp
    /// getwork / getblocktemplate bodies over HTTP.
    case http
    /// Inside WebSocket messages (browser miners and their proxies).
    case websocket
}

/// Why a session's flow ended — or that it has not (`open`: a snapshot). The JSON and the store spell
/// the raw values.
public enum SessionEndReason: String, Sendable, Codable {
    case closed, reset, idle, evicted, finished
    case open
}
