import Detection
import Foundation
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Store

/// Writes what the analyzer knows into the store on its own thread, so a slow disk never stalls
/// capture: the capture thread hands over a snapshot and goes on; if the writer is still busy, a
/// newer snapshot replaces the waiting one (each snapshot is the whole state, nothing is lost).
/// Periodic report jobs run on the same thread, after the commit they depend on.
public final class Recorder: @unchecked Sendable {
    public let store: EvidenceStore
    private let condition = NSCondition()
    private var pending: StoreBatch?
    private var jobs: [@Sendable () -> Void] = []
    private var busy = false
    private var stopped = false
    private var thread: Thread?
    private var _coalesced = 0
    private var _commits = 0
    /// Snapshots replaced before they were written (the writer was behind).
    public var coalesced: Int { condition.lock(); defer { condition.unlock() }; return _coalesced }
    public var commits: Int { condition.lock(); defer { condition.unlock() }; return _commits }

    public init(store: EvidenceStore) {
        self.store = store
        thread = Thread { [weak self] in self?.work() }
        thread?.start()
    }

    /// Builds a batch from a snapshot of the analyzer's state.
    public static func batch(reports: [HostReport], stats: AnalysisStats, capture: CaptureSummary?, at time: Timestamp) -> StoreBatch {
        var summary = RunSummary(stats: stats, files: 0, errors: [], elapsed: 0, hostsFlagged: reports.count)
        summary.capture = capture
        return StoreBatch(time: time, reports: reports, statsJSON: JSONOutput.encode(summary, pretty: false),
                          packets: stats.packets, bytes: stats.bytes, flows: stats.reassembly.flowsCreated,
                          received: capture?.packets_received, droppedByKernel: capture?.packets_dropped_by_kernel,
                          droppedByInterface: capture?.packets_dropped_by_interface,
                          firstPacket: stats.firstPacket, lastPacket: stats.lastPacket)
    }

    /// Queues a snapshot for writing and returns at once.
    public func submit(_ batch: StoreBatch) {
        condition.lock()
        var batch = batch
        if let older = pending {
            _coalesced += 1
            // The newer snapshot replaces the older one, but sessions retired in between are in neither.
            batch.retiredSessions = older.retiredSessions + batch.retiredSessions
        }
        pending = batch
        condition.signal()
        condition.unlock()
    }

    /// Runs `job` on the writer thread after any queued commit (period reports).
    public func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Waits until everything queued so far is written (shutdown, tests).
    public func flush() {
        condition.lock()
        while pending != nil || !jobs.isEmpty || busy { condition.wait() }
        condition.unlock()
    }

    /// Writes synchronously on the caller's thread (`analyze --store`, which has nothing to keep up with).
    @discardableResult
    public func commitNow(_ batch: StoreBatch) throws(StoreError) -> [VerdictChange] {
        flush()
        return try store.commit(batch)
    }

    public func stop() {
        flush()
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while pending == nil && jobs.isEmpty && !stopped { condition.wait() }
            if stopped && pending == nil && jobs.isEmpty { condition.unlock(); return }
            let batch = pending
            pending = nil
            let todo = jobs
            jobs.removeAll()
            busy = true
            condition.unlock()
            if let batch {
                do {
                    try store.commit(batch)
                    condition.lock(); _commits += 1; condition.unlock()
                } catch {
                    FileHandle.standardError.write(Data("stratumsniff: \(error)\n".utf8))
                }
            }
            for job in todo { job() }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
