import Detection
import Foundation
import OS
import PacketDecoding
import Pipeline
import Store
import Stratum
import Testing

@testable import Sensor

@Suite struct OutputTests {
    func tempPath(_ name: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("sensor-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.appendingPathComponent(name).path
    }

    /// `live --events-format eve`: the events file gets EVE records naming the sensor, the session's
    /// flow and its Community ID; syslog and webhook are unchanged.
    @Test func eveEventsFileRecordsNameSensorAndFlow() throws {
        let path = tempPath("eve.json")
        let outputs = Outputs(
            [EventsOutput(file: try EventsFile(path: path), eve: true)],
            identity: StoreIdentity(sensor: "tap-9", site: "lab"))
        var m = StratumSummary()
        m.dialect = .stratumV1
        let s = SessionRecord(
            miner: IPAddress("10.0.0.1")!, minerPort: 40000, pool: IPAddress("198.51.100.2")!, poolPort: 3333,
            vlanID: 0,
            summary: m, flowFirstSeen: Timestamp(seconds: 1_732_000_000),
            flowLastSeen: Timestamp(seconds: 1_732_000_060),
            minerBytes: 10, poolBytes: 10, endReason: .closed)
        outputs.event(
            AnalysisEvent(
                time: Timestamp(seconds: 1_732_000_001), kind: .share(accepted: true), session: s,
                policy: ScoringPolicy()))
        let line = try String(contentsOfFile: path, encoding: .utf8)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(
            doc["event_type"] as? String == "mining" && doc["host"] as? String == "tap-9"
                && doc["site"] as? String == "lab")
        #expect(doc["timestamp"] as? String == "2024-11-19T07:06:41.000000+0000")
        #expect(
            doc["src_ip"] as? String == "10.0.0.1" && doc["dest_port"] as? Int == 3333
                && doc["proto"] as? String == "TCP")
        #expect((doc["community_id"] as? String)?.hasPrefix("1:") == true)
        #expect((doc["mining"] as? [String: Any])?["event"] as? String == "share_accepted")
    }

    @Test func eventsFileRotatesBySize() throws {
        let path = tempPath("events.jsonl")
        let f = try EventsFile(path: path, maxBytes: 4096, keep: 2)
        let line = String(repeating: "x", count: 999)
        for _ in 0..<14 { f.append(line) }  // 14 000 bytes: rotates three times, keeps two old files
        #expect(FileManager.default.fileExists(atPath: path + ".1"))
        #expect(FileManager.default.fileExists(atPath: path + ".2"))
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        let sizes = [path, path + ".1", path + ".2"].map {
            (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0
        }
        #expect(sizes.allSatisfy { $0 <= 4096 + 1000 })
        #expect(f.writeErrors == 0)
        // Reopen (SIGHUP) after an external rename starts a fresh file.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".moved")
        try f.reopen()
        f.append("after")
        #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "after\n")
    }

    @Test func boundedQueueDropsOldestNeverBlocks() {
        let q = BoundedQueue<Int>(capacity: 3)
        for i in 0..<10 { q.push(i) }
        #expect(q.dropped == 7)
        #expect(q.count == 3)
        #expect(q.pop() == 7 && q.pop() == 8)
        q.pushFront(8)
        #expect(q.pop() == 8 && q.pop() == 9)
        q.close()
        #expect(q.pop() == nil)
    }

    @Test func syslogTargetsAndEscaping() {
        #expect(SyslogSender.parse("10.0.0.1:514")! == ("10.0.0.1", 514, .udp))
        #expect(SyslogSender.parse("tcp://collector.example:6514")! == ("collector.example", 6514, .tcp))
        #expect(SyslogSender.parse("udp://[2001:db8::1]:514")! == ("2001:db8::1", 514, .udp))
        #expect(SyslogSender.parse("nohost") == nil)
        #expect(SyslogSender.parse("h:0") == nil)
        // RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped; control characters made visible.
        #expect(SyslogSender.sdEscape("a\"b]c\\d\ne") == "a\\\"b\\]c\\\\d\\x0ae")
    }

    @Test func webhookURLsAreChecked() {
        #expect(throws: (any Error).self) { try WebhookSender(url: "ftp://x/y") }
        #expect(throws: (any Error).self) { try WebhookSender(url: "not a url") }
    }
}

/// `live --metrics`: counters follow the sensor's totals, gauges its state, and the health check
/// fails with a reason (docs/operations.md "Metrics").
@Suite struct MetricsTests {
    @Test func countersFollowTotalsAndHealthSaysWhy() throws {
        let m = SensorMetrics(sensor: "tap-7", site: "hq")
        let t0 = Timestamp(seconds: 1_800_000_000)
        var s = SensorMetrics.Snapshot()
        s.analysis.packets = 100
        s.hostsByVerdict = [.mining: 2]
        m.update(s, at: t0)
        s.analysis.packets = 250
        s.analysis.protocolCounts.add(ProtocolCounter("dns_messages"), 7)
        m.update(s, at: t0.adding(seconds: 1))
        let text = m.text()
        #expect(text.contains("stratumsniff_packets_analysed_total 250"), "\(text)")
        // Every registered protocol counter is a series, at zero too.
        #expect(text.contains("stratumsniff_protocol_total{counter=\"dns_messages\"} 7"), "\(text)")
        #expect(text.contains("stratumsniff_protocol_total{counter=\"tls_handshakes\"} 0"), "\(text)")
        #expect(text.contains("stratumsniff_hosts{verdict=\"mining\"} 2"))
        #expect(text.contains("stratumsniff_sensor_info{sensor=\"tap-7\",site=\"hq\"} 1"), "\(text)")
        #expect(m.health(at: t0.adding(seconds: 2)) == nil)
        // Nothing updated the metrics for 11 s: the sensor is stalled.
        #expect(m.health(at: t0.adding(seconds: 12))?.contains("stalled") == true)
        // A problem the sensor reports (the store failing) makes the check fail until it clears.
        s.problem = "the store's latest commit failed"
        m.update(s, at: t0.adding(seconds: 13))
        #expect(m.health(at: t0.adding(seconds: 13)) == "the store's latest commit failed")
        s.problem = nil
        m.update(s, at: t0.adding(seconds: 14))
        #expect(m.health(at: t0.adding(seconds: 14)) == nil)
    }

    @Test func theEndpointAnswersOnlyItsTwoPaths() throws {
        let m = SensorMetrics()
        m.update(SensorMetrics.Snapshot(), at: WallTime.now())
        let server = try MetricsServer(address: "127.0.0.1:19978", metrics: m)
        defer { server.stop() }
        func get(_ path: String) -> String {
            guard let fd = OS.connect(host: "127.0.0.1", port: 19978, tcp: true) else { return "" }
            defer { OS.close(fd) }
            _ = OS.send(fd, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            var out: [UInt8] = []
            while true {
                let b = OS.read(fd, limit: 65536, milliseconds: 2000)
                if b.isEmpty { break }
                out += b
            }
            return String(decoding: out, as: UTF8.self)
        }
        #expect(get("/healthz").hasPrefix("HTTP/1.1 200 OK") && get("/healthz").hasSuffix("ok\n"))
        #expect(get("/metrics").contains("# TYPE stratumsniff_workers gauge"))
        #expect(get("/../etc/passwd").hasPrefix("HTTP/1.1 404"))
        #expect(throws: MetricsError.self) { try MetricsServer(address: "127.0.0.1", metrics: m) }
    }
}
