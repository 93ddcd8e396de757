import Detection
import Foundation
import Locking
import OS
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
///
/// With a spool (a PostgreSQL store): a batch the database does not take is kept on disk, and while
/// anything waits there every new batch queues behind it; the writer tries the oldest every few
/// seconds and delivers in order when the database answers (writing a batch twice changes nothing).
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
        /// Rows to write after the pending batch (the run's end).
        var rows: [StoreRows] = []
        var spool = SpoolState()
        var idle: Bool { pending == nil && jobs.isEmpty && rows.isEmpty && !busy }
    }
    /// The spool as metrics and the final report see it.
    public struct SpoolState: Sendable, Equatable {
        public var batches = 0
        public var bytes = 0
        public var oldestSeconds = 0.0
        public var rowsDropped = 0
        public var delivered = 0
    }
    /// Touched by the writer thread only (the lock is never contended; it makes that checkable).
    private let spool: Locked<Spool>?
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

    public init(store: EvidenceStore, spool: Spool? = nil) {
        self.store = store
        self.spool = spool.map { Locked($0) }
        Thread { [weak self] in self?.work() }.start()
    }

    public var spoolState: SpoolState { state.withLock { $0.spool } }

    /// Whether a snapshot still waits for the writer (which is busy with the one before it). The
    /// sensor then takes no new snapshot: the changes stay with the analyzer and go into the next
    /// one, so a writer slower than the traffic holds at most two batches, never a growing merge.
    public var isBehind: Bool { state.withLock { $0.pending != nil } }

    /// Builds a batch from a snapshot of the analyzer's state.
    /// - Parameter hostsFlagged: for incremental snapshots (only changed hosts), the whole count.
    public static func batch(
        reports: [HostReport], stats: AnalysisStats, capture: CaptureSummary?, at time: Timestamp,
        hostsFlagged: Int? = nil
    ) -> StoreBatch {
        var summary =
            hostsFlagged.map { RunSummary(stats: stats, files: 0, errors: [], elapsed: 0, hostsFlagged: $0) }
            ?? RunSummary(stats: stats, files: 0, errors: [], elapsed: 0, reports: reports)
        summary.capture = capture
        return StoreBatch(
            time: time, reports: reports, statsJSON: JSONOutput.encode(summary, pretty: false),
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

    /// Queues rows (the run's end) after everything submitted so far.
    public func submit(rows: StoreRows) {
        state.withLock { $0.rows.append(rows) }
        wake.signal()
    }

    /// Runs `job` on the writer thread after any queued commit (period reports).
    public func enqueue(_ job: @escaping @Sendable () -> Void) {
        state.withLock { $0.jobs.append(job) }
        wake.signal()
    }

    /// Waits until everything queued so far is written or spooled (shutdown, tests).
    public func flush() {
        while !state.withLock({ $0.idle }) { usleep(1000) }
    }

    /// Waits up to `seconds` for the spool to empty (shutdown: one last chance to deliver).
    public func drainSpool(within seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while state.withLock({ $0.spool.batches }) > 0 && Date() < end {
            wake.signal()
            usleep(100_000)
        }
        return state.withLock { $0.spool.batches } == 0
    }

    public func stop() {
        flush()
        state.withLock { $0.stopped = true }
        wake.signal()
    }

    private func work() {
        var retryAt = Date.distantPast
        while true {
            let (batch, extra, todo, stopped) = state.withLock {
                s -> (StoreBatch?, [StoreRows], [@Sendable () -> Void], Bool) in
                guard s.pending != nil || !s.jobs.isEmpty || !s.rows.isEmpty else { return (nil, [], [], s.stopped) }
                defer {
                    s.pending = nil
                    s.jobs = []
                    s.rows = []
                    s.busy = true
                }
                return (s.pending, s.rows, s.jobs, false)
            }
            if batch == nil && extra.isEmpty && todo.isEmpty {
                if let spool, !spool.withLock({ $0.isEmpty }), Date() >= retryAt {
                    state.withLock { $0.busy = true }
                    if !deliverSpool() { retryAt = Date().addingTimeInterval(2) }
                    state.withLock { $0.busy = false }
                    continue
                }
                if stopped { return }
                _ = wake.wait(timeout: .now() + (spool?.withLock({ $0.isEmpty }) == false ? 1 : 3600))
                continue
            }
            if let batch { write(batch) }
            for rows in extra { write(rows) }
            for job in todo { job() }
            // The batch, its rows and any report are gone: give their pages back before the next one.
            Allocator.returnFreeMemory()
            state.withLock { $0.busy = false }
        }
    }

    /// Writes a batch row by row as it is rendered (one row's documents in memory at a time), or
    /// spools its rows: behind anything already spooled, or when the database is away.
    private func write(_ batch: StoreBatch) {
        do {
            if let spool, !spool.withLock({ $0.isEmpty }) {
                write(try store.rows(for: batch))
                return
            }
            do {
                try counted { () throws(StoreError) in try store.commit(batch) }
            } catch {
                guard let spool, error.unreachable else { throw error }
                Diagnostics.log.warning("\(error); spooling to \(spool.withLock { $0.directory }) until it answers")
                keep(try store.rows(for: batch), in: spool)
            }
        } catch {
            Diagnostics.log.error("store: \(error)")
        }
    }

    /// Writes `rows`, or spools them: behind anything already spooled, or when the database is away.
    private func write(_ rows: StoreRows) {
        if let spool, !spool.withLock({ $0.isEmpty }) {
            keep(rows, in: spool)
            _ = deliverSpool()
            return
        }
        do {
            try commit(rows)
        } catch {
            if let spool, error.unreachable {
                Diagnostics.log.warning("\(error); spooling to \(spool.withLock { $0.directory }) until it answers")
                keep(rows, in: spool)
            } else {
                store.forgetWritten()  // nothing can be assumed written: the next snapshot writes every row again
                Diagnostics.log.error("store: \(error)")
            }
        }
    }

    /// Writes `rows` and counts the commit.
    private func commit(_ rows: StoreRows) throws(StoreError) {
        try counted { () throws(StoreError) in try store.write(rows) }
    }

    /// Runs one commit and counts it (how long it took) or its failure: the one place both are counted.
    private func counted(_ commit: () throws(StoreError) -> Void) throws(StoreError) {
        let started = DispatchTime.now().uptimeNanoseconds
        do { try commit() } catch {
            failed()
            throw error
        }
        let took = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        state.withLock {
            $0.commits += 1
            $0.failing = false
            $0.lastCommitSeconds = took
        }
    }

    private func failed() {
        state.withLock {
            $0.failures += 1
            $0.failing = true
        }
    }

    private func keep(_ rows: StoreRows, in spool: Locked<Spool>) {
        do { try spool.withLock { try $0.append(rows) } } catch {
            store.forgetWritten()
            Diagnostics.log.error("\(error)")
        }
        publish(spool)
    }

    /// Delivers spooled batches, oldest first, until one fails; whether the spool is now empty.
    private func deliverSpool() -> Bool {
        guard let spool else { return true }
        defer { publish(spool) }
        guard !spool.withLock({ $0.isEmpty }) else { return true }
        // A quick connection first: while the server is away this fails at once (connection
        // refused) instead of a write waiting out its timeout every few seconds.
        do { try store.probe() } catch {
            failed()
            return stays(error)
        }
        while !spool.withLock({ $0.isEmpty }) {
            do {
                guard let rows = try spool.withLock({ try $0.peek() }) else { break }
                try commit(rows)
                spool.withLock { $0.removeOldest() }
                state.withLock { $0.spool.delivered += 1 }
                if spool.withLock({ $0.isEmpty }) {
                    Diagnostics.log.notice("store: the database answers again; every spooled batch delivered")
                }
            } catch let e as StoreError {
                return stays(e)
            } catch {
                Diagnostics.log.error("\(error)")  // a damaged spool file, set aside: go on with the next
            }
        }
        return true
    }

    /// The spooled batch stays for the next try (said unless the database is simply away); false.
    private func stays(_ e: StoreError) -> Bool {
        if !e.unreachable { Diagnostics.log.error("\(e); the spooled batch stays, tried again in a few seconds") }
        return false
    }

    private func publish(_ box: Locked<Spool>) {
        let now = Date().timeIntervalSince1970
        let spool = box.withLock { $0 }
        let s = SpoolState(
            batches: spool.batches, bytes: spool.bytes,
            oldestSeconds: spool.oldestSpooledAt.map { max(now - $0, 0) } ?? 0,
            rowsDropped: spool.rowsDropped, delivered: state.withLock { $0.spool.delivered })
        state.withLock { $0.spool = s }
    }
}
