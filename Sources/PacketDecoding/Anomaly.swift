/// A malformed-packet or protocol anomaly: recorded as data and counted, never thrown (Zeek calls
/// these "weirds"). Open: the packet-level, reassembly and cap anomalies are declared here; each
/// protocol module declares its own next to its analyzer (`extension Anomaly { static let … }`), so
/// adding a protocol's anomaly touches only that protocol's file. The name is the counter's name in
/// reports and metrics. Names come only from the code (never from input: each is numbered for good).
public struct Anomaly: Hashable, Sendable, Error, CustomStringConvertible {
    /// The name's number (`NameTable`): an anomaly is a plain integer where packets travel.
    let number: UInt16
    public init(_ name: String) { number = UInt16(truncatingIfNeeded: Self.names.number(of: name)) }
    public var rawValue: String { Self.names.name(Int(number)) }
    public var description: String { rawValue }
    static let names = NameTable()

    public static let truncatedLinkHeader = Anomaly("truncated_link_header")
    public static let tooManyVLANTags = Anomaly("too_many_vlan_tags")
    public static let truncatedIPv4Header = Anomaly("truncated_ipv4_header")
    public static let badIPv4HeaderLength = Anomaly("bad_ipv4_header_length")
    public static let badIPv4TotalLength = Anomaly("bad_ipv4_total_length")
    public static let truncatedIPv6Header = Anomaly("truncated_ipv6_header")
    public static let badIPv6ExtensionChain = Anomaly("bad_ipv6_extension_chain")
    public static let badIPVersion = Anomaly("bad_ip_version")
    public static let truncatedTCPHeader = Anomaly("truncated_tcp_header")
    public static let badTCPDataOffset = Anomaly("bad_tcp_data_offset")
    public static let truncatedUDPHeader = Anomaly("truncated_udp_header")
    public static let badUDPLength = Anomaly("bad_udp_length")
    public static let badFragment = Anomaly("bad_fragment")
    public static let fragmentOverlap = Anomaly("fragment_overlap")
    public static let fragmentMemoryCap = Anomaly("fragment_memory_cap")
    public static let fragmentTimeout = Anomaly("fragment_timeout")
    public static let truncatedPayload = Anomaly("truncated_payload")
    // Stream level.
    public static let tcpOverlapConflict = Anomaly("tcp_overlap_conflict")
    // Caps and budgets (docs/hostile-input.md "Caps").
    /// A new host with only weak evidence refused: the host table was full.
    public static let hostTableFull = Anomaly("host_table_full")
    /// A host with only weak evidence forgotten to make room for one with strong evidence.
    public static let hostEvicted = Anomaly("host_evicted")
    /// A distinct evidence record dropped (per-host or global evidence cap).
    public static let evidenceCap = Anomaly("evidence_cap")
    /// A flow bypassed because decoder buffers across all flows reached their budget.
    public static let decoderMemoryCap = Anomaly("decoder_memory_cap")
    /// Out-of-order data released early because reassembly buffers across all flows reached their budget.
    public static let reassemblyMemoryCap = Anomaly("reassembly_memory_cap")
    /// Flow keys piled onto one probe sequence of the flow index (keys chosen against its seed): a new seed drawn.
    public static let flowHashReseeded = Anomaly("flow_hash_reseeded")
    /// A session let go of from memory: its host held 512 in its role, or all hosts 32 768 (counted in
    /// its host's reasons; with a store, written there).
    public static let sessionRetired = Anomaly("session_retired")
    /// A session retired or a record refused because the host table held its byte budget (its share
    /// of `--max-memory`).
    public static let hostMemoryCap = Anomaly("host_memory_cap")
    /// A session retired from memory that could not wait for the store (more than 65 536 between drains).
    public static let sessionNotStored = Anomaly("session_not_stored")
    /// A packet stamped earlier than one before it (analysed at the later time).
    public static let timeWentBackwards = Anomaly("time_went_backwards")
}

/// Anomaly counters, one slot per anomaly's number (`NumberedCounts`).
public struct AnomalyCounters: Sendable {
    private var counts = NumberedCounts()
    public init() {}
    public mutating func record(_ a: Anomaly, count n: Int = 1) { counts.add(Int(a.number), n) }
    /// Sets a counter another value owns (a host table's, recounted after the tables merged).
    public mutating func set(_ a: Anomaly, to n: Int) { counts[Int(a.number)] = n }
    public subscript(_ a: Anomaly) -> Int { counts[Int(a.number)] }
    public var total: Int { counts.total }
    /// Non-zero counters, by name (the same order whatever order the anomalies were first met in).
    public var nonZero: [(Anomaly, Int)] {
        counts.nonZero.map { (Anomaly(number: UInt16(truncatingIfNeeded: $0.number)), $0.count) }
            .map { (name: $0.0.rawValue, anomaly: $0.0, count: $0.1) }
            .sorted { $0.name < $1.name }
            .map { ($0.anomaly, $0.count) }
    }
    public mutating func merge(_ other: AnomalyCounters) { counts.merge(other.counts) }
}

extension Anomaly {
    fileprivate init(number: UInt16) { self.number = number }
}
