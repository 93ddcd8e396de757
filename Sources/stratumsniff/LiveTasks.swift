import OS
import PacketDecoding
import Sensor

/// What `live`'s periodic tasks do (`SensorRuntime`; the schedule is theirs, the work is here).
extension Live {
    /// Retention: the store's sessions, evidence and capture statistics older than `cutoff` removed, on
    /// the store's writer (in order with the commits).
    static func prune(_ recorder: Recorder, before cutoff: Timestamp) {
        let store = recorder.store
        recorder.enqueue {
            do {
                let p = try store.prune(before: cutoff.nanoseconds)
                if p.sessions + p.evidence + p.captureStats > 0 {
                    Diagnostics.log.notice(
                        "retention: removed \(p.sessions) sessions, \(p.evidence) evidence records, \(p.captureStats) capture statistics"
                    )
                }
            } catch {
                Diagnostics.log.error("retention: \(error)")
            }
        }
    }

    /// What `/metrics` and `/healthz` show now, and the problems that make `/healthz` fail.
    static func metricsSnapshot(
        sensor: any LiveSensor, commits: LiveCommits, outputs: Outputs, recorder: Recorder?, at now: Timestamp
    ) -> SensorMetrics.Snapshot {
        var snap = SensorMetrics.Snapshot()
        snap.capture = sensor.captureByInterface()
        snap.analysis = sensor.statistics
        snap.hostsByVerdict = commits.verdictCounts()
        snap.webhook = outputs.deliveries("webhook").map { ($0.sent, $0.failed) }
        snap.syslogSent = outputs.deliveries("syslog")?.sent
        snap.workers = sensor.workers
        snap.probes = commits.prober.flatMap { $0.asks ? ($0.counters, $0.dropped) : nil }
        var problems: [String] = []
        if let recorder {
            let h = recorder.health
            snap.store = (recorder.commits, h.failures, h.failing, h.lastCommitSeconds)
            if recorder.store.isRemote { snap.spool = recorder.spoolState }
            if h.failing {
                problems.append(
                    "the store's latest commit failed" + (recorder.store.isRemote ? " (batches wait in the spool)" : "")
                )
            }
        }
        let stuck = sensor.stalled(at: now)
        if !stuck.isEmpty {
            problems.append(
                "capture worker\(stuck.count > 1 ? "s" : "") \(stuck.map(String.init).joined(separator: ", ")) stalled")
        }
        snap.problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        return snap
    }
}
