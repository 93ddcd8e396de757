import Detection
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting

// The analysis's counters as the report's JSON: here, where both sides are known, so that
// Reporting depends on neither the capture layer nor the pipeline.
extension RunSummary {
    public init(stats: AnalysisStats, files: Int, errors: [String], elapsed: Double, hostsFlagged: Int) {
        self.init()
        let r = stats.reassembly
        self.files = files
        files_failed = errors.count
        self.errors = errors
        packets = stats.packets
        bytes = stats.bytes
        flows = r.flowsCreated
        peak_flows = r.peakFlows
        tcp_packets = r.tcpPackets
        udp_packets = r.udpPackets
        non_ip_packets = stats.nonIPPackets
        malformed_packets = stats.malformedPackets
        fragments_reassembled = stats.fragmentsReassembled
        bypassed_flows = r.bypassedFlows
        bypassed_packets = r.bypassedPackets
        evicted_flows = r.evictions
        expired_flows = r.expired
        gaps = r.streams.gaps
        gap_bytes = r.streams.gapBytes
        out_of_order_segments = r.streams.outOfOrderSegments
        retransmitted_segments = r.streams.retransmittedSegments
        mid_stream_pickups = r.midStreamPickups
        depth_cap_hits = r.streams.depthCapHits
        out_of_order_cap_flushes = r.streams.outOfOrderCapFlushes
        stratum_sessions = stats.stratumSessions
        protocols = stats.protocolCounts.byName
        allowed_sessions = stats.allowedSessions
        anomalies = Dictionary(uniqueKeysWithValues: stats.anomalies.nonZero.map { ($0.0.rawValue, $0.1) })
        first_packet = stats.firstPacket.map { TimeFormat.iso8601($0.nanoseconds) }
        last_packet = stats.lastPacket.map { TimeFormat.iso8601($0.nanoseconds) }
        elapsed_seconds = (elapsed * 1000).rounded() / 1000
        hosts_flagged = hostsFlagged
    }

    /// The summary with its host counts taken from the whole list of `reports`.
    public init(stats: AnalysisStats, files: Int, errors: [String], elapsed: Double, reports: [HostReport]) {
        self.init(
            stats: stats, files: files, errors: errors, elapsed: elapsed,
            hostsFlagged: reports.filter(\.verdict.isFlagged).count)
        pool_servers = reports.filter { $0.verdict == .pool }.count
    }
}

extension CaptureSummary {
    public init(interfaces: [String], stats: CaptureStatistics, perWorker: [CaptureStatistics]? = nil) {
        self.init(
            interfaces: interfaces, packetsReceived: stats.received, droppedByKernel: stats.droppedByKernel,
            droppedByInterface: stats.droppedByInterface)
        workers = perWorker?.enumerated().map { w, s in
            WorkerCapture(
                worker: w, packetsReceived: s.received, droppedByKernel: s.droppedByKernel,
                droppedByInterface: s.droppedByInterface)
        }
    }
}
