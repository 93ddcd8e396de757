import Detection
import Reporting
import Store

/// One destination for what a live sensor says: the events file, syslog, the webhook — each one type
/// in its own file. `Outputs` fans every message out to the list it was given; adding a destination
/// (Kafka, a second file) is one new conforming type, one line where `live` builds the list, and its
/// option (docs/architecture.md "Adding an output"). Every method has a default that does nothing, so
/// an output implements only what it carries. Called from the capture thread and the store's writer
/// thread: an output never blocks either (queue, then deliver on a thread of its own).
public protocol SensorOutput: Sendable {
    /// How metrics and diagnostics name it (`events`, `syslog`, `webhook`).
    var name: String { get }
    /// An analysis event as it happens (a session, a login, a share, evidence).
    func event(_ e: AnalysisEvent, _ speaker: OutputSpeaker)
    /// A host's verdict changed to mining or likely-mining: the alert.
    func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker)
    /// More hosts became miners in one commit than alerts are sent for.
    func alertsSuppressed(_ count: Int, time: Int64, _ speaker: OutputSpeaker)
    /// A period report is ready (written to `files`).
    func periodReport(_ r: PeriodReport, files: [String], _ speaker: OutputSpeaker)
    /// SIGHUP: files reopened (log rotation).
    func reopen() throws
    /// Shutdown: queued deliveries get a moment to go out.
    func flush()
    /// Deliveries so far (sent, failed) for the metrics; nil when it keeps no such count.
    var deliveries: (sent: Int, failed: Int)? { get }
}

extension SensorOutput {
    public func event(_ e: AnalysisEvent, _ speaker: OutputSpeaker) {}
    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker) {}
    public func alertsSuppressed(_ count: Int, time: Int64, _ speaker: OutputSpeaker) {}
    public func periodReport(_ r: PeriodReport, files: [String], _ speaker: OutputSpeaker) {}
    public func reopen() throws {}
    public func flush() {}
    public var deliveries: (sent: Int, failed: Int)? { nil }
}

/// Who is speaking: every line, webhook body and syslog message names the sensor and its site.
public struct OutputSpeaker: Sendable {
    public let identity: StoreIdentity

    public init(_ identity: StoreIdentity) { self.identity = identity }

    /// `value` as one JSON line with the sensor and site.
    public func line<T: Encodable>(_ value: T) -> String {
        JSONOutput.encode(FromSensor(sensor: identity.sensor, site: identity.site, value), pretty: false)
    }

    /// Syslog structured data: the sensor and site first, then the message's own.
    public func structured(_ own: [(String, String)]) -> [(String, String)] {
        [("sensor", identity.sensor)] + (identity.site.isEmpty ? [] : [("site", identity.site)]) + own
    }
}
