import Detection
import Foundation
import PacketDecoding
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
    /// Who is speaking: every line, webhook body and syslog message names the sensor and its site.
    public let identity: StoreIdentity
    /// The events file's shape: the `--format jsonl` lines, or Suricata EVE records.
    public let eve: Bool

    public init(
        events: EventsFile?, syslog: SyslogSender?, webhook: WebhookSender?,
        identity: StoreIdentity = StoreIdentity(sensor: StoreIdentity.hostName), eve: Bool = false
    ) {
        self.events = events
        self.syslog = syslog
        self.webhook = webhook
        self.identity = identity
        self.eve = eve
    }

    /// `value` as one JSON line with the sensor and site.
    private func line<T: Encodable>(_ value: T) -> String {
        JSONOutput.encode(FromSensor(sensor: identity.sensor, site: identity.site, value), pretty: false)
    }

    /// Syslog structured data: the sensor and site first, then the message's own.
    private func sd(_ own: [(String, String)]) -> [(String, String)] {
        [("sensor", identity.sensor)] + (identity.site.isEmpty ? [] : [("site", identity.site)]) + own
    }

    /// An analysis event as it happens (same schema as `analyze --format jsonl`).
    public func event(_ e: AnalysisEvent) {
        events?.append(
            eve
                ? JSONOutput.encode(EveRecord(e, sensor: identity.sensor, site: identity.site), pretty: false)
                : line(EventJSON(e)))
        guard let syslog else { return }
        switch e.kind {
        case .sessionIdentified:
            if let s = e.session {
                syslog.send(
                    "mining session \(s.minerEndpoint) -> \(s.poolEndpoint)\(s.summary.dialect.map { " (\($0.rawValue))" } ?? "")",
                    severity: .notice, msgID: "session",
                    structured: sd([("host", s.miner.description), ("pool", s.poolEndpoint)]))
            }
        case .evidence(let ev):
            syslog.send(
                ReasonText.describe(ev, e.policy), severity: .notice, msgID: "evidence",
                structured: sd([("host", ev.host.description), ("kind", ev.kind.rawValue)]))
        default:
            break
        }
    }

    /// A host's verdict changed to mining or likely-mining: the alert.
    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64) {
        let host = HostJSON(report)
        events?.append(
            eve
                ? JSONOutput.encode(
                    EveRecord(
                        alert: report, previous: change.old, time: time, sensor: identity.sensor, site: identity.site),
                    pretty: false)
                : line(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: host)))
        syslog?.send(
            "\(report.host) now \(report.verdict.rawValue) (\(report.confidence)): \(host.reasons.first ?? "")",
            severity: .warning, msgID: "verdict",
            structured: sd([
                ("host", report.host.description), ("verdict", report.verdict.rawValue),
                ("confidence", String(report.confidence))
            ]))
        webhook?.post(line(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: host)))
    }

    /// More hosts became miners in one commit than alerts are sent for (an alert storm).
    public func alertsSuppressed(_ count: Int, time: Int64) {
        let suppressed = SuppressedLine(time: TimeFormat.iso8601(time), count: count)
        events?.append(
            eve
                ? JSONOutput.encode(
                    EveOwnRecord(
                        "mining_alerts_suppressed", time: time, sensor: identity.sensor, site: identity.site, suppressed
                    ),
                    pretty: false) : line(suppressed))
        syslog?.send(
            "\(count) further hosts became mining or likely-mining in this commit; alerts for them suppressed (see the store)",
            severity: .warning, msgID: "verdict", structured: sd([("suppressed", String(count))]))
    }

    /// A period report is ready: its summary goes to the webhook and syslog.
    public func periodReport(_ r: PeriodReport, files: [String]) {
        let summary = PeriodSummaryLine(report: r, files: files)
        webhook?.post(line(summary))
        syslog?.send(
            "report \(r.from) - \(r.to): \(r.hosts_mining_now) hosts mining, \(r.hosts_new_in_period) new",
            severity: .info,
            msgID: "report",
            structured: sd([("mining", String(r.hosts_mining_now)), ("new", String(r.hosts_new_in_period))]))
        events?.append(
            eve
                ? JSONOutput.encode(
                    EveOwnRecord(
                        "mining_period_report", time: r.to_ns, sensor: identity.sensor, site: identity.site, summary),
                    pretty: false) : line(summary))
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
    init(time: String, previous: String?, host: HostJSON) {
        self.time = time
        self.previous_verdict = previous
        self.host = host
    }
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
        from = r.from
        to = r.to
        hosts_mining_now = r.hosts_mining_now
        hosts_new_in_period = r.hosts_new_in_period
        estimated_stolen_hashrate_hs = r.estimated_stolen_hashrate_hs
        estimated_stolen_hashrates = r.estimated_stolen_hashrates
        miners = r.hosts.filter { $0.host.verdict == "mining" || $0.host.verdict == "likely-mining" }.map(\.host.host)
        packets_dropped_by_kernel = r.capture.packets_dropped_by_kernel
        self.files = files
    }
}
