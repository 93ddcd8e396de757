import Detection
import Foundation
import PacketDecoding
import Pipeline
import Store
import Testing
import TrafficGen

@testable import Reporting

/// Runs a generated scenario through the real packet pipeline (frames parsed back from the pcap image).
func analyze(_ name: String) -> (PacketPipeline, [HostReport]) {
    let bytes = Corpus.all.first { $0.name == name }!.build()
    let a = PacketPipeline()
    // pcap: 24-byte header, then 16-byte record headers (ts sec, ts usec, caplen, len), little-endian.
    func le32(_ i: Int) -> Int {
        Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
    }
    var off = 24
    bytes.withUnsafeBytes { buf in
        while off + 16 <= bytes.count {
            let sec = le32(off)
            let usec = le32(off + 4)
            let cap = le32(off + 8)
            let len = le32(off + 12)
            let frame = UnsafeRawBufferPointer(rebasing: buf[(off + 16)..<(off + 16 + cap)])
            a.process(
                time: Timestamp(seconds: Int64(sec), nanos: Int64(usec) * 1000), linkType: .ethernet, frame: frame,
                originalLength: len)
            off += 16 + cap
        }
    }
    return (a, a.finish())
}

func tempStore() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
}

@Suite struct StoreTests {
    @Test func historyContinuesAcrossRuns() throws {
        let path = tempStore()
        let (a1, r1) = analyze("xmrig-cryptonote.pcap")
        do {
            let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
            db.beginRun(source: "test 1", version: "t", at: Timestamp(seconds: 100))
            let changes = try db.commit(
                StoreBatch(
                    time: Timestamp(seconds: 100), reports: r1, statsJSON: "{}", packets: a1.statistics.packets,
                    bytes: 0, flows: 1,
                    firstPacket: a1.statistics.firstPacket, lastPacket: a1.statistics.lastPacket))
            #expect(Set(changes.map(\.host)) == ["10.0.0.5", "198.51.100.20"])
            #expect(changes.allSatisfy { $0.old == nil })
            // The same reports again change nothing.
            #expect(
                try db.commit(
                    StoreBatch(
                        time: Timestamp(seconds: 101), reports: r1, statsJSON: "{}", packets: 0, bytes: 0, flows: 0)
                ).isEmpty)
            try db.endRun(at: Timestamp(seconds: 102))
        }
        // A new process, the same file: the second run adds to the history.
        let (a2, r2) = analyze("tls-to-pool.pcap")
        let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "test 2", version: "t", at: Timestamp(seconds: 200))
        try db.commit(
            StoreBatch(
                time: Timestamp(seconds: 200), reports: r2, statsJSON: "{}", packets: 5, bytes: 0, flows: 1,
                firstPacket: a2.statistics.firstPacket, lastPacket: a2.statistics.lastPacket))
        let span = try #require(try db.span())
        let all = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 300)).report
        #expect(Set(all.hosts.map(\.host.host)) == ["10.0.0.5", "198.51.100.20", "10.0.0.40", "10.0.0.42", "10.0.0.43"])
        #expect(all.capture.runs == 2)
        let miner = all.hosts.first { $0.host.host == "10.0.0.5" }!
        #expect(miner.sessions.count == 1 && miner.sessions[0].shares_accepted == 5)
        #expect(miner.host.verdict == "mining")
        // A window that excludes the first capture's packet times leaves its hosts out.
        let later = try db.report(from: span.1 - 1_000_000_000, to: span.1, generated: Timestamp(seconds: 300)).report
        #expect(!later.hosts.contains { $0.host.host == "10.0.0.5" })
    }

    @Test func schemaVersionIsRecorded() throws {
        let path = tempStore()
        _ = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        // Opening again runs no migration twice and keeps working.
        let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "x", version: "t", at: Timestamp(seconds: 1))
        let version = try #require(
            try shell("sqlite3", [path, "PRAGMA user_version;"]), "sqlite3 is not installed (scripts/test installs it)")
        #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }
}

@Suite struct RendererTests {
    func report(_ name: String) throws -> PeriodReport {
        let path = tempStore()
        let (_, r) = analyze(name)
        let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "t", version: "t", at: Timestamp(seconds: 1))
        try db.commit(
            StoreBatch(time: Timestamp(seconds: 1), reports: r, statsJSON: "{}", packets: 1, bytes: 1, flows: 1))
        let span = try #require(try db.span())
        return try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2)).report
    }

    @Test func hostileStringsAreEscapedInEveryFormat() throws {
        let r = try report("hostile-strings.pcap")
        let html = PeriodRenderer.render(r, as: .html)
        // The worker name is "script>\u{1b}[31mRED\u{202e}evil" (the login splits at its '/').
        #expect(!html.contains("<script") && !html.contains("script>"))
        #expect(html.contains("script&gt;\\x1b[31mRED\\u{202e}evil"))
        #expect(!html.contains("\u{1B}"))
        #expect(html.contains("<svg") && html.contains("class=\"session\""))
        let md = PeriodRenderer.render(r, as: .md)
        #expect(!md.contains("<script>") && !md.contains("\u{1B}"))
        let csv = PeriodRenderer.render(r, as: .csv)
        #expect(!csv.contains("\u{1B}"))
        #expect(
            csv.split(separator: "\n").first
                == "host,verdict,confidence,first_seen,last_seen,first_flagged,new_in_period,pools,wallets,workers,miner_software,shares_accepted,estimated_hashrate_hs,hashrate_unit,estimated_hashrates,reasons,site,sensors"
        )
        #expect(csv.contains("script>\\x1b[31mRED"))  // CSV is data, not markup: kept, without control characters
        let json = PeriodRenderer.render(r, as: .json)
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
    }

    /// A period report's JSON written a host at a time is byte for byte the one-tree encoding — with
    /// hostile strings, with several hosts, and with none.
    @Test(arguments: ["hostile-strings.pcap", "relay.pcap", "dns-and-nodes.pcap"])
    func streamedPeriodJSONEqualsTreeEncoding(_ name: String) throws {
        let full = try report(name)
        #expect(!full.hosts.isEmpty)
        var none = full
        none.hosts = []
        for r in [full, none] {
            var streamed = ""
            PeriodRenderer.write(r, as: .json) { streamed += $0 }
            #expect(streamed == PeriodRenderer.render(r, as: .json))
        }
    }

    @Test func estimatesRoundWithoutFloatResidue() {
        // Six significant digits, and a whole number stays whole: not 26939599999.999996.
        #expect(SessionJSON.round(26_939_599_999.999996) == 26_939_600_000)
        #expect(SessionJSON.round(674.76649) == 674.766)
        #expect(SessionJSON.round(0.000123456789) == 0.000123457)
        #expect(PeriodRenderer.csvNumber(26_939_600_000) == "26939600000")
        #expect(PeriodRenderer.csvNumber(519.724) == "519.724")
        #expect(PeriodRenderer.csvNumber(.infinity) == "")
    }

    @Test func csvDefusesFormulas() {
        #expect(PeriodRenderer.csvCell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(PeriodRenderer.csvCell("+cmd") == "\"'+cmd\"")
        #expect(PeriodRenderer.csvCell("plain") == "plain")
        #expect(PeriodRenderer.csvCell("a,b") == "\"a,b\"")
    }

    @Test func summaryCountsMinersAndHashrate() throws {
        let r = try report("xmrig-cryptonote.pcap")
        #expect(r.hosts_mining_now == 1)
        #expect((r.estimated_stolen_hashrate_hs ?? 0) > 0)
        #expect(r.estimated_stolen_hashrates.map(\.coin) == ["monero"])
        #expect(PeriodRenderer.render(r, as: .html).contains("id=\"mining-now\">1<"))
    }
}

/// Runs a tool if present; nil when it is not installed.
func shell(_ tool: String, _ args: [String]) throws -> String? {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"]
    where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(dir)/\(tool)")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
    return nil
}
