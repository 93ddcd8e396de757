import Detection
import PacketDecoding
import Reporting
import Store

/// `--events FILE`: every event, alert, suppressed-alert count and period summary as one line —
/// the `--format jsonl` schema, or Suricata EVE records (`--events-format eve`).
public struct EventsOutput: SensorOutput {
    public let file: EventsFile
    public let eve: Bool
    public var name: String { "events" }

    public init(file: EventsFile, eve: Bool) {
        self.file = file
        self.eve = eve
    }

    public func event(_ e: AnalysisEvent, _ speaker: OutputSpeaker) {
        let id = speaker.identity
        file.append(
            eve
                ? JSONOutput.encode(EveRecord(e, sensor: id.sensor, site: id.site), pretty: false)
                : speaker.line(EventJSON(e)))
    }

    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker) {
        let id = speaker.identity
        file.append(
            eve
                ? JSONOutput.encode(
                    EveRecord(alert: report, previous: change.old, time: time, sensor: id.sensor, site: id.site),
                    pretty: false)
                : speaker.line(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: HostJSON(report))))
    }

    public func alertsSuppressed(_ count: Int, time: Int64, _ speaker: OutputSpeaker) {
        let suppressed = SuppressedLine(time: TimeFormat.iso8601(time), count: count)
        let id = speaker.identity
        file.append(
            eve
                ? JSONOutput.encode(
                    EveOwnRecord("mining_alerts_suppressed", time: time, sensor: id.sensor, site: id.site, suppressed),
                    pretty: false)
                : speaker.line(suppressed))
    }

    public func periodReport(_ r: PeriodReport, files: [String], _ speaker: OutputSpeaker) {
        let summary = PeriodSummaryLine(report: r, files: files)
        let id = speaker.identity
        file.append(
            eve
                ? JSONOutput.encode(
                    EveOwnRecord("mining_period_report", time: r.to_ns, sensor: id.sensor, site: id.site, summary),
                    pretty: false)
                : speaker.line(summary))
    }

    public func reopen() throws { try file.reopen() }
}
