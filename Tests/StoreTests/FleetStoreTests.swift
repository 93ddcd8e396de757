import Detection
import Foundation
import GRDB
import PacketDecoding
import Testing
import TrafficGen

@testable import Reporting
@testable import Sensor
@testable import Store

/// Schema 2: sensors and sites, a version-1 store migrated, batches written twice, the spool.
@Suite struct FleetStoreTests {
    func batch(_ name: String, at seconds: Int64) -> StoreBatch {
        let (a, r) = analyze(name)
        return StoreBatch(
            time: Timestamp(seconds: seconds), reports: r, statsJSON: "{}", packets: a.statistics.packets, bytes: 0,
            flows: 1)
    }

    @Test func aVersionOneStoreIsMigratedWithItsRows() throws {
        let path = tempStore()
        // A store exactly as the previous release left it: schema 1, one run, one host, one session.
        let q = try DatabaseQueue(path: path)
        try Schema.migrator(sensor: "unused").migrate(q, upTo: "v1")
        try q.write { db in
            try db.execute(sql: "INSERT INTO runs (started_at, source, version) VALUES (1, 'live: eth0', 'old')")
            try db.execute(sql: "INSERT INTO hosts VALUES ('10.0.0.5', 100, 200, 'mining', 90, 150, '{}')")
            try db.execute(
                sql: """
                    INSERT INTO sessions (run_id, miner, miner_port, pool, pool_port, flow_first_seen, first_seen, last_seen, shares_accepted,
                                          shares_rejected, end_reason, json) VALUES (1, '10.0.0.5', 40000, '1.2.3.4', 3333, 100, 100, 200, 7, 0, 'fin', '{}')
                    """)
            try db.execute(
                sql:
                    "INSERT INTO verdict_changes (time, host, new_verdict, confidence) VALUES (150, '10.0.0.5', 'mining', 90)"
            )
        }
        try q.close()
        _ = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "tap-1"), documents: .reportJSON)
        let r = try DatabaseQueue(path: path)
        let found = try r.read { db in
            [
                try Int.fetchOne(db, sql: "PRAGMA user_version").map(String.init),
                try String.fetchOne(
                    db,
                    sql: "SELECT sensor || '|' || site || '|' || first_flagged FROM hosts WHERE address = '10.0.0.5'"),
                try String.fetchOne(db, sql: "SELECT run || '|' || shares_accepted FROM sessions"),
                try String.fetchOne(db, sql: "SELECT sensor FROM verdict_changes"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'v1_%'").map(String.init)
            ]
        }
        #expect(found == ["3", "tap-1||150", "v1-1|7", "tap-1", "0"])
    }

    @Test func theSameRowsWrittenTwiceChangeNothing() throws {
        let db = try EvidenceStore(.sqlite(tempStore()), identity: StoreIdentity(sensor: "a"), documents: .reportJSON)
        db.beginRun(source: "t", version: "t", at: Timestamp(seconds: 1))
        let rows = try db.rows(for: batch("xmrig-cryptonote.pcap", at: 10))
        let first = try db.write(rows)
        #expect(!first.isEmpty)
        #expect(try db.write(rows).isEmpty)  // a spooled batch delivered again
        let counts = try db.db.read([
            SQLStatement("SELECT COUNT(*) FROM sessions"), SQLStatement("SELECT COUNT(*) FROM verdict_changes"),
            SQLStatement("SELECT COUNT(*) FROM capture_stats"), SQLStatement("SELECT COUNT(*) FROM runs")
        ])
        #expect(counts.map { $0[0][0].int } == [Int64(rows.sessions.count), Int64(first.count), 1, 1])
    }

    @Test func twoSensorsOneSiteAreOneHostTwoSitesAreTwo() throws {
        let path = tempStore()
        for (sensor, site) in [("tap-a", "hq"), ("tap-b", "hq"), ("tap-c", "branch")] {
            let db = try EvidenceStore(
                .sqlite(path), identity: StoreIdentity(sensor: sensor, site: site), documents: .reportJSON)
            db.beginRun(source: sensor, version: "t", at: Timestamp(seconds: 1))
            try db.commit(batch("xmrig-cryptonote.pcap", at: 10))
        }
        let db = try EvidenceStore(readingOnly: .sqlite(path))
        let span = try #require(try db.span())
        let all = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2)).report
        let miners = all.hosts.filter { $0.host.verdict == "mining" }
        let hq = try #require(miners.first { $0.site == "hq" })
        #expect(hq.sensors == ["tap-a", "tap-b"])
        #expect(miners.contains { $0.site == "branch" && $0.sensors == ["tap-c"] })
        #expect(Set(miners.map(\.site)) == ["hq", "branch"] && miners.count == 2 * Set(miners.map(\.host.host)).count)
        // One session seen by two sensors at one site is listed once.
        #expect(hq.sessions.count == miners.first { $0.site == "branch" }!.sessions.count)
        #expect(all.sensors == ["tap-a", "tap-b", "tap-c"])
        let onlyB = try db.report(
            from: span.0, to: span.1, generated: Timestamp(seconds: 2), filter: StoreFilter(sensors: ["tap-b"])
        ).report
        #expect(onlyB.hosts.allSatisfy { $0.sensors == ["tap-b"] && $0.site == "hq" } && !onlyB.hosts.isEmpty)
        let branch = try db.report(
            from: span.0, to: span.1, generated: Timestamp(seconds: 2), filter: StoreFilter(sites: ["branch"])
        ).report
        #expect(
            branch.hosts.allSatisfy { $0.site == "branch" }
                && branch.hosts.count == miners.count / 2
                    + all.hosts.filter { $0.site == "branch" && $0.host.verdict != "mining" }.count
        )
        let md = PeriodRenderer.render(all, as: .md)
        #expect(md.contains("Seen by sensors tap-a, tap-b") && md.contains("@ branch"))
        // For a manager: one sentence on top, and the counts per site.
        #expect(
            md.contains("2 hosts mined in this period") && md.contains("Start with 10.0.0.5 @ "), "\(md.prefix(600))")
        #expect(md.contains("- By site: branch: 1 mining, 1 pool; hq: 1 mining, 1 pool"), "\(md.prefix(900))")
        let html = PeriodRenderer.render(all, as: .html)
        #expect(
            html.contains("<p id=\"summary\"><b>2 hosts mined")
                && html.contains("<p id=\"by-site\">By site: branch: 1 mining"))
        // The host table shows wallets shortened, never broken mid-token; the whole address is a hover away.
        #expect(html.contains("<td data-label=\"Wallet\" class=\"nowrap\"><span title=\"48edfHu7V9"), "\(html)")
        #expect(html.contains(">48edfHu7V9…UicoD</span></td>"))
    }

    @Test func theSpoolKeepsOrderAndEveryVerdictChangeWithinItsBound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        let db = try EvidenceStore(.sqlite(tempStore()), identity: StoreIdentity(sensor: "a"), documents: .reportJSON)
        db.beginRun(source: "t", version: "t", at: Timestamp(seconds: 1))
        var spool = try Spool(directory: dir, maxBytes: 1 << 16)
        var template = try db.rows(for: batch("xmrig-cryptonote.pcap", at: 10))
        let host = try #require(template.hosts.first)
        // 200 snapshots of one host's open session; its verdict changes twice along the way.
        var sent = 0
        for i in 0..<200 {
            template.hosts = [host]
            template.hosts[0].verdict = i < 50 ? "suspicious" : (i < 120 ? "mining" : "likely-mining")
            template.hosts[0].json = String(repeating: "x", count: 400) + "\(i)"
            template.stats?.time = Int64(i)
            template.sessions = template.sessions.map {
                var s = $0
                s.endReason = "open"
                s.lastSeen = Int64(i)
                return s
            }
            try spool.append(template)
            sent += 1
        }
        #expect(spool.bytes <= 1 << 16 && spool.batches < sent)
        // Reopened (a restart), then delivered in order.
        spool = try Spool(directory: dir, maxBytes: 1 << 16)
        var changes: [String] = []
        while let rows = try spool.peek() {
            changes += try db.write(rows).map(\.new)
            spool.removeOldest()
        }
        #expect(changes == ["suspicious", "mining", "likely-mining"])
        #expect(try db.db.read(SQLStatement("SELECT MAX(last_seen) FROM sessions")).first?[0].int == 199)
    }

    @Test func aHostTwoSensorsSawInPartsIsJudgedFromBothAsOneSensorWould() throws {
        // A host with two kinds of evidence (fusion adds confidence for the second kind): each of two
        // sensors at one site sees one kind; the fleet report must judge the host as a sensor that saw
        // both would — not take the better half.
        var found: HostReport?
        for name in Corpus.all.map({ $0.name }) {
            if let r = analyze(name).1.first(where: {
                Set($0.evidence.map(\.kind)).count >= 2 && $0.minerSessions.isEmpty && $0.poolSessions.isEmpty
            }) {
                found = r
                break
            }
        }
        let whole = try #require(found, "no generated capture has a host with two kinds of evidence and no session")
        let kinds = Array(Set(whole.evidence.map(\.kind)))
        let path = tempStore()
        for (i, sensor) in ["tap-a", "tap-b"].enumerated() {
            var part = HostVerdicts()
            for e in whole.evidence where (kinds.firstIndex(of: e.kind)! == 0) == (i == 0) { _ = part.add(e) }
            let reports = part.reports()
            let db = try EvidenceStore(
                .sqlite(path), identity: StoreIdentity(sensor: sensor, site: "hq"), documents: .reportJSON)
            db.beginRun(source: sensor, version: "t", at: Timestamp(seconds: 1))
            try db.commit(
                StoreBatch(
                    time: Timestamp(seconds: 10), reports: reports, statsJSON: "{}", packets: 1, bytes: 0, flows: 1))
        }
        let db = try EvidenceStore(readingOnly: .sqlite(path))
        let span = try #require(try db.span())
        let fleet = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2)).report
        let host = try #require(fleet.hosts.first { $0.host.host == whole.host.description })
        #expect(host.sensors == ["tap-a", "tap-b"])
        let expected = HostJSON(whole)
        #expect(
            host.host.verdict == expected.verdict && host.host.confidence == expected.confidence,
            "fleet \(host.host.verdict) \(host.host.confidence), one sensor seeing both: \(expected.verdict) \(expected.confidence)"
        )
        #expect(host.host.reasons == expected.reasons)
    }
}
