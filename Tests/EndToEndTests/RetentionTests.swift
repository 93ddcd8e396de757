import Foundation
import Testing

/// Issue 13's retention: `prune --older-than` removes old sessions, evidence records and capture
/// statistics; hosts (first seen, latest report) and verdict changes stay.
@Suite struct RetentionTests {
    @Test func pruneRemovesOldDetailAndKeepsHostsAndVerdictChanges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ss-prune-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = dir + "/store.sqlite"
        // Two generated captures from 2024-11-19 (packet time), stored now (wall clock).
        let a = try Binary.run([
            "analyze", "--quiet", "--format", "none", "--store", store,
            Binary.root.appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path,
            Binary.root.appendingPathComponent("pcaps/dns-and-nodes.pcap").path
        ])
        #expect(a.status == 1, "\(a.stderr)")
        // 2024-11 is younger than 3650 days: nothing goes.
        let keepAll = try Binary.run(["prune", "--store", store, "--older-than", "3650d"])
        #expect(keepAll.status == 0, "\(keepAll.stderr)")
        #expect(
            keepAll.stdout.contains("removed 0 sessions, 0 evidence records and 0 capture statistics"),
            "\(keepAll.stdout)")
        // Older than 30 days: the sessions and evidence of 2024 go; the statistics committed today stay.
        let p = try Binary.run(["prune", "--store", store, "--older-than", "30d"])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("removed 2 sessions, 5 evidence records and 0 capture statistics"), "\(p.stdout)")
        let again = try Binary.run(["prune", "--store", store, "--older-than", "30d"])
        #expect(again.stdout.contains("removed 0 sessions, 0 evidence records"), "\(again.stdout)")
        // The history still says who mined and since when.
        let r = try Binary.run(["report", "--store", store, "--since", "all", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let text = String(decoding: try JSONSerialization.data(withJSONObject: doc), as: UTF8.self)
        #expect(
            text.contains("\"10.0.0.5\"") && text.contains("\"10.0.0.81\""),
            "hosts gone after pruning: \(text.prefix(400))")
        #expect(text.contains("2024-11-19"), "first-seen times gone")
        // Usage mistakes are refused with a line that says what to write.
        let bad = try Binary.run(["prune", "--store", store, "--older-than", "soon"])
        #expect(bad.status != 0 && bad.stderr.contains("--older-than soon"))
    }
}
