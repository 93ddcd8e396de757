import DNS
import Detection
import HTTP
import PacketDecoding
import StreamReassembly
import Stratum

/// Every cap in one place, with documented defaults (README "Caps").
/// A cap reached means skip, flush or bypass, plus a counter; never unbounded growth.
public struct Limits: Sendable {
    public var reassembly = ReassemblyLimits()
    public var fragments = FragmentReassembler.Limits()
    public var stratum = StratumLimits()
    public var dns = DNSLimits()
    public var http = HTTPLimits()
    /// Addresses remembered with the name they resolved to (DNS answers, SNI, Host).
    public var maxNameCacheEntries = 65_536
    /// How long a name learned from a TLS SNI or an HTTP Host names its address (DNS answers carry a TTL).
    public var learnedNameSeconds: Double = 3600
    /// Hosts, sessions and evidence held in memory.
    public var hosts = HostLimits()
    /// Hosts with no evidence remembered for `--all-hosts` (beyond it, new ones are not listed).
    public var maxHostsSeen = 65_536
    public init() {}
}
