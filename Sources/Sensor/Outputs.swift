import Detection
import Foundation
import PacketDecoding
import Pipeline
import Reporting
import Store

/// Fans what a live sensor says out to its outputs (`SensorOutput`: the events file, syslog, the
/// webhook), in the order given. Used from the capture thread and the store's writer thread; the
/// list never changes, and each output queues or locks on its own.
public final class Outputs: Sendable {
    public let outputs: [any SensorOutput]
    public let speaker: OutputSpeaker

    public init(_ outputs: [any SensorOutput], identity: StoreIdentity = StoreIdentity(sensor: StoreIdentity.hostName))
    {
        self.outputs = outputs
        speaker = OutputSpeaker(identity)
    }

    public func event(_ e: AnalysisEvent) { for o in outputs { o.event(e, speaker) } }

    public func newMiner(_ report: HostReport, change: VerdictChange, time: Int64) {
        for o in outputs { o.newMiner(report, change: change, time: time, speaker) }
    }

    public func alertsSuppressed(_ count: Int, time: Int64) {
        for o in outputs { o.alertsSuppressed(count, time: time, speaker) }
    }

    public func periodReport(_ r: PeriodReport, files: [String]) {
        for o in outputs { o.periodReport(r, files: files, speaker) }
    }

    public func reopen() throws { for o in outputs { try o.reopen() } }

    public func flush() { for o in outputs { o.flush() } }

    /// The deliveries of the output named `name` (metrics), if it is configured and counts them.
    public func deliveries(_ name: String) -> (sent: Int, failed: Int)? {
        outputs.first { $0.name == name }?.deliveries
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
