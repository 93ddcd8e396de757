import Foundation
import Testing
import TrafficGen

/// Runs the built `stratumsniff` binary on capture files and checks its JSON.
enum Binary {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared/pcaps")
    /// The binary built with these tests (same build directory and configuration as the test bundle,
    /// a dependency of this target), never a stale one from another configuration.
    static var path: String { built("stratumsniff") }

    static func built(_ name: String) -> String {
        // scripts/sanitize points the tests at a ThreadSanitizer or AddressSanitizer build.
        if name == "stratumsniff", let p = ProcessInfo.processInfo.environment["STRATUMSNIFF_BINARY"], !p.isEmpty {
            return p
        }
        let bundle = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
            .resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent(name).path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary (or `executable`) with `args`; `directory` and `environment` (the whole of it)
    /// when given.
    static func run(
        _ args: [String], stdin: Data? = nil, executable: String? = nil, directory: URL? = nil,
        environment: [String: String]? = nil
    ) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable ?? path)
        p.arguments = args
        if let directory { p.currentDirectoryURL = directory }
        if let environment { p.environment = environment }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self)
        if p.terminationReason == .uncaughtSignal {
            // A crash is never an expected outcome: say where, with what the runtime printed.
            Issue.record(
                "stratumsniff \(args.joined(separator: " ")) died of signal \(p.terminationStatus): \(stderr.suffix(4000))"
            )
        }
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: stderr)
    }

    static func json(_ args: [String]) throws -> (Int32, [String: Any]) {
        let r = try run(["analyze", "--format", "json", "--quiet"] + args)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        return (r.status, obj)
    }

    static func hosts(_ doc: [String: Any]) -> [[String: Any]] { doc["hosts"] as? [[String: Any]] ?? [] }
    static func verdicts(_ doc: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: hosts(doc).map { ($0["host"] as! String, $0["verdict"] as! String) })
    }

    static func temp(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ss-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url.path
    }

    static var sharedAvailable: Bool {
        FileManager.default.fileExists(atPath: shared.appendingPathComponent("mining.pcapng").path)
    }
}

@Suite(.serialized) struct RealCaptureTests {
    @Test(.enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: real-capture tests skipped"))
    func miningPcapngFlagsExactlyTheThreeMiners() throws {
        let (status, doc) = try Binary.json([Binary.shared.appendingPathComponent("mining.pcapng").path])
        #expect(status == 1)
        let v = Binary.verdicts(doc)
        #expect(Set(v.filter { $0.value == "mining" }.keys) == ["192.168.2.148", "147.229.13.222", "192.168.2.92"])
        #expect(
            Set(v.filter { $0.value == "pool" }.keys) == [
                "94.23.199.191", "116.211.167.195", "178.32.196.217", "185.71.66.39"
            ])
        let hosts = Dictionary(uniqueKeysWithValues: Binary.hosts(doc).map { ($0["host"] as! String, $0) })
        let xmr = hosts["192.168.2.92"]!
        #expect((xmr["miner_software"] as? [String]) == ["xmr-stak-cpu/1.3.0-1.5.0"])
        #expect(
            (xmr["wallets"] as? [String])?.first?.hasPrefix("4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9")
                == true)
        #expect(xmr["shares_accepted"] as? Int == 30)
        let xs = (xmr["sessions"] as! [[String: Any]])[0]
        #expect(xs["pool"] as? String == "178.32.196.217:9050" && xs["dialect"] as? String == "cryptonote")
        #expect(xs["login_accepted"] as? Bool == true && xs["coin"] as? String == "monero")
        let ewbf = hosts["192.168.2.148"]!
        #expect((ewbf["miner_software"] as? [String]) == ["EWBF 0.3.4b"])
        #expect(
            Set(ewbf["wallets"] as? [String] ?? []) == [
                "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd", "t1fJuHWrfcWnYMYyP9VAF96vRnvND2NziMG"
            ])
        let ewbfSessions = ewbf["sessions"] as! [[String: Any]]
        #expect(
            Set(ewbfSessions.compactMap { ($0["pool_hostnames"] as? [String])?.first }) == [
                "eu1-zcash.flypool.org:3333", "cn1-zcash.flypool.org:3333"
            ])
        #expect(ewbfSessions.map { $0["shares_accepted"] as! Int }.reduce(0, +) == 46)
        #expect(ewbfSessions.map { $0["shares_rejected"] as! Int }.reduce(0, +) == 1)
        let eth = hosts["147.229.13.222"]!
        #expect((eth["wallets"] as? [String]) == ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b"])
        let es = (eth["sessions"] as! [[String: Any]])[0]
        #expect(es["dialect"] as? String == "eth-proxy" && es["pool"] as? String == "185.71.66.39:9999")
        #expect((es["reported_hashrate_hs"] as? Double ?? 0) > 1e7)
        #expect((es["workers"] as? [String])?.contains("eth1.0") == true)
        // The pool names the sessions revealed are on the built-in list.
        #expect(ewbfSessions.allSatisfy { ($0["pool_list_match"] as? String)?.hasPrefix("flypool.org") == true })
    }

    @Test(
        .enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: real-capture tests skipped"),
        arguments: [
            "dns.pcap", "443-chrome.pcap", "websocket.pcap", "http-lines-split.pcap",
            "malformed_dns.pcap", "fuzz-2006-06-26-2594.pcap", "reasm_crash_anon.pcapng"
        ])
    func otherRealCapturesFlagNothing(file: String) throws {
        let (status, doc) = try Binary.json([Binary.shared.appendingPathComponent(file).path])
        #expect(status == 0, "\(file) exit status")
        #expect(Binary.hosts(doc).isEmpty, "\(file): \(Binary.verdicts(doc))")
        #expect(((doc["summary"] as? [String: Any])?["packets"] as? Int ?? 0) > 0)
    }

    @Test(.enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: real-capture tests skipped"))
    func decodersSeeTheirProtocolsInRealCaptures() throws {
        func summary(_ file: String) throws -> [String: Any] {
            try Binary.json([Binary.shared.appendingPathComponent(file).path]).1["summary"] as? [String: Any] ?? [:]
        }
        #expect(try summary("dns.pcap")["dns_messages"] as? Int ?? 0 >= 5)
        #expect(try summary("http-lines-split.pcap")["http_flows"] as? Int == 1)
        #expect((try summary("malformed_dns.pcap")["anomalies"] as? [String: Int])?["dns_malformed"] ?? 0 > 0)
    }

    @Test(.enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: real-capture tests skipped"))
    func moneroNodeIsACryptoNodeNeverAMiner() throws {
        let path = Binary.shared.appendingPathComponent("monero.pcap").path
        let (status, doc) = try Binary.json([path])
        #expect(status == 0)
        let v = Binary.verdicts(doc)
        #expect(v["192.168.2.100"] == "crypto-node")
        #expect(Set(v.values) == ["crypto-node"])
        // Nodes are listed, not flagged: the summary must not say "5 hosts flagged".
        #expect((doc["summary"] as? [String: Any])?["hosts_flagged"] as? Int == 0)
        let host = Binary.hosts(doc).first { $0["host"] as? String == "192.168.2.100" }!
        let evidence = host["evidence"] as! [[String: Any]]
        #expect(
            evidence.count == 4
                && evidence.allSatisfy { $0["kind"] as? String == "p2p-node" && $0["coin"] as? String == "monero" })
        // --local-net centres the report on our own hosts: the peers out on the Internet drop out.
        let (_, local) = try Binary.json(["--local-net", "192.168.2.0/24", path])
        #expect(Binary.verdicts(local) == ["192.168.2.100": "crypto-node"])
    }
}

@Suite(.serialized) struct GeneratedCaptureTests {
    @Test(arguments: Corpus.all.map(\.name))
    func scenarioGivesExpectedVerdicts(name: String) throws {
        let scenario = Corpus.all.first { $0.name == name }!
        let path = try Binary.temp(name, scenario.build())
        let (status, doc) = try Binary.json([path])
        #expect(Binary.verdicts(doc) == scenario.expected)
        #expect(status == (scenario.expected.values.contains { $0 == "mining" || $0 == "likely-mining" } ? 1 : 0))
    }

    @Test func checkedInPcapsMatchTheGenerator() throws {
        for s in Corpus.all {
            let onDisk = try Data(contentsOf: Binary.root.appendingPathComponent("pcaps/\(s.name)"))
            let same = [UInt8](onDisk) == s.build()  // compared first so a failure does not print both captures
            #expect(same, "pcaps/\(s.name) is stale: run scripts/gen-pcaps")
        }
    }

    @Test func adversarialSessionStillCountsEverything() throws {
        let s = Corpus.all.first { $0.name == "adversarial-segmentation.pcap" }!
        let (_, doc) = try Binary.json([try Binary.temp("adv.pcap", s.build())])
        let host = Binary.hosts(doc).first { $0["host"] as? String == "10.0.0.66" }!
        let session = (host["sessions"] as! [[String: Any]])[0]
        #expect(session["shares_accepted"] as? Int == 3)
        #expect(session["login_accepted"] as? Bool == true)
        #expect((session["workers"] as? [String]) == ["wrap"])
        let summary = doc["summary"] as! [String: Any]
        #expect(summary["gaps"] as? Int == 1)
        #expect((summary["fragments_reassembled"] as? Int ?? 0) > 0)
        #expect((summary["retransmitted_segments"] as? Int ?? 0) > 0)
    }

    @Test func hostileStringsAreEscapedInTableAndJSON() throws {
        let s = Corpus.all.first { $0.name == "hostile-strings.pcap" }!
        let path = try Binary.temp("hostile.pcap", s.build())
        let table = try Binary.run(["analyze", "--quiet", path])
        #expect(
            !table.stdout.contains("\u{1B}") && !table.stdout.contains("\u{7}") && !table.stdout.contains("\u{202E}"))
        #expect(table.stdout.contains("\\x1b"))
        let json = try Binary.run(["analyze", "--quiet", "--format", "json", path])
        #expect(!json.stdout.contains("\u{1B}"))
        #expect(json.stdout.contains("\\u001b"))
    }

    @Test func severalFilesAndStdinAsOneTimeline() throws {
        let a = try Binary.temp("a.pcap", Corpus.all[0].build())
        let b = Corpus.all[1].build()
        let r = try Binary.run(["analyze", "--quiet", "--format", "json", a, "-"], stdin: Data(b))
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(Set(Binary.verdicts(doc).keys) == Set(Corpus.all[0].expected.keys).union(Corpus.all[1].expected.keys))
        #expect((doc["summary"] as! [String: Any])["files"] as? Int == 2)
    }

    @Test func jsonlEmitsEventsThenVerdicts() throws {
        let path = try Binary.temp("x.pcap", Corpus.all[0].build())
        let r = try Binary.run(["analyze", "--quiet", "--format", "jsonl", path])
        let lines = r.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let events = lines.compactMap { $0["event"] as? String }
        #expect(events.first == "session_seen")
        #expect(
            events.contains("login_accepted") && events.contains("share_accepted") && events.contains("share_rejected"))
        #expect(events.last == "session_end")
        #expect(lines.filter { $0["type"] as? String == "host_verdict" }.count == 2)
        #expect(lines.last?["type"] as? String == "summary")
        // Every line names its sensor (the host name unless --sensor) and site (null unless --site).
        #expect(lines.allSatisfy { ($0["sensor"] as? String)?.isEmpty == false && $0["site"] is NSNull })
        let named = try Binary.run([
            "analyze", "--quiet", "--format", "jsonl", "--sensor", "tap-1", "--site", "hq", path
        ])
        let namedLines = named.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(namedLines.count == lines.count)
        #expect(namedLines.allSatisfy { $0["sensor"] as? String == "tap-1" && $0["site"] as? String == "hq" })
    }

    @Test func badInputsAreReportedAndTheRestIsAnalysed() throws {
        let good = try Binary.temp("good.pcap", Corpus.all[0].build())
        let text = try Binary.temp("notes.txt", Array("hello, not a capture\n".utf8))
        var truncated = Corpus.all[1].build()
        truncated.removeLast(7)
        let cut = try Binary.temp("cut.pcap", truncated)
        let r = try Binary.run(["analyze", "--quiet", "--format", "json", "/nonexistent/x.pcap", text, cut, good])
        #expect(r.status == 2)
        let errLines = r.stderr.split(separator: "\n")
        #expect(errLines.count == 4)
        #expect(errLines[0].contains("/nonexistent/x.pcap"))
        #expect(errLines[1].contains("notes.txt") && errLines[1].contains("not a pcap"))
        #expect(errLines[2].contains("cut.pcap") && errLines[2].contains("damaged"))
        // The error's status wins over the miner's, and says so (README "Exit status").
        #expect(
            errLines[3]
                == "stratumsniff: warning: mining found in what could be read, but 3 files failed: exit status 2, not 1"
        )
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        // Everything before the damage in cut.pcap still counts: both scenarios' miners are present.
        #expect(Set(Binary.verdicts(doc).keys).isSuperset(of: ["10.0.0.5", "10.1.1.7"]))
    }

    @Test func bpfFilterAppliesAndBadFilterIsAUsageError() throws {
        let path = try Binary.temp("x.pcap", Corpus.all[0].build())
        let (status, doc) = try Binary.json(["--bpf", "tcp port 9", path])
        #expect(status == 0 && Binary.hosts(doc).isEmpty)
        let bad = try Binary.run(["analyze", "--bpf", "tcp portt 80", path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad BPF filter"))
        let noFiles = try Binary.run(["analyze"])
        #expect(noFiles.status == 2)
    }

    @Test(arguments: [(105, "IEEE802_11 (105)"), (4000, "4000")] as [(UInt32, String)])
    func unsupportedLinkTypesAreNamedOnce(dlt: UInt32, said: String) throws {
        // A classic pcap header and nothing else: magic, version 2.4, zone, sigfigs, snaplen, link type.
        var header: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0]
        header += withUnsafeBytes(of: dlt.littleEndian, Array.init)
        let r = try Binary.run(["analyze", try Binary.temp("dlt\(dlt).pcap", header)])
        #expect(r.status == 2)
        #expect(r.stderr.contains(": unsupported link type \(said); supported: EN10MB"), "\(r.stderr)")
    }

    @Test func usageMistakesExit2AndPointAtTheRightHelp() throws {
        // No command at all: help on standard error, status 2 (a script that lost its arguments notices).
        let none = try Binary.run([])
        #expect(none.status == 2 && none.stdout.isEmpty && none.stderr.contains("SUBCOMMANDS:"))
        let bad = try Binary.run(["report", "--store", "/nonexistent/s.sqlite"])
        #expect(
            bad.status == 2 && bad.stderr.contains("'stratumsniff report --help'") && !bad.stderr.contains("<command>"))
        #expect(try Binary.run(["--help"]).status == 0)
        // ArgumentParser adds "(default: …)" itself: no option's help may say it twice.
        for command in ["analyze", "live", "report", "interfaces"] {
            let help = try Binary.run([command, "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
            #expect(
                help.range(of: #"\(default[ :][^)]*\)[. ]*\(default"#, options: .regularExpression) == nil,
                "\(command) --help repeats a default")
        }
    }

    /// An allow-listed pool is sanctioned mining: named by DNS (dns-and-nodes) or by the session
    /// itself (the VLAN capture's client.reconnect / subscribe host), its miners are not flagged.
    @Test func allowListedPoolsAreSanctionedMining() throws {
        let allow = try Binary.temp("allow.txt", Array("supportxmr.com\nexample-pool.net\n".utf8))
        let dns = Binary.root.appendingPathComponent("pcaps/dns-and-nodes.pcap").path
        let (before, all) = try Binary.json([dns])
        #expect(before == 1 && Binary.verdicts(all)["10.0.0.81"] == "mining")
        let (status, doc) = try Binary.json(["--allow-list", allow, dns])
        let v = Binary.verdicts(doc)
        #expect(v["10.0.0.81"] == nil && v["198.51.100.100"] == nil)
        #expect(v["10.0.0.80"] == "suspicious")  // another pool's name is still evidence
        #expect(status == 0)
        #expect((doc["summary"] as! [String: Any])["allowed_sessions"] as? Int == 1)
        let vlan = Binary.root.appendingPathComponent("pcaps/stratum-v1-vlan.pcap").path
        let (vlanStatus, vlanDoc) = try Binary.json(["--allow-list", allow, vlan])
        #expect(vlanStatus == 0 && Binary.hosts(vlanDoc).isEmpty)
    }

    /// Diagnostics follow --log-level, and under systemd carry the journal's priority prefix.
    @Test func diagnosticsFollowTheirLevelAndTheJournal() throws {
        let missing = "/nonexistent/x.pcap"
        let plain = try Binary.run(["analyze", "--quiet", missing])
        #expect(plain.stderr == "stratumsniff: \(missing): cannot read capture: No such file or directory\n")
        let quiet = try Binary.run(["analyze", "--quiet", "--log-level", "critical", missing])
        #expect(quiet.status == 2 && quiet.stderr.isEmpty)  // the status still says it
        #expect(try Binary.run(["analyze", "--log-level", "loud", missing]).status == 2)
        let journal = try Binary.run(["analyze", "--quiet", missing], environment: ["JOURNAL_STREAM": "8:12345"])
        #expect(journal.stderr == "<3>\(missing): cannot read capture: No such file or directory\n")
    }

    @Test func allHostsListsHostsWithoutEvidence() throws {
        let s = Corpus.all.first { $0.name == "not-mining-jsonrpc.pcap" }!
        let (status, doc) = try Binary.json(["--all-hosts", try Binary.temp("nm.pcap", s.build())])
        #expect(status == 0)
        let v = Binary.verdicts(doc)
        #expect(v.count == 10 && Set(v.values) == ["none"])
        #expect((doc["summary"] as! [String: Any])["hosts_flagged"] as? Int == 0)
    }

    @Test func capsAreSettable() throws {
        let path = try Binary.temp("x.pcap", Corpus.all[0].build())
        let (_, doc) = try Binary.json(["--max-flows", "1", "--max-line-length", "100", path])
        let summary = doc["summary"] as! [String: Any]
        #expect((summary["anomalies"] as? [String: Int])?["stratum_line_too_long"] ?? 0 > 0)
        let bad = try Binary.run(["analyze", "--max-flows", "0", path])
        #expect(bad.status == 2)
    }
}

/// `--format eve` (and `live --events-format eve`): records a Suricata EVE pipeline takes unchanged
/// (docs/output.md "JSON output": the field set is documented there).
@Suite struct EveOutputTests {
    @Test func analyzeWritesEveRecords() throws {
        let path = try Binary.temp("eve.pcap", Corpus.all[0].build())
        let r = try Binary.run(["analyze", "--quiet", "--format", "eve", "--sensor", "tap-1", "--site", "hq", path])
        let lines = r.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(lines.count > 4)
        let stamp = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$"#)
        for l in lines {
            // Suricata's standard keys, its timestamp format, and the sensor as EVE's `host`.
            #expect((l["timestamp"] as? String).map { $0.wholeMatch(of: stamp) != nil } == true, "\(l)")
            #expect(["mining", "alert"].contains(l["event_type"] as? String ?? ""))
            #expect(l["host"] as? String == "tap-1" && l["site"] as? String == "hq")
            for key in ["src_ip", "src_port", "dest_ip", "dest_port", "proto", "community_id", "mining"] {
                #expect(l.keys.contains(key), "\(key) in \(l)")
            }
        }
        let mining = lines.filter { $0["event_type"] as? String == "mining" }
        let seen = try #require(
            mining.first { ($0["mining"] as? [String: Any])?["event"] as? String == "session_seen" })
        #expect(
            seen["proto"] as? String == "TCP" && seen["src_ip"] as? String == "10.0.0.5"
                && seen["dest_port"] as? Int == 443)
        #expect(((seen["mining"] as? [String: Any])?["session"] as? [String: Any])?["wallets"] != nil)
        // A share refers to its session by Community ID instead of repeating it.
        let share = try #require(
            mining.first { ($0["mining"] as? [String: Any])?["event"] as? String == "share_accepted" })
        #expect((share["mining"] as? [String: Any])?["session"] is NSNull)
        #expect(
            share["community_id"] as? String == seen["community_id"] as? String
                && (seen["community_id"] as? String)?.hasPrefix("1:") == true)
        // The verdicts close the stream as alerts, the miner's with severity 1 and ET's coin-mining category.
        let alert = try #require(
            lines.first { $0["event_type"] as? String == "alert" && $0["src_ip"] as? String == "10.0.0.5" })
        let a = try #require(alert["alert"] as? [String: Any])
        #expect(a["severity"] as? Int == 1 && a["category"] as? String == "Crypto Currency Mining Activity Detected")
        #expect((a["signature"] as? String)?.contains("mining") == true)
    }
}
