import DNS
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
    public init() {}
}
