import Detection
import Foundation
import Locking
import PacketDecoding
import Store
import Testing

@testable import Sensor

/// The output seam: a destination is one type; `Outputs` fans every message out to the list it was
/// given, in order, with the sensor's identity, and names outputs for the metrics.
@Suite struct SensorOutputTests {
    /// A destination written for the test, as docs/architecture.md "Adding an output" describes one:
    /// it implements only alerts; everything else falls to the protocol's defaults.
    final class AlertCollector: SensorOutput {
        let name = "collector"
        let alerts = Locked<[String]>([])
        func newMiner(_ report: HostReport, change: VerdictChange, time: Int64, _ speaker: OutputSpeaker) {
            let line = "\(speaker.identity.sensor): \(report.host) \(change.old ?? "-") → \(change.new)"
            alerts.withLock { $0.append(line) }
        }
        var deliveries: (sent: Int, failed: Int)? { (alerts.withLock { $0.count }, 0) }
    }

    @Test func aNewOutputIsOneTypeAndGetsEveryAlert() throws {
        let collector = AlertCollector()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outputs-\(UUID().uuidString).jsonl")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outputs = Outputs(
            [EventsOutput(file: try EventsFile(path: path), eve: false), collector],
            identity: StoreIdentity(sensor: "tap-3", site: "hq"))
        let report = HostReport.noEvidence(IPAddress("10.0.0.7")!)
        outputs.newMiner(
            report, change: VerdictChange(host: "10.0.0.7", old: nil, new: "mining", confidence: 99), time: 0)
        // Not carried by the collector: its default ignores it; the events file takes it.
        outputs.alertsSuppressed(3, time: 0)
        #expect(collector.alerts.withLock { $0 } == ["tap-3: 10.0.0.7 - → mining"])
        #expect(outputs.deliveries("collector")?.sent == 1)
        #expect(outputs.deliveries("webhook") == nil)
        // The events file got the alert and the suppressed count, each naming the sensor.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains(#""sensor":"tap-3""#) }, "\(lines)")
        try outputs.reopen()
        outputs.flush()
    }
}
