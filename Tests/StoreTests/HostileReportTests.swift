import Detection
import Foundation
import PacketDecoding
import Pipeline
import Sensor
import Store
import Stratum
import Testing
import TrafficGen

@testable import Reporting

/// Renderers fed host records an adversary shaped: numbers at Double's and Int's ends, times at
/// Int64's ends, wire strings with every kind of control and invisible character. Nothing may trap,
/// and numbers from the wire must never appear as strings in number fields.
@Suite struct HostileReportTests {
    static func hostileSession(first: Int64, last: Int64, hashes: Double, shares: Int) -> SessionRecord {
        var m = StratumSummary()
        m.dialect = .stratumV1
        m.minerSide = .a
        m.shape = .twoSided
        m.software = "evil\u{202E}txt.exe\u{2028}\u{200B}\u{061C}\u{E0041}\u{AD}\u{1B}[31m"
        m.wallets = ["w\u{0}\u{7F}\u{85}"]
        m.sharesAccepted = shares
        m.sharesSubmitted = shares
        m.jobsReceived = shares
        m.difficulty = hashes
        m.hashesPerShare = hashes
        m.acceptedHashes = hashes
        m.reportedHashrate = hashes
        m.firstSeen = Timestamp(nanoseconds: first)
        m.lastSeen = Timestamp(nanoseconds: last)
        return SessionRecord(
            miner: IPAddress("10.0.0.1")!, minerPort: 1, pool: IPAddress("10.0.0.2")!, poolPort: 3333, vlanID: 0,
            summary: m, flowFirstSeen: Timestamp(nanoseconds: first), flowLastSeen: Timestamp(nanoseconds: last),
            minerBytes: .max, poolBytes: .max, endReason: .closed)
    }

    static let extremes: [(Int64, Int64, Double, Int)] = [
        (.min, .max, .greatestFiniteMagnitude, .max),
        (.max, .min, .infinity, .max),
        (0, .max, .nan, 1),
        (.min, 0, -.infinity, .min),
        (-9_000_000_000_000_000_000, 9_000_000_000_000_000_000, 1e300, Int.max / 2)
    ]

    @Test(arguments: 0..<extremes.count)
    func everyRendererSurvivesExtremeRecords(_ i: Int) throws {
        let (first, last, hashes, shares) = Self.extremes[i]
        var verdicts = HostVerdicts()
        // Two hosts that are each representable but overflow when summed.
        verdicts.add(Self.hostileSession(first: first, last: last, hashes: hashes, shares: shares))
        var other = Self.hostileSession(first: first, last: last, hashes: hashes, shares: shares)
        other.miner = IPAddress("10.0.0.3")!
        verdicts.add(other)
        let reports = verdicts.reports()
        #expect(reports.count >= 2)
        for r in reports { for reason in r.reasonTexts { #expect(!reason.isEmpty) } }
        let summary = RunSummary(stats: AnalysisStats(), files: 1, errors: [], elapsed: 0, hostsFlagged: reports.count)
        _ = TableReport.render(reports, summary: summary)
        var streamed = ""
        JSONOutput.writeReport(summary: summary, hosts: reports) { streamed += $0 }
        let json = try JSONSerialization.jsonObject(with: Data(streamed.utf8)) as? [String: Any]
        let sessions = ((json?["hosts"] as? [[String: Any]])?.first?["sessions"] as? [[String: Any]]) ?? []
        for s in sessions {
            for key in ["difficulty", "hashes_per_share", "estimated_hashrate_hs", "reported_hashrate_hs"] {
                #expect(!(s[key] is String), "\(key) must be a number or null, never a string")
            }
        }
        // Period reports over the same hosts, across the widest possible period.
        let hosts = reports.map {
            PeriodReport.Host(
                host: HostJSON($0), first_seen: TimeFormat.iso8601(first), last_seen: TimeFormat.iso8601(last),
                first_flagged: TimeFormat.iso8601(.min), new_in_period: true,
                sessions: [
                    PeriodReport.Session(
                        pool: "p", pool_name: "n\u{1B}", dialect: nil, coin: nil, wallet: nil,
                        software: nil, first_seen: "", last_seen: "", start_ns: first, end_ns: last,
                        shares_accepted: shares, estimated_hashrate_hs: hashes.isFinite ? hashes : nil)
                ])
        }
        let period = PeriodReport(
            generated: TimeFormat.iso8601(.max), from: TimeFormat.iso8601(.min), to: TimeFormat.iso8601(.max),
            from_ns: .min, to_ns: .max, hosts: hosts, verdict_changes: [],
            capture: .init(
                runs: 1, packets: .max, packets_received: .max,
                packets_dropped_by_kernel: .max, packets_dropped_by_interface: nil))
        for kind in PeriodRenderer.OutputKind.allCases { #expect(!PeriodRenderer.render(period, as: kind).isEmpty) }
    }

    @Test func timeFormatCoversEveryInt64() {
        #expect(TimeFormat.iso8601(.min).hasPrefix("1677-09-21T00:12:43.145224"))
        #expect(TimeFormat.iso8601(.max).hasPrefix("2262-04-11T23:47:16.854775"))
        #expect(TimeFormat.iso8601(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(TimeFormat.iso8601(0) == "1970-01-01T00:00:00.000000Z")
    }

    @Test func formattersAcceptAnyDouble() {
        for v in [Double.nan, .infinity, -.infinity, .greatestFiniteMagnitude, 9.3e36, 1e300, -5, 0, 123.456] {
            #expect(!Format.hashrate(v).isEmpty)
            #expect(!Format.duration(v).isEmpty)
        }
        #expect(Format.hashrate(1234) == "1.2 kH/s")
        #expect(Format.hashrate(.infinity) == "? H/s")
    }

    /// The streamed `--format json` document is byte for byte the one-tree encoding.
    @Test(arguments: Corpus.all.map(\.name))
    func streamedJSONEqualsTreeEncoding(_ name: String) {
        let (a, reports) = analyze(name)
        let summary = RunSummary(stats: a.statistics, files: 1, errors: [], elapsed: 0, hostsFlagged: reports.count)
        var streamed = ""
        JSONOutput.writeReport(summary: summary, hosts: reports) { streamed += $0 }
        #expect(
            streamed == JSONOutput.encode(
                ReportDocument(summary: summary, hosts: reports.map(HostJSON.init)), pretty: true) + "\n")
    }
}

/// Invisible and reordering characters from the wire never reach any output raw.
@Suite struct EscapingTests {
    static let invisible: [Unicode.Scalar] = [
        "\u{2028}", "\u{2029}", "\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{061C}", "\u{200E}",
        "\u{200F}",
        "\u{202A}", "\u{202E}", "\u{2066}", "\u{2069}", "\u{E0001}", "\u{E0041}", "\u{E007F}", "\u{AD}", "\u{85}",
        "\u{1B}", "\u{7F}"
    ]

    @Test(arguments: invisible)
    func everyOutputEscapes(_ u: Unicode.Scalar) throws {
        let wire = "a" + String(u) + "b"
        let outputs = [
            TerminalSafe.escape(wire), PeriodRenderer.md(wire), PeriodRenderer.csvCell(wire), PeriodRenderer.h(wire),
            JSONOutput.encode(["worker": wire], pretty: false)
        ]
        for o in outputs {
            #expect(
                !o.unicodeScalars.contains(u),
                Comment(rawValue: "U+" + String(u.value, radix: 16) + " raw in " + o.debugDescription))
        }
        // JSON keeps the text: it decodes back to the very same string.
        let back = try JSONDecoder().decode(
            [String: String].self, from: Data(JSONOutput.encode(["worker": wire], pretty: false).utf8))
        #expect(back["worker"] == wire)
    }

    @Test func ordinaryTextIsUntouched() {
        for s in ["rig-07", "Grüße", "矿工", "café ☕", "x.y_z"] { #expect(TerminalSafe.escape(s) == s) }
    }
}

/// A store a flood has filled still renders as a page: the most serious hosts, with counts of all.
@Suite struct BoundedPeriodReportTests {
    @Test func periodReportListsAtMostMaxHostsAndCountsTheRest() throws {
        var verdicts = HostVerdicts()
        for i in 0..<(PeriodReport.maxHosts + 100) {
            var m = StratumSummary()
            m.shape = .minerOnly
            m.minerSide = .a
            m.software = "XMRig/6"
            m.minerMethods = ["login"]
            verdicts.add(
                SessionRecord(
                    miner: IPAddress("10.\(i / 65536).\(i / 256 % 256).\(i % 256)")!, minerPort: 1,
                    pool: IPAddress("192.0.2.1")!,
                    poolPort: 3333, vlanID: 0, summary: m, flowFirstSeen: Timestamp(seconds: 100),
                    flowLastSeen: Timestamp(seconds: 200),
                    minerBytes: 1, poolBytes: 0, endReason: .closed))
        }
        let reports = verdicts.reports()
        #expect(reports.count == PeriodReport.maxHosts + 100)
        let db = try EvidenceStore(
            .sqlite(tempStore()), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "test", version: "t", at: Timestamp(seconds: 100))
        try db.commit(
            StoreBatch(time: Timestamp(seconds: 150), reports: reports, statsJSON: "{}", packets: 1, bytes: 1, flows: 1)
        )
        let r = try db.report(from: 0, to: 1_000_000_000_000, generated: Timestamp(seconds: 300)).report
        #expect(r.hosts.count == PeriodReport.maxHosts)
        #expect(r.hosts_omitted == 100)
        #expect(r.hosts_mining_now == PeriodReport.maxHosts + 100)
        #expect(PeriodRenderer.render(r, as: .md).contains("100 more are in the store"))
    }
}

/// Packet time is the one clock of the evidence: when a host was first flagged and when its verdict
/// changed are stored in packet time, whatever the wall clock of the commit.
@Suite struct OneClockTests {
    @Test func firstFlaggedAndVerdictChangesArePacketTimes() throws {
        let (a, reports) = analyze("xmrig-cryptonote.pcap")
        let db = try EvidenceStore(
            .sqlite(tempStore()), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "test", version: "t", at: Timestamp(seconds: 5))
        let wall = Timestamp(seconds: 2_000_000_000)  // 2033: far from the capture's 2024
        try db.commit(
            StoreBatch(
                time: wall, reports: reports, statsJSON: "{}", packets: 1, bytes: 1, flows: 1,
                firstPacket: a.statistics.firstPacket, lastPacket: a.statistics.lastPacket))
        let r = try db.report(
            from: a.statistics.firstPacket!.nanoseconds, to: a.statistics.lastPacket!.nanoseconds, generated: wall
        ).report
        let miner = try #require(r.hosts.first { $0.host.host == "10.0.0.5" })
        #expect(miner.first_flagged?.hasPrefix("2024-11-19") == true)
        #expect(miner.new_in_period)
        #expect(r.verdict_changes.contains { $0.host == "10.0.0.5" && $0.time.hasPrefix("2024-11-19") })
        #expect(r.hosts_mining_now == 1)
        #expect(PeriodRenderer.render(r, as: .md).contains("## Verdict changes"))
    }
}
