import PacketDecoding

/// What a host is besides its verdict: a `relay` serves mining work to miners and mines upstream
/// itself (verdict `mining`: its traffic is what leaves the network, and it is the one to pull first).
public enum HostRole: String, Sendable, Codable {
    case relay
}

/// Why a host got its verdict, as facts: Detection decides, Reporting words it (`ReasonText`).
public enum Reason: Sendable {
    /// The host served mining work: ports, distinct miners, sessions, jobs sent, shares accepted;
    /// `relay` when it also mines upstream (xmrig-proxy and the like) or is on the local network
    /// (its upstream encrypted or not on this tap: `upstreamSeen` false).
    case servedWork(
        ports: [UInt16], miners: Int, sessions: Int, jobs: Int, sharesAccepted: Int, relay: Bool,
        upstreamSeen: Bool = true)
    /// Sessions in which the host mined, in order of first appearance; `upstream` when it also
    /// served work (a relay). `relays`: for a pool address that is itself a relay, where that relay
    /// mines upstream (the downstream miner's work ends up there).
    case mined([SessionRecord], upstream: Bool, relays: [IPAddress: [String]])
    /// One piece of other evidence (merged per kind and name).
    case evidence(Evidence)
    /// Earlier sessions held in the store, no longer in memory.
    case retiredSessions(Int)
    /// A host listed by `--all-hosts` with nothing against it.
    case noEvidence
    /// Evidence no longer counted: its server answered the probe as not a pool (the probe's sentence).
    case withdrawn(Evidence, because: String)
}
