import DequeModule
import PacketDecoding
import PoolIntel
import SafeNumbers
import Stratum

/// A host's verdict with its confidence, reasons and evidence.
public struct HostReport: Sendable {
    public var host: IPAddress
    public var verdict: Verdict
    /// 0–100.
    public var confidence: Int
    /// A relay serves mining work and mines upstream (verdict `mining`); nil otherwise.
    public var role: HostRole? = nil
    /// Why, strongest first, as facts (Reporting turns them into sentences: `reasonTexts`).
    public var reasons: [Reason]
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    /// Sessions in which this host was the miner.
    public var minerSessions: [SessionRecord]
    /// Sessions in which this host served work.
    public var poolSessions: [SessionRecord]
    /// Other evidence (TLS/WebSocket/HTTP to pool names, DNS lookups, node traffic), merged per kind and name.
    public var evidence: [Evidence] = []
    /// The policy the verdict was scored with (its thresholds explain the evidence: "periodic").
    public var policy = ScoringPolicy()

    /// A host seen in traffic with no mining evidence (`--all-hosts`).
    public static func noEvidence(_ host: IPAddress, firstSeen: Timestamp? = nil, lastSeen: Timestamp? = nil)
        -> HostReport
    {
        HostReport(
            host: host, verdict: .none, confidence: 0, reasons: [.noEvidence], firstSeen: firstSeen,
            lastSeen: lastSeen, minerSessions: [], poolSessions: [])
    }
}

/// Memory caps of the host table (docs/hostile-input.md "Caps"): a spoofed-source flood must not grow it without bound.
public struct HostLimits: Sendable, Equatable {
    /// Hosts with evidence held at once. When full, a newcomer takes the place of the least recently
    /// active host of a lower tier (weak < likely-mining < mining/pool); a likely-mining or mining
    /// newcomer may also take the place of the least recently active host of its own tier; a weak
    /// newcomer (suspicious, crypto-node) is refused.
    public var maxHosts = 16_384
    /// Sessions kept in memory across all hosts; beyond it the oldest are retired (counted in their
    /// host's reasons, first-seen kept), never a host's last one in a role.
    public var maxSessions = 32_768
    /// Bytes the table holds in all (`MemoryCost`: hosts, their sessions and evidence). Over it, the
    /// oldest sessions are retired as at `maxSessions`, and a new record that still does not fit is refused.
    public var maxBytes = 48 * 1024 * 1024
    /// Distinct evidence records across all hosts; beyond it new ones are dropped (repeats still merge).
    public var maxEvidence = 65_536
    /// Sessions kept in memory per host and role; older ones are retired (counted, first-seen kept).
    public var maxSessionsPerHost = 512
    /// Distinct evidence records kept per host; more are merged into nothing and counted.
    public var maxEvidencePerHost = 256
    /// Of those, records of measured flows that did not behave like mining (one per server; later flows
    /// to the same server merge into it), so that context never crowds out evidence.
    public var maxMeasuredPerHost = 16
    /// Retired sessions waiting for the store between two drains; beyond it they are counted as lost.
    public var maxRetiredPending = 65_536
    /// And at most this many bytes of them (`MemoryCost`): a commit writes them as documents and
    /// statements, three to four times their size, so 65 536 sessions under a flood were ~150 MB at once.
    public var maxRetiredBytes = 8 * 1024 * 1024
    /// Changed hosts a live snapshot reports at most (the most serious first); the others wait for the
    /// next one. A flood that changes every host in the table at once then costs a commit no more than
    /// this many reports in memory, in the store's batch and on its writer.
    public var maxReportsPerSnapshot = 1024
    /// Of those, at most this many bytes of sessions and evidence (`HostReport.memoryCost`, always at
    /// least one report): what a commit then holds as documents and statements stays within ~16 MB.
    public var maxSnapshotBytes = 4 * 1024 * 1024
    public init() {}
}
