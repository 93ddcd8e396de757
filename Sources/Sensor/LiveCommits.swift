import Detection
import Foundation
import OS
import PacketDecoding
import Pipeline
import Reporting
import Store

/// What a live sensor does every few seconds: alerts on hosts newly mining, a snapshot committed
/// to the store, and at each period boundary a report rendered from the store.
final class LiveCommits {
    let analyzer: any LiveSensor
    let outputs: Outputs
    let recorder: Recorder?
    let reportDir: String?
    let maxHosts: Int
    let captureSummary: () -> CaptureSummary
    /// Alerts come from the verdicts themselves (a host newly mining), with or without a store.
    private var alerting = AlertRule()
    /// `--probe`: asks the servers the reports mark; its answers judge them again.
    var prober: LiveProber?

    init(
        analyzer: any LiveSensor, outputs: Outputs, recorder: Recorder?, reportDir: String?, maxHosts: Int,
        captureSummary: @escaping () -> CaptureSummary
    ) {
        self.analyzer = analyzer
        self.outputs = outputs
        self.recorder = recorder
        self.reportDir = reportDir
        self.maxHosts = maxHosts
        self.captureSummary = captureSummary
    }

    /// The hosts that changed since the last snapshot, and those a probe's answer concerns.
    func snapshot() -> [HostReport] {
        if let prober { analyzer.rejudge(prober.takeHostsToRejudge()) }
        return analyzer.snapshotChanges()
    }

    /// Wall time (ns) from which the store's probe answers are read at the next commit.
    private var answersReadFrom = WallTime.now().nanoseconds

    func commit(_ given: [HostReport], at now: Timestamp) {
        learnFleetAnswers()
        let reports = prober?.judge(given) ?? given
        let (alerts, suppressed) = alerting.review(reports)
        for a in alerts {
            let r = a.report
            outputs.newMiner(
                r,
                change: VerdictChange(
                    host: r.host.description, old: a.previous?.rawValue, new: r.verdict.rawValue,
                    confidence: r.confidence), time: now.nanoseconds)
        }
        if suppressed > 0 { outputs.alertsSuppressed(suppressed, time: now.nanoseconds) }
        alerting.forget(beyond: 2 * maxHosts, keeping: analyzer.holds)
        var batch = Recorder.batch(
            reports: reports, stats: analyzer.statistics, capture: captureSummary(), at: now,
            hostsFlagged: alerting.flaggedCount(held: analyzer.holds))
        batch.retiredSessions = analyzer.drainRetiredSessions()
        recorder?.submit(batch)
    }

    /// The answers the fleet's sensors wrote since the last commit, read on the writer thread (a
    /// minute's overlap: a sensor's clock may lag ours); they judge again, at the next commit, the
    /// hosts whose flows go to those servers.
    private func learnFleetAnswers() {
        guard let prober, let recorder else { return }
        let store = recorder.store
        let since = answersReadFrom - 60_000_000_000
        answersReadFrom = WallTime.now().nanoseconds
        recorder.enqueue {
            do { prober.learn(try store.probeFacts(since: since)) } catch {
                Diagnostics.log.warning("probe: the store's answers could not be read (\(error))")
            }
        }
    }

    /// Hosts per current verdict (metrics).
    func verdictCounts() -> [Verdict: Int] { alerting.verdictCounts(held: analyzer.holds) }

    /// Renders the period's report from the store on the writer thread, after the commit before it.
    func writeReport(from: Timestamp, to: Timestamp, label: String) {
        guard let recorder, let reportDir else { return }
        let store = recorder.store
        let base = "\(reportDir)/stratumsniff-\(Self.fileStamp(from))-\(label)"
        let out = outputs
        recorder.enqueue {
            do {
                // A sensor's own periodic report covers its own traffic; the fleet's is `report --store postgresql://…`.
                let own = store.isRemote ? StoreFilter(sensors: [store.identity.sensor]) : StoreFilter()
                let read = try store.report(
                    from: from.nanoseconds, to: to.nanoseconds, generated: WallTime.now(), filter: own,
                    bounds: .inSensor)
                for w in read.warnings { Diagnostics.log.warning("report: \(w)") }
                let r = read.report
                try AtomicFile.write(to: base + ".json") { PeriodRenderer.write(r, as: .json, to: $0) }
                try AtomicFile.write(PeriodRenderer.render(r, as: .html), to: base + ".html")
                out.periodReport(r, files: [base + ".json", base + ".html"])
            } catch {
                Diagnostics.log.error("report: \(error)")
            }
        }
    }

    /// A period's start in a file name: 20261207T080000Z.
    static func fileStamp(_ t: Timestamp) -> String {
        TimeFormat.iso8601(t.nanoseconds).prefix(19).replacingOccurrences(of: "-", with: "").replacingOccurrences(
            of: ":", with: "") + "Z"
    }
}
