import Detection
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Store

/// Writes what the analyzer knows into the store: periodically while live (a snapshot of open
/// flows included, so a crash loses at most one interval), and once more at the end.
public final class Recorder {
    public let store: EvidenceStore
    private var lastVerdicts: [String: String] = [:]

    public init(store: EvidenceStore) { self.store = store }

    /// Commits `reports` with the run's counters; returns the verdicts that changed since the last commit.
    @discardableResult
    public func commit(reports: [HostReport], stats: AnalysisStats, capture: CaptureSummary?, at time: Timestamp) throws(StoreError) -> [VerdictChange] {
        var summary = RunSummary(stats: stats, files: 0, errors: [], elapsed: 0, hostsFlagged: reports.count)
        summary.capture = capture
        let batch = StoreBatch(time: time, reports: reports, statsJSON: JSONOutput.encode(summary, pretty: false),
                               packets: stats.packets, bytes: stats.bytes, flows: stats.reassembly.flowsCreated,
                               received: capture?.packets_received, droppedByKernel: capture?.packets_dropped_by_kernel,
                               droppedByInterface: capture?.packets_dropped_by_interface,
                               firstPacket: stats.firstPacket, lastPacket: stats.lastPacket)
        return try store.commit(batch)
    }
}
