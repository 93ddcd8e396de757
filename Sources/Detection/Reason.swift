import PacketDecoding

/// Why a host got its verdict, as facts: Detection decides, Reporting words it (`ReasonText`).
public enum Reason: Sendable {
    /// The host served mining work: ports, distinct miners, sessions, jobs sent, shares accepted.
    case servedWork(ports: [UInt16], miners: Int, sessions: Int, jobs: Int, sharesAccepted: Int)
    /// Sessions in which the host mined, in order of first appearance; `upstream` when it also
    /// served work (a proxy that mines upstream).
    case mined([SessionRecord], upstream: Bool)
    /// One piece of other evidence (merged per kind and name).
    case evidence(Evidence)
    /// Earlier sessions held in the store, no longer in memory.
    case retiredSessions(Int)
    /// A host listed by `--all-hosts` with nothing against it.
    case noEvidence
}
