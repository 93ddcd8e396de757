import Detection
import PacketDecoding
import Reporting
import Store

/// `--webhook URL`: each alert and each period summary POSTed as one JSON document.
extension WebhookSender: SensorOutput {
    public var name: String { "webhook" }

    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker) {
        post(speaker.line(AlertLine(time: TimeFormat.iso8601(time), previous: change.old, host: HostJSON(report))))
    }

    public func periodReport(_ r: PeriodReport, files: [String], _ speaker: OutputSpeaker) {
        post(speaker.line(PeriodSummaryLine(report: r, files: files)))
    }

    public func flush() { flush(timeout: 5) }

    public var deliveries: (sent: Int, failed: Int)? { (delivered, failed) }
}
