import PacketDecoding
import Detection
import Foundation
import Pipeline
import Reporting
import Store

/// Fans sensor events out to the configured outputs: JSONL events file, syslog, webhook.
/// Used from the capture thread and the store's writer thread: the events file locks its appends,
/// syslog and webhook only push onto their own locked queues, and the properties never change.
public final class Outputs: Sendable {
    public let events: EventsFile?
    public let syslog: SyslogSender?
    public let webhook: WebhookSender?

    public init(events: EventsFile?, syslog: SyslogSender?, webhook: WebhookSender?) {
        self.events = events; self.syslog = syslog; self.webhook = webhook
    }

    /// An analysis event as it happens (same schema as `analyze --format jsonl`).
    public func event(_ e: AnalysisEvent) {
        events?.append(JSONOutput.encode(EventJSON(e), pretty: false))
        guard let syslog else { return }
        switch e.kind {
        case .sessionIdentified:
            if let s = e.session {
                syslog.send("mining session \(s.minerEndpoint) -> \(s.poolEndpoint)\(s.summary.dialect.map { " (\($0.rawValue))" } ?? "")",
                            severity: .notice, msgID: "session", structured: [("host", s.miner.description), ("pool", s.poolEndpoint)])
            }
        case .evidence(let ev):
            syslog.send(ReasonText.describe(ev, e.policy), severity: .notice, msgID: "evidence",
                        structured: [("host", ev.host.description), ("kind", ev.kind.rawValue)])
        default:
            break
        }
    }

    /// A host's verdict changed to mining or likely-mining: the alert.
    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64) {
        let host = HostJSON(report)
        events?.append(JSONOutput.encode(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: host), pretty: false))
        syslog?.send("\(report.host) now \(report.verdict.rawValue) (\(report.confidence)): \(host.reasons.first ?? "")",
                     severity: .warning, msgID: "verdict",
                     structured: [("host", report.host.description), ("verdict", report.verdict.rawValue), ("confidence", String(report.confidence))])
        webhook?.post(JSONOutput.encode(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: host), pretty: false))
    }

    /// More hosts became miners in one commit than alerts are sent for (an alert storm).
    public func alertsSuppressed(_ count: Int, time: Int64) {
        events?.append(JSONOutput.encode(SuppressedLine(time: TimeFormat.iso8601(time), count: count), pretty: false))
        syslog?.send("\(count) further hosts became mining or likely-mining in this commit; alerts for them suppressed (see the store)",
                     severity: .warning, msgID: "verdict", structured: [("suppressed", String(count))])
    }

    /// A period report is ready: its summary goes to the webhook and syslog.
    public func periodReport(_ r: PeriodReport, files: [String]) {
        let summary = PeriodSummaryLine(report: r, files: files)
        webhook?.post(JSONOutput.encode(summary, pretty: false))
        syslog?.send("report \(r.from) - \(r.to): \(r.hosts_mining_now) hosts mining, \(r.hosts_new_in_period) new", severity: .info,
                     msgID: "report", structured: [("mining", String(r.hosts_mining_now)), ("new", String(r.hosts_new_in_period))])
        events?.append(JSONOutput.encode(summary, pretty: false))
    }

    public func reopen() throws { try events?.reopen() }

    /// Gives queued deliveries a moment to go out (shutdown).
    public func flush() {
        syslog?.flush(timeout: 2)
        webhook?.flush(timeout: 5)
    }
}

/// `{"type":"alert", ...}`: a host became mining / likely-mining.
public struct AlertLine: Encodable {
    public var type = "alert"
    public var time: String
    @NullEncoded public var previous_verdict: String?
    public var host: HostJSON
    init(time: String, previous: String?, host: HostJSON) { self.time = time; self.previous_verdict = previous; self.host = host }
}

/// `{"type":"alerts_suppressed","time":…,"count":N}`: alerts cut by the per-commit limit.
public struct SuppressedLine: Encodable {
    public var type = "alerts_suppressed"
    public var time: String
    public var count: Int
}

/// `{"type":"period_report", ...}`: the summary part of a period report.
public struct PeriodSummaryLine: Encodable {
    public var type = "period_report"
    public var from: String
    public var to: String
    public var hosts_mining_now: Int
    public var hosts_new_in_period: Int
    @NullEncoded public var estimated_stolen_hashrate_hs: Double?
    public var estimated_stolen_hashrates: [RateJSON]
    public var miners: [String]
    @NullEncoded public var packets_dropped_by_kernel: Int?
    public var files: [String]
    init(report r: PeriodReport, files: [String]) {
        from = r.from; to = r.to; hosts_mining_now = r.hosts_mining_now; hosts_new_in_period = r.hosts_new_in_period
        estimated_stolen_hashrate_hs = r.estimated_stolen_hashrate_hs
        estimated_stolen_hashrates = r.estimated_stolen_hashrates
        miners = r.hosts.filter { $0.host.verdict == "mining" || $0.host.verdict == "likely-mining" }.map(\.host.host)
        packets_dropped_by_kernel = r.capture.packets_dropped_by_kernel
        self.files = files
    }
}
