import Foundation
import PacketDecoding
import Sensor
import Store
import Testing

/// A store is input: rows edited to hold values larger than the sensor writes are left out (or read
/// as missing) with a warning, and one report reads a bounded total of documents.
@Suite struct StoreReadBoundsTests {
    /// A store of one real analysis (a miner, its pool and the TLS hosts of `tls-to-pool.pcap`), and its span.
    static func store() throws -> (path: String, db: EvidenceStore, span: (Int64, Int64)) {
        let path = tempStore()
        let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "t", version: "t", at: Timestamp(seconds: 1))
        for name in ["xmrig-cryptonote.pcap", "tls-to-pool.pcap"] {
            let (a, r) = analyze(name)
            try db.commit(
                StoreBatch(
                    time: Timestamp(seconds: 1), reports: r, statsJSON: "{}", packets: 1, bytes: 1, flows: 1,
                    firstPacket: a.statistics.firstPacket, lastPacket: a.statistics.lastPacket))
        }
        return (path, db, try #require(try db.span()))
    }

    /// Runs SQL on the store file as another program would (the sqlite3 shell).
    static func edit(_ path: String, _ sql: String) throws {
        _ = try #require(try shell("sqlite3", [path, sql]), "sqlite3 is not installed (scripts/test installs it)")
    }

    /// SQL for a text of `n` × 2 'x' characters.
    static func filler(_ n: Int) -> String { "replace(hex(zeroblob(\(n))), '0', 'x')" }

    @Test func aSessionDocumentLargerThanTheSensorWritesIsNotRead() throws {
        let (path, db, span) = try Self.store()
        let before = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2))
        #expect(before.warnings.isEmpty)
        let sessions = before.report.hosts.reduce(0) { $0 + $1.sessions.count }
        #expect(sessions >= 1)
        // One session's document grows to 200 KB (the sensor writes ~1 KB, never over ~100 KB).
        try Self.edit(
            path,
            "UPDATE sessions SET json = '{\"w\":\"' || \(Self.filler(100_000)) || '\"}' WHERE rowid = (SELECT MIN(rowid) FROM sessions)"
        )
        let after = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2))
        #expect(after.report.hosts.reduce(0) { $0 + $1.sessions.count } == sessions - 1)
        #expect(
            after.warnings == [
                "store \(path): 1 session documents not read: over 128 KB is larger than the sensor writes (the store may have been edited)"
            ])
        #expect(after.report.hosts.count == before.report.hosts.count)
    }

    @Test func aHostWhoseAddressOrDocumentIsOversizedIsLeftOut() throws {
        let (path, db, span) = try Self.store()
        let hosts = try db.period(from: span.0, to: span.1, limit: 100).hosts.count
        try Self.edit(path, "UPDATE hosts SET address = address || \(Self.filler(200)) WHERE address = '10.0.0.40'")
        try Self.edit(path, "UPDATE hosts SET report_json = \(Self.filler(6000)) WHERE address = '10.0.0.42'")
        var bounds = StoreReadLimits()
        bounds.hostDocument = 10_000
        let p = try db.period(from: span.0, to: span.1, limit: 100, bounds: bounds)
        #expect(p.hosts.count == hosts - 2)
        #expect(!p.hosts.contains { $0.address.hasPrefix("10.0.0.40") || $0.address == "10.0.0.42" })
        // The long address is not counted either: no total, sensor list or span reads it.
        #expect(p.totals.all == hosts - 1)
        #expect(
            p.warnings.sorted() == [
                "1 host documents not read: over 10000 bytes is larger than the sensor writes (the store may have been edited)",
                "1 host rows left out: an address, sensor, site or verdict over 256 bytes is larger than the sensor writes (the store may have been edited)"
            ])
    }

    @Test func oneReportReadsABoundedTotalOldestSessionsFirst() throws {
        let (path, db, span) = try Self.store()
        // 200 more sessions of the miner, each a little later than the last, each ~2 KB.
        try Self.edit(
            path,
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
            INSERT INTO sessions SELECT s.run, s.sensor, s.site, s.miner, s.miner_port, s.pool, s.pool_port, s.vlan, s.flow_first_seen + n.i,
              s.first_seen + n.i, s.last_seen, s.dialect, s.coin, s.wallet, s.software, s.pool_name, s.shares_accepted, s.shares_rejected,
              s.hashrate, s.end_reason, json_set(s.json, '$.workers', json_array(\(Self.filler(1000)))) FROM sessions s, n WHERE s.miner = '10.0.0.5'
            """)
        var bounds = StoreReadLimits()
        bounds.sessionBytes = 100 * 1024
        let p = try db.period(from: span.0, to: span.1, limit: 100, bounds: bounds)
        let mine = p.sessions.filter { $0.miner == "10.0.0.5" }
        #expect(mine.count > 20 && mine.count < 60)
        #expect(mine.map(\.firstSeen) == mine.map(\.firstSeen).sorted())
        #expect(p.sessions.reduce(0) { $0 + $1.document.utf8.count } <= bounds.sessionBytes)
        #expect(
            p.warnings == [
                "\(201 - mine.count) sessions left out: the report reads at most 100 KB of session documents"
            ])
    }

    @Test func aVerdictLargerThanAnyIsNeitherCopiedNorReadBack() throws {
        let (path, _, _) = try Self.store()
        try Self.edit(path, "UPDATE hosts SET verdict = \(Self.filler(1_000_000))")
        // Another process (this one remembers what it wrote and would not write it again).
        let db = try EvidenceStore(.sqlite(path), identity: StoreIdentity(sensor: "test"), documents: .reportJSON)
        db.beginRun(source: "t2", version: "t", at: Timestamp(seconds: 3))
        let (a, r) = analyze("xmrig-cryptonote.pcap")
        let changes = try db.commit(
            StoreBatch(
                time: Timestamp(seconds: 3), reports: r, statsJSON: "{}", packets: 1, bytes: 1, flows: 1,
                firstPacket: a.statistics.firstPacket, lastPacket: a.statistics.lastPacket))
        #expect(!changes.isEmpty && changes.allSatisfy { $0.old == "unreadable" })
        let longest = try #require(try shell("sqlite3", [path, "SELECT MAX(length(old_verdict)) FROM verdict_changes"]))
        #expect(longest.trimmingCharacters(in: .whitespacesAndNewlines) == "10")
    }

    @Test func aDocumentThatIsNotTheReportsJSONIsSaid() throws {
        let (path, db, span) = try Self.store()
        try Self.edit(path, "UPDATE hosts SET report_json = '[1, 2' WHERE address = '10.0.0.42'")
        let read = try db.report(from: span.0, to: span.1, generated: Timestamp(seconds: 2))
        #expect(!read.report.hosts.contains { $0.host.host == "10.0.0.42" })
        #expect(
            read.warnings == [
                "store \(path): 1 host or session documents left out: they are not the reports' JSON (the store may have been edited)"
            ])
    }
}
