import PacketDecoding

/// Something that happened during analysis, for event streams (JSONL).
public struct AnalysisEvent: Sendable {
    public init(time: Timestamp, kind: Kind, session: SessionRecord?, policy: ScoringPolicy, seq: Int = 0) {
        self.time = time
        self.seq = seq
        self.kind = kind
        self.session = session
        self.policy = policy
    }

    public enum Kind: Sendable {
        case sessionIdentified
        case login(accepted: Bool, user: String?)
        case share(accepted: Bool)
        case reconnect(host: String)
        case sessionEnded(reason: String)
        /// Non-session evidence (TLS to a pool name, a pool DNS lookup, node traffic ...).
        case evidence(Evidence)
    }
    public var time: Timestamp
    /// The place in the input of the packet it came from (a flow's last packet, for its end): what
    /// puts the events of several shards back in input order (`ShardGroup`).
    public var seq: Int
    public var kind: Kind
    /// The mining session the event belongs to (nil for `.evidence`).
    public var session: SessionRecord?
    /// The analysis's scoring policy (it words evidence: "periodic small messages").
    public var policy: ScoringPolicy
}
