import Foundation
import Testing

/// Live capture end to end: two network namespaces joined by a veth pair, a real Stratum pool
/// and miner (Tests/Fixtures/stratum_pair.py) talking across it, `stratumsniff live` capturing
/// on the pool's side with a store, reports, events, syslog and a webhook — all real.
/// Needs root (it is, on CI) and iproute2; skipped with a message otherwise.
enum Lab {
    static let fixtures = Binary.root.appendingPathComponent("Tests/Fixtures").path
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip)
            && ["/usr/bin/python3", "/usr/local/bin/python3"].contains {
                FileManager.default.isExecutableFile(atPath: $0)
            }
    }
    static let ip = FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"
    static let tcpreplay = ["/usr/bin/tcpreplay", "/usr/sbin/tcpreplay"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @discardableResult
    static func run(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts a process in the background: standard output in `log`, standard error in `log`.err.
    static func spawn(_ path: String, _ args: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        FileManager.default.createFile(atPath: log, contents: nil)
        FileManager.default.createFile(atPath: log + ".err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log + ".err"))
        try p.run()
        return p
    }

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition()
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    static func tempDir(_ tag: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ss-\(tag)-\(UUID().uuidString.prefix(8))"
        ).path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        chmod(d, 0o777)  // the sensor drops to nobody
        return d
    }
}

/// A pool namespace and a miner namespace joined by a veth pair: 10.77.N.1 (pool) and 10.77.N.2 (miner).
final class NetPair {
    let tag: String
    let poolNS: String, minerNS: String
    let poolIf: String, minerIf: String
    let poolIP: String, minerIP: String

    init(_ n: Int) throws {
        tag = String(UUID().uuidString.prefix(6)).lowercased()
        poolNS = "ssp-\(tag)"
        minerNS = "ssm-\(tag)"
        poolIf = "sp\(tag)"
        minerIf = "sm\(tag)"
        poolIP = "10.77.\(n).1"
        minerIP = "10.77.\(n).2"
        let ip = Lab.ip
        for cmd in [
            ["netns", "add", poolNS], ["netns", "add", minerNS],
            ["link", "add", poolIf, "type", "veth", "peer", "name", minerIf],
            ["link", "set", poolIf, "netns", poolNS], ["link", "set", minerIf, "netns", minerNS],
            ["-n", poolNS, "addr", "add", "\(poolIP)/24", "dev", poolIf],
            ["-n", minerNS, "addr", "add", "\(minerIP)/24", "dev", minerIf],
            ["-n", poolNS, "link", "set", poolIf, "up"], ["-n", minerNS, "link", "set", minerIf, "up"],
            ["-n", poolNS, "link", "set", "lo", "up"], ["-n", minerNS, "link", "set", "lo", "up"]
        ] {
            let (rc, out) = try Lab.run(ip, cmd)
            guard rc == 0 else { throw LabError(message: "ip \(cmd.joined(separator: " ")): \(out)") }
        }
    }

    deinit {
        _ = try? Lab.run(Lab.ip, ["netns", "del", poolNS])
        _ = try? Lab.run(Lab.ip, ["netns", "del", minerNS])
    }

    func inPool(_ args: [String]) -> [String] { ["netns", "exec", poolNS] + args }
    func inMiner(_ args: [String]) -> [String] { ["netns", "exec", minerNS] + args }

    /// The scripted pool on 10.77.N.1:3333 inside the pool's namespace, serving for `hold` seconds.
    func startPool(log: String, hold: Int = 20) throws -> Process {
        try Lab.spawn(
            Lab.ip,
            inPool(["python3", Lab.fixtures + "/stratum_pair.py", "pool", poolIP, "3333", "--hold", String(hold)]),
            log: log)
    }

    /// One scripted miner session from the miner's namespace; returns its exit status and output.
    @discardableResult
    func runMiner(shares: Int, interval: Double? = nil, rig: String? = nil) throws -> (Int32, String) {
        var args = ["python3", Lab.fixtures + "/stratum_pair.py", "miner", poolIP, "3333", "--shares", String(shares)]
        if let interval { args += ["--interval", String(interval)] }
        if let rig { args += ["--rig", rig] }
        return try Lab.run(Lab.ip, inMiner(args))
    }
}

struct LabError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite(
    .serialized, .enabled(if: Lab.available, "needs root, iproute2 (ip netns) and python3: live-capture tests skipped"))
struct LiveTests {
    @Test func liveCaptureStoreReportsAlertsAndCleanStop() throws {
        let net = try NetPair(1)
        let dir = Lab.tempDir("live")
        let store = dir + "/store.sqlite"
        let reports = dir + "/reports"
        let events = dir + "/events.jsonl"
        let receivers = try Lab.spawn(
            Lab.ip,
            net.inPool(["python3", Lab.fixtures + "/receivers.py", dir, "--http", "18080", "--syslog", "15514"]),
            log: dir + "/receivers.log")
        defer { receivers.terminate() }
        #expect(Lab.waitFor(10) { FileManager.default.fileExists(atPath: dir + "/ready") })
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool([
                Binary.path, "live", "-i", net.poolIf, "--store", store, "--commit-interval", "1", "--retain", "30d",
                "--report-dir", reports, "--events", events, "--syslog", "tcp://127.0.0.1:15514",
                "--webhook", "http://127.0.0.1:18080/hook", "--format", "json", "--quiet",
                "--sensor", "tap-7", "--site", "hq"
            ]),
            log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 15)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        let (rc, out) = try net.runMiner(shares: 6, interval: 0.3, rig: "<b>rig</b>")
        #expect(rc == 0, "miner: \(out)")
        // The verdict reaches the store and the alert goes out while the sensor keeps running.
        // (A snapshot taken between the login and its answer first says likely-mining; the upgrade to mining is news too.)
        #expect(
            Lab.waitFor(10) { Lab.read(dir + "/webhook.jsonl").contains("\"verdict\":\"mining\"") },
            "no webhook alert; sensor log: \((Lab.read(dir + "/sensor.log.err")))")
        let alert = Lab.read(dir + "/webhook.jsonl")
        #expect(alert.contains("\"host\":\"\(net.minerIP)\"") && alert.contains("\"verdict\":\"mining\""))
        // Every line says which sensor and site it came from (docs/store-and-fleet.md "Many sensors").
        #expect(
            alert.split(separator: "\n").allSatisfy {
                $0.contains("\"sensor\":\"tap-7\"") && $0.contains("\"site\":\"hq\"")
            }, "\(alert)")
        #expect(Lab.waitFor(5) { Lab.read(dir + "/syslog.log").contains("verdict=\"mining\"") })
        let syslog = Lab.read(dir + "/syslog.log")
        #expect(
            syslog.contains("<132>1 ")
                && syslog.contains("sensor=\"tap-7\" site=\"hq\" host=\"\(net.minerIP)\" verdict=\"mining\""))
        let report = try Binary.run(["report", "--store", store, "--since", "1h", "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as! [String: Any]
        let hosts = doc["hosts"] as! [[String: Any]]
        #expect(
            hosts.contains {
                ($0["host"] as? [String: Any])?["host"] as? String == net.minerIP
                    && ($0["host"] as? [String: Any])?["verdict"] as? String == "mining"
            })
        // SIGTERM: final report, store closed, exit 0.
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0, "sensor log: \((Lab.read(dir + "/sensor.log.err")))")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: reports)) ?? []
        let final = try #require(files.first { $0.hasSuffix("-final.json") })
        let finalText = Lab.read(reports + "/" + final)
        #expect(finalText.contains("\"host\" : \"\(net.minerIP)\""))
        #expect(files.contains { $0.hasSuffix("-final.html") })
        let finalDoc =
            try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any]
        let capture = (finalDoc?["summary"] as? [String: Any])?["capture"] as? [String: Any]
        #expect((capture?["packets_received"] as? Int ?? 0) > 0)
        #expect(capture?["packets_dropped_by_kernel"] as? Int == 0)
        // Events: the session as it happened, and the alert; all written as the unprivileged user.
        let ev = Lab.read(events)
        #expect(ev.contains("\"event\":\"session_seen\"") && ev.contains("\"type\":\"alert\""))
        #expect(
            ev.split(separator: "\n").allSatisfy {
                $0.contains("\"sensor\":\"tap-7\"") && $0.contains("\"site\":\"hq\"")
            })
        var st = stat()
        stat(events, &st)
        #expect(st.st_uid != 0, "events file should belong to the user the sensor dropped to")
        // The HTML escapes the worker name the miner chose.
        let html = Lab.read(reports + "/" + files.first { $0.hasSuffix("-final.html") }!)
        #expect(html.contains("&lt;b&gt;rig&lt;/b&gt;") && !html.contains("<b>rig</b>"))
        try renderInChromium(reports + "/" + files.first { $0.hasSuffix("-final.html") }!, dir: dir)
    }

    /// Headless Chromium renders the self-contained HTML report to an image; a failed render fails the test.
    func renderInChromium(_ html: String, dir: String) throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let browser = try #require(chromium, "chromium is not installed (scripts/test installs it)")
        let png = dir + "/report.png"
        let (rc, out) = try Lab.run(
            "/usr/bin/timeout",
            [
                "90", browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1280,1000", "--screenshot=\(png)", "file://" + html
            ])
        #expect(rc == 0, "chromium failed: \(out)")
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 20_000, "the screenshot is empty (\(size) bytes)")
    }

    @Test func restartContinuesTheHistory() throws {
        let net = try NetPair(2)
        let dir = Lab.tempDir("restart")
        let store = dir + "/store.sqlite"
        let pool = try net.startPool(log: dir + "/pool.log", hold: 20)
        defer { pool.terminate() }
        for round in 1...2 {
            let sensor = try Lab.spawn(
                Lab.ip,
                net.inPool([Binary.path, "live", "-i", net.poolIf, "--store", store, "--format", "none", "--quiet"]),
                log: dir + "/sensor\(round).log")
            Thread.sleep(forTimeInterval: 1.5)
            let (rc, out) = try net.runMiner(shares: 3, interval: 0.2, rig: "rig\(round)")
            #expect(rc == 0, "miner: \(out)")
            Thread.sleep(forTimeInterval: 0.5)
            sensor.terminate()
            sensor.waitUntilExit()
            #expect(sensor.terminationStatus == 0, Comment(rawValue: Lab.read(dir + "/sensor\(round).log")))
        }
        let report = try Binary.run(["report", "--store", store, "--since", "all", "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as! [String: Any]
        #expect((doc["capture"] as? [String: Any])?["runs"] as? Int == 2)
        let miner = (doc["hosts"] as! [[String: Any]]).first {
            ($0["host"] as? [String: Any])?["host"] as? String == net.minerIP
        }
        let sessions = miner?["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == 2, "one session per run, both kept")
        #expect(sessions.reduce(0) { $0 + ($1["shares_accepted"] as? Int ?? 0) } == 6)
    }

    @Test func webhookReceiverDownIsRetriedAndSyslogOverUDP() throws {
        let net = try NetPair(3)
        let dir = Lab.tempDir("retry")
        // The receivers start 3 s late and the webhook refuses its first request: the alert must still arrive.
        let receivers = try Lab.spawn(
            Lab.ip,
            net.inPool([
                "python3", Lab.fixtures + "/receivers.py", dir, "--http", "18081", "--syslog", "15515",
                "--fail-first", "1", "--start-after", "3"
            ]), log: dir + "/receivers.log")
        defer { receivers.terminate() }
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool([
                Binary.path, "live", "-i", net.poolIf, "--no-store", "--format", "none", "--quiet",
                "--commit-interval", "1", "--webhook", "http://127.0.0.1:18081/hook",
                "--syslog", "udp://127.0.0.1:15515"
            ]), log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 20)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        try net.runMiner(shares: 2)
        #expect(
            Lab.waitFor(20) { Lab.read(dir + "/webhook.jsonl").contains("\"type\":\"alert\"") },
            "alert not delivered after the receiver came up; sensor log: \((Lab.read(dir + "/sensor.log.err")))")
        #expect(
            !Lab.read(dir + "/webhook-refused.log").isEmpty, "the first attempt should have been refused and retried")
        // With the collector up, a second session's events arrive over UDP.
        try net.runMiner(shares: 1, rig: "second")
        #expect(
            Lab.waitFor(5) {
                Lab.read(dir + "/syslog.log").contains(" session [stratumsniff@32473 sensor=\"")
                    && Lab.read(dir + "/syslog.log").contains(" host=\"\(net.minerIP)\"")
            })
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0)
    }

    @Test func replayAtFullSpeedReportsCaptureCounters() throws {
        let tcpreplay = try #require(Lab.tcpreplay, "tcpreplay is not installed (scripts/test installs it)")
        let net = try NetPair(4)
        let dir = Lab.tempDir("replay")
        // One capture thread (`--workers 1`, LiveLoop): the other live tests run the default, one per core.
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool([
                Binary.path, "live", "-i", net.poolIf, "--no-store", "--format", "json", "--quiet",
                "--buffer-size", "1", "--workers", "1"
            ]), log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        // Every generated capture, back to back, as fast as the link takes them, from the miner side.
        var sent = 0
        for name in ["xmrig-cryptonote.pcap", "stratum-v1-vlan.pcap", "tls-to-pool.pcap", "dns-and-nodes.pcap"] {
            let (rc, out) = try Lab.run(
                Lab.ip,
                net.inMiner([
                    tcpreplay, "--topspeed", "-i", net.minerIf, Binary.root.appendingPathComponent("pcaps/" + name).path
                ]))
            #expect(rc == 0, "tcpreplay: \(out)")
            let m = try #require(
                out.range(of: #"Actual: (\d+) packets"#, options: .regularExpression),
                "tcpreplay did not say what it sent: \(out)")
            sent += try #require(Int(out[m].split(separator: " ")[1]))
        }
        Thread.sleep(forTimeInterval: 1)
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any]
        let capture = try #require((doc?["summary"] as? [String: Any])?["capture"] as? [String: Any])
        let received = capture["packets_received"] as? Int ?? -1
        let dropped =
            (capture["packets_dropped_by_kernel"] as? Int ?? -1)
            + (capture["packets_dropped_by_interface"] as? Int ?? 0)
        // Every packet sent is either received or counted as dropped — never silently lost.
        #expect(sent > 0 && received + dropped >= sent, "sent \(sent), received \(received), dropped \(dropped)")
        let hosts = (doc?["hosts"] as? [[String: Any]] ?? []).map { $0["host"] as? String }
        if dropped == 0 { #expect(hosts.contains("10.0.0.5"), "the replayed XMRig session should be found") }
    }

    @Test func sighupReopensEventsAndReloadsLists() throws {
        let net = try NetPair(5)
        let dir = Lab.tempDir("hup")
        let events = dir + "/events.jsonl"
        let allow = dir + "/allow.txt"
        try "# nothing allowed yet\n".write(toFile: allow, atomically: true, encoding: .utf8)
        chmod(allow, 0o644)
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool([
                Binary.path, "live", "-i", net.poolIf, "--no-store", "--format", "json", "--quiet",
                "--events", events, "--allow-list", allow, "--workers", "1"
            ]), log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 20)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        try net.runMiner(shares: 1)
        #expect(Lab.waitFor(5) { Lab.read(events).contains("session_seen") })
        // Rotate the file away as logrotate would, allow the miner, and send SIGHUP.
        try FileManager.default.moveItem(atPath: events, toPath: events + ".old")
        try "\(net.minerIP)\n".write(toFile: allow, atomically: true, encoding: .utf8)
        chmod(allow, 0o644)
        kill(sensor.processIdentifier, SIGHUP)
        #expect(
            Lab.waitFor(5) { FileManager.default.fileExists(atPath: events) },
            "events file not reopened: \(Lab.read(dir + "/sensor.log.err"))")
        #expect(
            Lab.waitFor(5) { Lab.read(dir + "/sensor.log.err").contains("SIGHUP: outputs reopened, lists reloaded") })
        try net.runMiner(shares: 1, rig: "later")
        Thread.sleep(forTimeInterval: 1)
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0)
        // The second session went to the new file; the reloaded allow list keeps the miner out of the final report.
        #expect(Lab.read(events).contains("session_seen"))
        let doc = try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any]
        let hosts = (doc?["hosts"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(!hosts.contains(net.minerIP))
    }
}
