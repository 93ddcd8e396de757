import DNS
import Detection
import HTTP
import PacketDecoding
import Stratum
import StreamReassembly

/// Every cap in one place, with documented defaults (docs/hostile-input.md "Caps").
/// A cap reached means skip, flush or bypass, plus a counter; never unbounded growth.
public struct Limits: Sendable {
    public var reassembly = ReassemblyLimits()
    public var fragments = FragmentReassembler.Limits()
    public var stratum = StratumLimits()
    public var dns = DNSLimits()
    public var http = HTTPLimits()
    /// Addresses remembered with the name they resolved to (DNS answers, SNI, Host).
    public var maxNameCacheEntries = 65_536
    /// Seconds of packet time before a name learned inside a flow (SNI, Host, DNS over TCP or in
    /// fragments) names its address for other flows: what lets workers share names deterministically
    /// (`NameMemory`). DNS answers in one UDP datagram name their addresses at once.
    public var learnedNameDelay: Double = 1
    /// Packets of input before a name a worker learned (SNI, Host, DNS over TCP or in fragments) is
    /// seen by other flows, besides `learnedNameDelay` (docs/architecture.md "Workers": the distance that lets
    /// workers run apart; larger than what the reader keeps in flight to four workers, ~15 000).
    public var learnedNamePackets = 16_384
    /// How long a name learned from a TLS SNI or an HTTP Host names its address.
    public var learnedNameSeconds: Double = 3600
    /// The least time a DNS answer for a listed name names its addresses, whatever its TTL: resolvers
    /// hand out TTL 0 and short TTLs, while a miner caches the answer itself and keeps reconnecting
    /// to that address for minutes.
    public var minDNSNameSeconds: Double = 600
    /// Parts the input's address pairs are split into, each analysed with its share of every cap
    /// above and below (`share(of:)`): a number independent of the workers (each holds whole
    /// shards), so that a cap decides the same way for any number of them (docs/architecture.md
    /// "Workers"). More shards allow more workers; fewer leave more of each cap to one busy pair.
    public var shards = 16
    /// Hosts, sessions and evidence held in memory.
    public var hosts = HostLimits()
    /// Hosts with no evidence remembered for `--all-hosts` (beyond it, new ones are not listed).
    /// 0: none are (`analyze` without `--all-hosts`, `live`: nobody asks, and remembering every host
    /// of a busy capture was 3 % of a run).
    public var maxHostsSeen = 65_536
    /// TLS handshake bytes buffered per direction (records reassembled across segments).
    public var maxTLSHandshakeBytes = 64 * 1024
    /// Largest Stratum V2 frame accepted; a longer one makes the stream invalid.
    public var maxStratumV2Frame = 64 * 1024
    /// SOCKS handshake bytes held per direction before the proxy answers.
    public var maxSOCKSHandshakeBytes = 600
    /// An ordinary WebSocket (nothing mining-like) is let go after this many messages.
    public var ordinaryWebSocketMessages = 64
    /// An HTTP connection with nothing mining-like is let go after this many requests even when
    /// its server is a listed name.
    public var ordinaryHTTPRequests = 64
    public init() {}
}
