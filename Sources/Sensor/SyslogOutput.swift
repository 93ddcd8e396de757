import Detection
import PacketDecoding
import Reporting
import Store

/// `--syslog`: RFC 5424 messages — sessions and evidence as notices, alerts as warnings, period
/// reports as info — with the sensor and site first in the structured data.
extension SyslogSender: SensorOutput {
    public var name: String { "syslog" }

    public func event(_ e: AnalysisEvent, _ speaker: OutputSpeaker) {
        switch e.kind {
        case .sessionIdentified:
            if let s = e.session {
                send(
                    "mining session \(s.minerEndpoint) -> \(s.poolEndpoint)\(s.summary.dialect.map { " (\($0.rawValue))" } ?? "")",
                    severity: .notice, msgID: "session",
                    structured: speaker.structured([("host", s.miner.description), ("pool", s.poolEndpoint)]))
            }
        case .evidence(let ev):
            send(
                ReasonText.describe(ev, e.policy), severity: .notice, msgID: "evidence",
                structured: speaker.structured([("host", ev.host.description), ("kind", ev.kind.rawValue)]))
        default:
            break
        }
    }

    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker) {
        let host = HostJSON(report)
        send(
            "\(report.host) now \(report.verdict.rawValue) (\(report.confidence)): \(host.reasons.first ?? "")",
            severity: .warning, msgID: "verdict",
            structured: speaker.structured([
                ("host", report.host.description), ("verdict", report.verdict.rawValue),
                ("confidence", String(report.confidence))
            ]))
    }

    public func alertsSuppressed(_ count: Int, time: Int64, _ speaker: OutputSpeaker) {
        send(
            "\(count) further hosts became mining or likely-mining in this commit; alerts for them suppressed (see the store)",
            severity: .warning, msgID: "verdict", structured: speaker.structured([("suppressed", String(count))]))
    }

    public func periodReport(_ r: PeriodReport, files: [String], _ speaker: OutputSpeaker) {
        send(
            "report \(r.from) - \(r.to): \(r.hosts_mining_now) hosts mining, \(r.hosts_new_in_period) new",
            severity: .info, msgID: "report",
            structured: speaker.structured([
                ("mining", String(r.hosts_mining_now)), ("new", String(r.hosts_new_in_period))
            ]))
    }

    public func flush() { flush(timeout: 2) }

    public var deliveries: (sent: Int, failed: Int)? { (sent, 0) }
}
