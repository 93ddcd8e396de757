import Detection
import Foundation
import PacketDecoding
import SafeNumbers
import Stratum

/// The JSON schema (docs/output.md "JSON output"). A contract: later work adds
/// fields, never renames or removes them. Field names are snake_case.
public struct RunSummary: Encodable {
    public var files: Int = 0
    public var files_failed: Int = 0
    public var errors: [String] = []
    public var packets: Int = 0
    public var bytes: Int = 0
    public var flows: Int = 0
    public var peak_flows: Int = 0
    public var tcp_packets: Int = 0
    public var udp_packets: Int = 0
    public var non_ip_packets: Int = 0
    public var malformed_packets: Int = 0
    public var fragments_reassembled: Int = 0
    public var bypassed_flows: Int = 0
    public var bypassed_packets: Int = 0
    public var evicted_flows: Int = 0
    public var expired_flows: Int = 0
    public var gaps: Int = 0
    public var gap_bytes: Int = 0
    public var out_of_order_segments: Int = 0
    public var retransmitted_segments: Int = 0
    public var mid_stream_pickups: Int = 0
    public var depth_cap_hits: Int = 0
    public var out_of_order_cap_flushes: Int = 0
    public var stratum_sessions: Int = 0
    /// Each protocol's counters by name (`dns_messages`, `tls_handshakes`, `http_flows`,
    /// `websocket_flows`, `p2p_flows` …): fields of the summary itself, declared by the protocols.
    public var protocols: [String: Int] = [:]
    public var allowed_sessions: Int = 0
    public var anomalies: [String: Int] = [:]
    @NullEncoded public var first_packet: String?
    @NullEncoded public var last_packet: String?
    public var elapsed_seconds: Double = 0
    public var hosts_flagged: Int = 0
    /// Hosts judged pool servers (listed in the report, not counted in `hosts_flagged`).
    public var pool_servers: Int = 0
    /// Live capture only: interfaces and pcap_stats counters (never silent about drops).
    @NullEncoded public var capture: CaptureSummary?
    /// Live with a PostgreSQL store only (absent otherwise): batches the database had not taken at exit.
    public var store_spool: SpoolSummary?
    public init() {}

    /// The fields in the summary's own object, the protocols' counters among them. Written out because
    /// the protocols' counters are fields of the summary, not an object of their own.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FieldName.self)
        func put<Value: Encodable>(_ name: String, _ value: Value) throws {
            try c.encode(value, forKey: FieldName(name))
        }
        try put("files", files)
        try put("files_failed", files_failed)
        try put("errors", errors)
        try put("packets", packets)
        try put("bytes", bytes)
        try put("flows", flows)
        try put("peak_flows", peak_flows)
        try put("tcp_packets", tcp_packets)
        try put("udp_packets", udp_packets)
        try put("non_ip_packets", non_ip_packets)
        try put("malformed_packets", malformed_packets)
        try put("fragments_reassembled", fragments_reassembled)
        try put("bypassed_flows", bypassed_flows)
        try put("bypassed_packets", bypassed_packets)
        try put("evicted_flows", evicted_flows)
        try put("expired_flows", expired_flows)
        try put("gaps", gaps)
        try put("gap_bytes", gap_bytes)
        try put("out_of_order_segments", out_of_order_segments)
        try put("retransmitted_segments", retransmitted_segments)
        try put("mid_stream_pickups", mid_stream_pickups)
        try put("depth_cap_hits", depth_cap_hits)
        try put("out_of_order_cap_flushes", out_of_order_cap_flushes)
        try put("stratum_sessions", stratum_sessions)
        for (name, count) in protocols { try put(name, count) }
        try put("allowed_sessions", allowed_sessions)
        try put("anomalies", anomalies)
        try put("first_packet", _first_packet)
        try put("last_packet", _last_packet)
        try put("elapsed_seconds", elapsed_seconds)
        try put("hosts_flagged", hosts_flagged)
        try put("pool_servers", pool_servers)
        try put("capture", _capture)
        if let store_spool { try put("store_spool", store_spool) }
    }

    private struct FieldName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// What waits in a live sensor's spool at exit (docs/store-and-fleet.md "Many sensors").
public struct SpoolSummary: Encodable, Sendable {
    public var directory: String
    public var batches: Int
    public var bytes: Int
    public var delivered: Int
    public var rows_dropped: Int
    /// How long the oldest batch still waiting has waited (0 when none waits).
    public var oldest_seconds: Double
    public init(directory: String, batches: Int, bytes: Int, delivered: Int, rows_dropped: Int, oldest_seconds: Double)
    {
        self.directory = directory
        self.batches = batches
        self.bytes = bytes
        self.delivered = delivered
        self.rows_dropped = rows_dropped
        self.oldest_seconds = oldest_seconds
    }
}

/// Live capture counters in reports.
public struct CaptureSummary: Codable, Sendable {
    public var interfaces: [String]
    public var packets_received: UInt64
    public var packets_dropped_by_kernel: UInt64
    public var packets_dropped_by_interface: UInt64
    /// With several capture workers: the same counters per worker (summed over its handles).
    public var workers: [WorkerCapture]?

    public init(interfaces: [String], packetsReceived: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64) {
        self.interfaces = interfaces
        packets_received = packetsReceived
        packets_dropped_by_kernel = droppedByKernel
        packets_dropped_by_interface = droppedByInterface
    }
}

/// One capture worker's counters (`live --workers`).
public struct WorkerCapture: Codable, Sendable {
    public var worker: Int
    public var packets_received: UInt64
    public var packets_dropped_by_kernel: UInt64
    public var packets_dropped_by_interface: UInt64
    public init(worker: Int, packetsReceived: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64) {
        self.worker = worker
        packets_received = packetsReceived
        packets_dropped_by_kernel = droppedByKernel
        packets_dropped_by_interface = droppedByInterface
    }
}
