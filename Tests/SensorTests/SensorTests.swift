import Foundation
import Testing
@testable import Sensor

@Suite struct OutputTests {
    func tempPath(_ name: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("sensor-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.appendingPathComponent(name).path
    }

    @Test func eventsFileRotatesBySize() throws {
        let path = tempPath("events.jsonl")
        let f = try EventsFile(path: path, maxBytes: 4096, keep: 2)
        let line = String(repeating: "x", count: 999)
        for _ in 0..<14 { f.append(line) }   // 14 000 bytes: rotates three times, keeps two old files
        #expect(FileManager.default.fileExists(atPath: path + ".1"))
        #expect(FileManager.default.fileExists(atPath: path + ".2"))
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        let sizes = [path, path + ".1", path + ".2"].map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
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
