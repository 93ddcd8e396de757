/// A malformed-packet or protocol anomaly: recorded as data and counted,
/// never thrown (Zeek calls these "weirds").
public enum Anomaly: String, CaseIterable, Sendable, Codable, Error {
    case truncatedLinkHeader = "truncated_link_header"
    case tooManyVLANTags = "too_many_vlan_tags"
    case truncatedIPv4Header = "truncated_ipv4_header"
    case badIPv4HeaderLength = "bad_ipv4_header_length"
    case badIPv4TotalLength = "bad_ipv4_total_length"
    case truncatedIPv6Header = "truncated_ipv6_header"
    case badIPv6ExtensionChain = "bad_ipv6_extension_chain"
    case badIPVersion = "bad_ip_version"
    case truncatedTCPHeader = "truncated_tcp_header"
    case badTCPDataOffset = "bad_tcp_data_offset"
    case truncatedUDPHeader = "truncated_udp_header"
    case badUDPLength = "bad_udp_length"
    case badFragment = "bad_fragment"
    case fragmentOverlap = "fragment_overlap"
    case fragmentMemoryCap = "fragment_memory_cap"
    case fragmentTimeout = "fragment_timeout"
    case truncatedPayload = "truncated_payload"
    // Stream and application level.
    case tcpOverlapConflict = "tcp_overlap_conflict"
    case stratumLineTooLong = "stratum_line_too_long"
    case stratumBadJSON = "stratum_bad_json"
    case stratumRoleConflict = "stratum_role_conflict"
    case dnsMalformed = "dns_malformed"
    case tlsMalformed = "tls_malformed"
    case httpMalformed = "http_malformed"
    case websocketMalformed = "websocket_malformed"
    case websocketMessageTooLarge = "websocket_message_too_large"
    case stratumV2Malformed = "stratum_v2_malformed"
    /// A difficulty, target, hashrate or share count beyond anything physical (> 1e30 hashes): ignored.
    case stratumImplausibleNumber = "stratum_implausible_number"
    // Caps and budgets (docs/hostile-input.md "Caps").
    /// A new host with only weak evidence refused: the host table was full.
    case hostTableFull = "host_table_full"
    /// A host with only weak evidence forgotten to make room for one with strong evidence.
    case hostEvicted = "host_evicted"
    /// A distinct evidence record dropped (per-host or global evidence cap).
    case evidenceCap = "evidence_cap"
    /// A flow bypassed because decoder buffers across all flows reached their budget.
    case decoderMemoryCap = "decoder_memory_cap"
    /// Out-of-order data released early because reassembly buffers across all flows reached their budget.
    case reassemblyMemoryCap = "reassembly_memory_cap"
    /// Flow keys piled onto one probe sequence of the flow index (keys chosen against its seed): a new seed drawn.
    case flowHashReseeded = "flow_hash_reseeded"
    /// A session let go of from memory: its host held 512 in its role, or all hosts 32 768 (counted in
    /// its host's reasons; with a store, written there).
    case sessionRetired = "session_retired"
    /// A session retired or a record refused because the host table held its byte budget (48 MiB).
    case hostMemoryCap = "host_memory_cap"
    /// A session retired from memory that could not wait for the store (more than 65 536 between drains).
    case sessionNotStored = "session_not_stored"
    /// A packet stamped earlier than one before it (analysed at the later time).
    case timeWentBackwards = "time_went_backwards"
}

/// Fixed-size anomaly counters: incrementing never allocates.
public struct AnomalyCounters: Sendable {
    public private(set) var counts: [Int] = Array(repeating: 0, count: Anomaly.allCases.count)
    public init() {}
    public mutating func record(_ a: Anomaly, count n: Int = 1) { counts[Anomaly.indexTable[a]!] += n }
    /// Sets a counter another value owns (a host table's, recounted after the tables merged).
    public mutating func set(_ a: Anomaly, to n: Int) { counts[Anomaly.indexTable[a]!] = n }
    public subscript(_ a: Anomaly) -> Int { counts[Anomaly.indexTable[a]!] }
    public var total: Int { counts.reduce(0, +) }
    /// Non-zero counters by name, for reports.
    public var nonZero: [(Anomaly, Int)] {
        Anomaly.allCases.compactMap { a in
            let c = self[a]
            return c > 0 ? (a, c) : nil
        }
    }
    public mutating func merge(_ other: AnomalyCounters) {
        for i in counts.indices { counts[i] += other.counts[i] }
    }
}

extension Anomaly {
    static let indexTable: [Anomaly: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}
