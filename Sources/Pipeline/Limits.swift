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
    /// Each protocol's per-flow caps, declared in its module (`ProtocolCaps`): `protocols[TLSCaps.self]`.
    public var protocols = ProtocolCapsTable()
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
    /// Budgets divided from the default memory total (`MemoryPlan`): 256 MiB with 131 072 flows.
    public init() {
        apply(MemoryPlan(total: MemoryPlan.defaultTotal, maxFlows: reassembly.maxFlows))
    }

    /// Sets the flow cap and the budgets that grow with traffic from `plan` (`--max-memory`,
    /// `--max-flows`; `MemoryPlan.check` first).
    public mutating func apply(_ plan: MemoryPlan) {
        reassembly.maxFlows = plan.maxFlows
        reassembly.maxReassemblyMemory = plan.reassembly
        reassembly.maxDecoderMemory = plan.decoder
        hosts.maxBytes = plan.hostTable
    }
}

/// How one memory total divides among what grows with traffic (docs/hostile-input.md "Memory").
/// First what the process needs whatever the traffic; then each tracked flow's fixed state, so
/// `--max-flows` takes its share before anything else; what is left goes to the three budgets that
/// bytes from the wire fill, in fixed shares. Each budget is charged in real bytes and has a counter
/// when it bites (`reassembly_memory_cap`, `decoder_memory_cap`, `host_memory_cap`).
public struct MemoryPlan: Sendable, Equatable {
    /// 256 MiB: a sensor on a small appliance or beside other services.
    public static let defaultTotal = 256 << 20
    /// What the process holds whatever the traffic: code and libraries (34 MiB resident, measured on
    /// an idle sensor), the runtime and capture buffers, the name memory (65 536 names, ~8 MiB), the
    /// fragment buffer (4 MiB), a commit's snapshot (1 024 host reports), a period report's reading
    /// (`StoreReadLimits.inSensor`), and the allocator's slack under churn (the heap's arenas held
    /// ~30 MiB more than was allocated in a mixed flood: heaptrack against /proc/PID/smaps).
    public static let fixed = 96 << 20
    /// A tracked flow's own state, whatever it carries: its slot (128 B) and streams (216 B) in the
    /// table's arrays, its `FlowState` and index entry, a name hint (1 M SYNs: ~570 B a flow).
    public static let perFlow = 600
    /// Less than this left for the budgets: the flow table is too large for the total.
    public static let minimumRest = 24 << 20

    public var total: Int
    public var maxFlows: Int

    public init(total: Int, maxFlows: Int) {
        self.total = total
        self.maxFlows = maxFlows
    }

    /// Bytes for the flow table's fixed state.
    public var flowTable: Int { maxFlows > Int.max / Self.perFlow ? Int.max : maxFlows * Self.perFlow }
    /// What is left for the budgets (negative: not enough).
    public var rest: Int { flowTable > total - Self.fixed ? -1 : total - Self.fixed - flowTable }

    /// - Throws: `TooSmall` when the flow table leaves less than `minimumRest` for the budgets.
    public func check() throws {
        if rest < Self.minimumRest { throw TooSmall(plan: self) }
    }
    /// Out-of-order data held across all flows: 30 %.
    public var reassembly: Int { max(rest, 0) / 10 * 3 }
    /// Decoder state across all flows (buffers, analyzers, live workers' published findings): 40 %.
    public var decoder: Int { max(rest, 0) / 10 * 4 }
    /// Hosts, their sessions and evidence: the remaining 30 %.
    public var hostTable: Int { max(rest, 0) - reassembly - decoder }

    /// `--max-flows` too large for `--max-memory`: said with the numbers and both ways out.
    public struct TooSmall: Error, CustomStringConvertible {
        public var plan: MemoryPlan
        public var description: String {
            let mib = 1 << 20
            let flows = min(plan.flowTable, Int.max / 2 - MemoryPlan.fixed - MemoryPlan.minimumRest)
            let needed = (MemoryPlan.fixed + flows + MemoryPlan.minimumRest + mib - 1) / mib
            return "--max-memory \(plan.total / mib) MiB is too small for --max-flows \(plan.maxFlows): the flow table"
                + " alone takes \(plan.flowTable / mib) MiB; raise --max-memory to at least \(needed) or lower --max-flows"
        }
    }
}
