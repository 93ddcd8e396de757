import PacketDecoding
import SafeNumbers

/// One of the two directions of a conversation, as the session sees it.
public enum Side: Int, Sendable, Codable {
    case a = 0
    case b = 1
    public var other: Side { self == .a ? .b : .a }
}

/// The mining protocol family a session speaks.
public enum StratumDialect: String, Sendable, Codable, CaseIterable {
    case stratumV1 = "stratum-v1"
    case ethereumStratum1 = "ethereum-stratum-1.0"
    case ethereumStratum2 = "ethereum-stratum-2.0"
    case ethProxy = "eth-proxy"
    case cryptonote = "cryptonote"
    /// Binary Stratum V2 in the clear (SetupConnection seen).
    case stratumV2 = "stratum-v2"
    /// JSON mining messages inside WebSocket frames (browser miners and their proxies).
    case webMiner = "web-miner"
    /// getwork / getblocktemplate JSON-RPC over HTTP.
    case httpGetwork = "http-getwork"
}

/// Something that happened in a session, for event streams (JSONL, the events file, syslog).
public enum StratumEvent: Sendable, Equatable {
    /// The conversation was recognised as a mining session.
    case sessionIdentified
    /// The pool answered a login / authorize / eth_submitLogin.
    case login(accepted: Bool, user: String?)
    /// The pool answered a share submission.
    case share(accepted: Bool, hashes: Double?)
    /// The pool told the miner to move (`client.reconnect`).
    case reconnect(host: String)
}

/// How strongly a session shows mining, from behaviour on both sides.
public enum SessionShape: String, Sendable, Codable {
    /// Both sides behave as miner and pool (requests answered, or jobs plus submissions).
    case twoSided = "two-sided"
    /// Only the pool's side was seen pushing work (capture started mid-session, one-way tap).
    case poolPushOnly = "pool-push-only"
    /// Only the miner's side was seen (no answer captured, or the pool never answered).
    case minerOnly = "miner-only"
    /// Not enough behaviour to call it mining.
    case none = "none"
}

/// What a Stratum session revealed: the evidence an analyst needs.
public struct StratumSummary: Sendable, Equatable, Codable {
    public var dialect: StratumDialect?
    /// The side that logs in / subscribes / submits.
    public var minerSide: Side?
    public var shape: SessionShape = .none
    public var roleConflict = false
    public var software: String?
    public var wallets: [String] = []
    public var workers: [String] = []
    public var algorithms: [String] = []
    public var coin: String?
    /// Pool host names the stream revealed (subscribe params, mining.hello, client.reconnect).
    public var poolHostnames: [String] = []
    public var loginAccepted: Bool?
    public var jobsReceived = 0
    public var sharesSubmitted = 0
    public var sharesAccepted = 0
    public var sharesRejected = 0
    /// Difficulty in force, in the dialect's own unit (see README).
    public var difficulty: Double?
    /// Hashes one share represents at the difficulty in force.
    public var hashesPerShare: Double?
    /// Σ hashes-per-share over accepted shares.
    public var acceptedHashes: Double = 0
    /// The miner's own report (eth_submitHashrate), hashes per second.
    public var reportedHashrate: Double?
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    /// Distinct mining methods seen from the miner side, in order of first appearance.
    public var minerMethods: [String] = []
    public var poolMethods: [String] = []
    public var messages = 0

    public init() {}

    /// The largest hashes-per-share, hashrate or hash count taken from the wire: 1e30, a billion
    /// times all Bitcoin mining. Beyond it a wire number is a lie, not evidence (and a formatter's trap).
    public static let maxPlausibleHashes = 1e30

    /// Hashes per second from accepted shares over the session's duration (at least one second).
    /// Nil when there is nothing to estimate from or the wire's numbers make it meaningless (not finite).
    public var estimatedHashrate: Double? {
        guard sharesAccepted > 0, acceptedHashes > 0, let f = firstSeen, let l = lastSeen else { return nil }
        let seconds = max(l.since(f), 1)
        return (acceptedHashes / seconds).finite
    }

    /// Adds one accepted share's hashes; a sum that would leave the finite range stays where it was.
    public mutating func addAcceptedHashes(_ h: Double) {
        guard h.isFinite, h > 0, acceptedHashes + h <= Self.maxPlausibleHashes * 1e6 else { return }
        acceptedHashes += h
    }
}

extension Array where Element == String {
    /// Appends a wire string (cut to `maxLength` UTF-8 bytes) unless it is already listed or the list
    /// holds `cap`: the lists of a session (wallets, workers, host names, methods) stay short and
    /// their lookups cheap however many a peer sends. One rule for every dialect.
    mutating func appendUnique(_ s: String, cap: Int, maxLength: Int = 256) {
        guard count < cap else { return }
        let s = s.utf8.count <= maxLength ? s : s.utf8Prefix(maxLength)  // no copy for the usual short one
        if !contains(s) { append(s) }
    }
}
