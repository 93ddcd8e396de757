import Locking
import Detection
import Foundation
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Store
import Synchronization

/// Writes what the analyzer knows into the store on its own thread, so a slow disk never stalls
/// capture: the capture thread hands over a snapshot and goes on; if the writer is still busy, a
/// newer snapshot replaces the waiting one (each snapshot is the whole state, nothing is lost).
/// Periodic report jobs run on the same thread, after the commit they depend on.
public final class Recorder: Sendable {
    public let store: EvidenceStore
    private struct State {
        var pending: StoreBatch?
        var jobs: [@Sendable () -> Void] = []
        var busy = false
        var stopped = false
        var coalesced = 0
        var commits = 0
        var failures = 0
        /// Whether the latest commit failed (the store is failing: `/healthz`).
        var failing = false
        /// Seconds the latest commit took.
        var lastCommitSeconds = 0.0
        var idle: Bool { pending == nil && jobs.isEmpty && !busy }
    }
    private let state = Locked(State())
    /// Signalled whenever there is something for the writer to look at; it re-checks the state.
    private let wake = DispatchSemaphore(value: 0)
    /// Snapshots replaced before they were written (the writer was behind).
    public var coalesced: Int { state.withLock { $0.coalesced } }
    public var commits: Int { state.withLock { $0.commits } }
    /// Commits that failed, whether the latest did, and how long the latest took (metrics).
    public var health: (failures: Int, failing: Bool, lastCommitSeconds: Double) {
        state.withLock { ($0.failures, $0.failing, $0.lastCommitSeconds) }
    }

    public init(store: EvidenceStore) {
        self.store = store
        Thread { [weak self] in self?.work() }.start()
    }

    /// Builds a batch from a snapshot of the analyzer's state.
    /// - Parameter hostsFlagged: for incremental snapshots (only changed hosts), the whole count.
    public static func batch(reports: [HostReport], stats: AnalysisStats, capture: CaptureSummary?, at time: Timestamp,
                             hostsFlagged: Int? = nil) -> StoreBatch {
        var summary = RunSummary(stats: stats, files: 0, errors: [], elapsed: 0, hostsFlagged: hostsFlagged ?? reports.filter(\.verdict.isFlagged).count)
        summary.capture = capture
        return StoreBatch(time: time, reports: reports, statsJSON: JSONOutput.encode(summary, pretty: false),
                          packets: stats.packets, bytes: stats.bytes, flows: stats.reassembly.flowsCreated,
                          received: capture?.packets_received, droppedByKernel: capture?.packets_dropped_by_kernel,
                          droppedByInterface: capture?.packets_dropped_by_interface,
                          firstPacket: stats.firstPacket, lastPacket: stats.lastPacket)
    }

    /// Queues a snapshot for writing and returns at once.
    public func submit(_ batch: StoreBatch) {
        state.withLock { s in
            var batch = batch
            if let older = s.pending {
                s.coalesced += 1
                // Snapshots carry only the hosts that changed: keep the older one's hosts the newer lacks.
                let newer = Set(batch.reports.map(\.host))
                batch.reports = older.reports.filter { !newer.contains($0.host) } + batch.reports
                // The newer snapshot replaces the older one, but sessions retired in between are in neither.
                batch.retiredSessions = older.retiredSessions + batch.retiredSessions
            }
            s.pending = batch
        }
        wake.signal()
    }

    /// Runs `job` on the writer thread after any queued commit (period reports).
    public func enqueue(_ job: @escaping @Sendable () -> Void) {
        state.withLock { $0.jobs.append(job) }
        wake.signal()
    }

    /// Waits until everything queued so far is written (shutdown, tests).
    public func flush() {
        while !state.withLock({ $0.idle }) { usleep(1000) }
    }

    public func stop() {
        flush()
        state.withLock { $0.stopped = true }
        wake.signal()
    }

    private func work() {
        while true {
            let (batch, todo, stopped) = state.withLock { s -> (StoreBatch?, [@Sendable () -> Void], Bool) in
                guard s.pending != nil || !s.jobs.isEmpty else { return (nil, [], s.stopped) }
                defer { s.pending = nil; s.jobs = []; s.busy = true }
                return (s.pending, s.jobs, false)
            }
            if batch == nil && todo.isEmpty {
                if stopped { return }
                wake.wait()
                continue
            }
            if let batch {
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    try store.commit(batch)
                    let took = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    state.withLock { $0.commits += 1; $0.failing = false; $0.lastCommitSeconds = took }
                } catch {
                    state.withLock { $0.failures += 1; $0.failing = true }
                    Diagnostics.log.error("store: \(error)")
                }
            }
            for job in todo { job() }
            state.withLock { $0.busy = false }
        }
    }
}
