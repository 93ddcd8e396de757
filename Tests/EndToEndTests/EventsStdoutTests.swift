import Foundation
import Testing

/// `live --events -`: the events as JSON lines on standard output (for a pipe or the journal), the
/// final report kept off it.
@Suite(
    .enabled(
        if: Lab.available && Lab.tcpreplay != nil,
        "needs root and tcpreplay to replay onto lo: the --events - test skipped"))
struct EventsStdoutTests {
    @Test func eventsGoToStandardOutput() throws {
        let dir = Lab.tempDir("events-stdout")
        // A namespace of its own: the replayed miner must not reach other tests capturing on this lo.
        let ns = "ssevents-\(getpid())"
        try #require(try Lab.run(Lab.ip, ["netns", "add", ns]).0 == 0)
        defer { _ = try? Lab.run(Lab.ip, ["netns", "del", ns]) }
        _ = try Lab.run(Lab.ip, ["-n", ns, "link", "set", "lo", "up"])
        let sensor = try Lab.spawn(
            Lab.ip,
            [
                "netns", "exec", ns, Binary.path, "live", "-i", "lo", "--events", "-", "--format", "none",
                "--duration", "4", "--no-store", "--quiet"
            ], log: dir + "/out")
        Thread.sleep(forTimeInterval: 1.5)
        let capture = Binary.root.appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path
        let (rc, out) = try Lab.run(
            Lab.ip, ["netns", "exec", ns, Lab.tcpreplay!, "-q", "-i", "lo", "--topspeed", capture])
        #expect(rc == 0, "tcpreplay: \(out)")
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0, "\(Lab.read(dir + "/out.err"))")
        let lines = Lab.read(dir + "/out").split(separator: "\n")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == lines.count && !lines.isEmpty, "every line is one JSON event: \(lines.prefix(3))")
        let kinds = Set(events.compactMap { $0["event"] as? String })
        #expect(kinds.isSuperset(of: ["session_seen", "share_accepted", "session_end"]), "\(kinds)")
        #expect(events.contains { $0["host"] as? String == "10.0.0.5" })
        // A share refers to its session (Community ID, miner, pool); the session's own events carry it whole.
        let seen = events.first { $0["event"] as? String == "session_seen" }?["session"] as? [String: Any]
        let share = events.first { $0["event"] as? String == "share_accepted" }?["session"] as? [String: Any]
        #expect(seen?["wallets"] != nil)
        #expect(share.map { Set($0.keys) } == ["community_id", "miner", "pool"], "\(String(describing: share))")
        #expect(
            share?["community_id"] as? String == seen?["community_id"] as? String
                && share?["miner"] as? String == seen?["miner"] as? String)
        // The final report would share standard output: refused unless --format none.
        let refused = try Binary.run(["live", "-i", "lo", "--events", "-", "--no-store"])
        #expect(
            refused.status == 2
                && refused.stderr.contains("--events - writes the events to standard output: add --format none"))
        let spelledOut = try Binary.run(["live", "-i", "lo", "--events", "/dev/stdout", "--no-store"])
        #expect(
            spelledOut.status == 2
                && spelledOut.stderr.contains("--events /dev/stdout writes the events to standard output"))
    }
}
