import OS
import PacketDecoding
import PoolIntel

/// The live run's periodic work (`SensorRuntime`: the schedule is the tasks', the work is here).
extension LiveSession {
    /// The tasks in the order they run on each tick (about once a second).
    func tasks(
        sensor: any LiveSensor, commits: LiveCommits, outputs: Outputs, recorder: Recorder?, metrics: SensorMetrics?,
        status: StatusLine
    ) -> [any PeriodicTask] {
        var tasks: [any PeriodicTask] = [
            OnSignal(Signals.takeReload) { [self] in
                lists.reread()
                reload(outputs, into: sensor)
            }
        ]
        if let period = settings.reloadListsEvery {
            tasks.append(
                Every(period, first: started.adding(seconds: period)) { [self] _ in
                    reloadListsOnSchedule(into: sensor)
                })
        }
        if let keep = settings.retain, let recorder {
            tasks.append(
                Every(3600, first: started) { now in Self.prune(recorder, before: now.adding(seconds: -keep)) })
        }
        let reports = settings.periodReports
        tasks.append(
            CommitsAndReports(
                every: settings.commitInterval, reportEvery: reports?.seconds, started: started,
                writerBehind: { recorder?.isBehind == true },
                commit: { commits.commit(commits.snapshot(), at: $0) },
                report: { commits.writeReport(from: $0, to: $1, label: reports?.label ?? "") }))
        if let metrics {
            tasks.append(
                EveryTick { now in
                    metrics.update(
                        Self.metricsSnapshot(
                            sensor: sensor, commits: commits, outputs: outputs, recorder: recorder, at: now),
                        at: now)
                })
        }
        if status.enabled {
            tasks.append(
                EveryTick { _ in
                    let capture = sensor.captureSummary()
                    let stats = sensor.statistics
                    status.show(
                        "\(capture.packets_received) received, \(capture.packets_dropped_by_kernel) dropped by kernel, \(capture.packets_dropped_by_interface) by interface, \(stats.reassembly.activeFlows) flows, \(stats.stratumSessions) sessions"
                    )
                })
        }
        return tasks
    }

    /// SIGHUP: reopen the output files and reload the pool and allow lists.
    func reload(_ outputs: Outputs, into sensor: any LiveSensor) {
        do {
            try outputs.reopen()
            try reloadLists(into: sensor)
            Diagnostics.log.notice("SIGHUP: outputs reopened, lists reloaded (\(pools.pools.count) pool names)")
        } catch {
            Diagnostics.log.error("SIGHUP: \(error)")
        }
    }

    /// The schedule (`--reload-lists-every`): the lists only; the outputs stay open.
    func reloadListsOnSchedule(into sensor: any LiveSensor) {
        do {
            try reloadLists(into: sensor)
            Diagnostics.log.notice("lists reloaded on schedule (\(pools.pools.count) pool names)")
        } catch {
            Diagnostics.log.error("scheduled list reload: \(error); the lists in use stay")
        }
    }

    /// The pool and allow lists read again and handed to the analyzer; if reading fails, nothing changes.
    func reloadLists(into sensor: any LiveSensor) throws {
        (pools, localNets) = try lists.load()
        sensor.replaceIntel(pools)
    }

    /// Retention: the store's sessions, evidence and capture statistics older than `cutoff` removed, on
    /// the store's writer (in order with the commits).
    static func prune(_ recorder: Recorder, before cutoff: Timestamp) {
        let store = recorder.store
        recorder.enqueue {
            do {
                let pruned = try store.prune(before: cutoff.nanoseconds)
                if pruned.sessions + pruned.evidence + pruned.captureStats > 0 {
                    Diagnostics.log.notice(
                        "retention: removed \(pruned.sessions) sessions, \(pruned.evidence) evidence records, \(pruned.captureStats) capture statistics"
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
            let health = recorder.health
            snap.store = (recorder.commits, health.failures, health.failing, health.lastCommitSeconds)
            if recorder.store.isRemote { snap.spool = recorder.spoolState }
            if health.failing {
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
