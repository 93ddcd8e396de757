import Detection
import OS
import PacketDecoding
import Pipeline
import Reporting

extension LiveSession {
    /// Stop: every open session is flushed into the verdicts, then the final commit and report, the
    /// store closed whole, and the final report on standard output.
    func finish(
        _ final: (reports: [HostReport], stats: AnalysisStats), _ commits: LiveCommits, outputs: Outputs,
        recorder: Recorder?
    ) {
        let end = WallTime.now()
        // The final verdicts with every probe answer so far (the snapshot path applies them in commit).
        let reports = commits.prober?.judge(final.reports) ?? final.reports
        commits.commit(reports, at: end)
        if settings.reportDirectory != nil { commits.writeReport(from: started, to: end, label: "final") }
        if let recorder { recorder.submit(rows: recorder.store.endRunRows(at: end)) }
        recorder?.stop()  // everything queued is written (or spooled) before the store is closed
        if let recorder, recorder.spoolState.batches > 0, !recorder.drainSpool(within: 5) {
            let s = recorder.spoolState
            Diagnostics.log.warning(
                "store \(recorder.store.path) still away: \(Format.count(s.batches, "batch", plural: "batches")) (\(s.bytes) bytes) wait in the spool; the next start with the same --spool delivers them"
            )
        }
        try? recorder?.store.checkpoint()
        outputs.flush()
        let capture = commits.captureSummary()
        var summary = RunSummary(
            stats: final.stats, files: 0, errors: [], elapsed: end.since(started),
            reports: reports)
        summary.capture = capture
        if let recorder, let dir = settings.spool?.directory {
            let s = recorder.spoolState
            summary.store_spool = SpoolSummary(
                directory: dir, batches: s.batches, bytes: s.bytes, delivered: s.delivered, rows_dropped: s.rowsDropped,
                oldest_seconds: (s.oldestSeconds * 10).rounded() / 10)
        }
        switch settings.finalReport {
        case .json: JSONOutput.writeReport(summary: summary, hosts: reports) { print($0, terminator: "") }
        case .table: print(TableReport.render(reports, summary: summary), terminator: "")
        case .none: break
        }
        if capture.packets_dropped_by_kernel > 0 || capture.packets_dropped_by_interface > 0 {
            Diagnostics.log.warning(
                "\(capture.packets_dropped_by_kernel) packets dropped by the kernel, \(capture.packets_dropped_by_interface) by the interface: raise --buffer-size or narrow --bpf"
            )
        }
    }
}
