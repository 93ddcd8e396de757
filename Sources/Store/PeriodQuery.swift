import SafeNumbers
import Detection
import Foundation
import GRDB
import Synchronization
import PacketDecoding

/// What the store holds about a period, as its own records: the documents it was given (host and
/// session JSON, opaque here) with the columns it indexes. Sensor turns it into a `PeriodReport`.
public struct StoredPeriod: Sendable {
    public struct Host: Sendable {
        public var address: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var firstFlagged: Int64?
        public var document: String
    }
    public struct Session: Sendable {
        public var miner: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var document: String
    }
    public struct Change: Sendable {
        public var time: Int64
        public var host: String
        public var oldVerdict: String?
        public var newVerdict: String
        public var confidence: Int
        public var reason: String?
    }
    public struct Capture: Sendable {
        public var runs: Int
        public var packets: Int
        public var received: Int?
        public var droppedByKernel: Int?
        public var droppedByInterface: Int?
    }
    public var from: Int64
    public var to: Int64
    /// The most serious hosts first (the one verdict ranking), at most the limit asked for.
    public var hosts: [Host]
    /// Sessions of the hosts listed, oldest first (at most 1000 per host, 50 000 in all).
    public var sessions: [Session]
    public var changes: [Change]
    public var capture: Capture
    /// Counts over every host of the period, listed or not.
    public var totals: (mining: Int, new: Int, all: Int)
    /// Earliest and latest packet time of any evidence in the store.
    public var span: (Int64, Int64)?
}

extension EvidenceStore {
    /// Everything the store knows about `from ... to` (ns since the epoch, packet time).
    /// - Parameter limit: hosts listed at most (the most serious first); the totals cover them all.
    /// - Complexity: indexed range queries on sessions; one row per host seen in the period.
    public func period(from: Int64, to: Int64, limit: Int) throws(StoreError) -> StoredPeriod {
        do {
            return try reader.read { db in
                let hosts = try Row.fetchAll(db, sql: """
                    SELECT address, first_seen, last_seen, first_flagged, report_json FROM hosts
                    WHERE last_seen >= ? AND first_seen <= ?
                    ORDER BY \(Self.rankSQL), confidence DESC, address LIMIT ?
                    """, arguments: [from, to, limit]).map { r in
                    StoredPeriod.Host(address: r["address"], firstSeen: r["first_seen"], lastSeen: r["last_seen"],
                                      firstFlagged: r["first_flagged"], document: r["report_json"])
                }
                let totals = try Row.fetchOne(db, sql: """
                    SELECT COUNT(*) AS n,
                           SUM(CASE WHEN verdict IN ('mining', 'likely-mining') THEN 1 ELSE 0 END) AS mining,
                           SUM(CASE WHEN first_flagged BETWEEN ? AND ? THEN 1 ELSE 0 END) AS new
                    FROM hosts WHERE last_seen >= ? AND first_seen <= ?
                    """, arguments: [from, to, from, to])
                // Sessions only of the hosts listed, and a bounded number of them.
                let shown = hosts.map(\.address)
                var perHost: [String: Int] = [:]
                let sessions = (shown.isEmpty ? [] : try Row.fetchAll(db, sql: """
                    SELECT miner, json, first_seen, last_seen FROM sessions
                    WHERE last_seen >= ? AND first_seen <= ? AND miner IN (\(databaseQuestionMarks(count: shown.count)))
                    ORDER BY first_seen LIMIT 50000
                    """, arguments: StatementArguments([from, to]) + StatementArguments(shown))).compactMap { r -> StoredPeriod.Session? in
                    let miner: String = r["miner"]
                    perHost[miner, default: 0] += 1
                    guard perHost[miner]! <= 1000 else { return nil }
                    return StoredPeriod.Session(miner: miner, firstSeen: r["first_seen"], lastSeen: r["last_seen"], document: r["json"])
                }
                let changes = try Row.fetchAll(db, sql: """
                    SELECT time, host, old_verdict, new_verdict, confidence, reason FROM verdict_changes
                    WHERE time >= ? AND time <= ? ORDER BY time LIMIT 10000
                    """, arguments: [from, to]).map { r in
                    StoredPeriod.Change(time: r["time"], host: r["host"], oldVerdict: r["old_verdict"], newVerdict: r["new_verdict"],
                                        confidence: r["confidence"], reason: r["reason"])
                }
                // The latest counters of each run that committed inside the period.
                let stats = try Row.fetchAll(db, sql: """
                    SELECT c.packets, c.received, c.dropped_kernel, c.dropped_interface FROM capture_stats c
                    JOIN (SELECT run_id, MAX(time) AS t FROM capture_stats WHERE last_packet >= ? AND first_packet <= ? GROUP BY run_id) last
                      ON c.run_id = last.run_id AND c.time = last.t
                    """, arguments: [from, to])
                func sum(_ key: String) -> Int? {
                    let values = stats.compactMap { $0[key] as Int? }
                    return values.isEmpty ? nil : values.reduce(0) { $0.addingSaturated($1) }
                }
                let capture = StoredPeriod.Capture(runs: stats.count, packets: sum("packets") ?? 0, received: sum("received"),
                                                   droppedByKernel: sum("dropped_kernel"), droppedByInterface: sum("dropped_interface"))
                let spanRow = try Row.fetchOne(db, sql: "SELECT MIN(first_seen) AS a, MAX(last_seen) AS b FROM hosts")
                let span: (Int64, Int64)? = spanRow.flatMap { r in (r["a"] as Int64?).flatMap { a in (r["b"] as Int64?).map { (a, $0) } } }
                return StoredPeriod(from: from, to: to, hosts: hosts, sessions: sessions, changes: changes, capture: capture,
                                    totals: (mining: totals?["mining"] ?? 0, new: totals?["new"] ?? 0, all: totals?["n"] ?? hosts.count),
                                    span: span)
            }
        } catch let e as StoreError { throw e } catch { throw StoreError(path, error) }
    }

    /// Earliest and latest packet time the store holds (for `report --since all`).
    public func span() throws(StoreError) -> (Int64, Int64)? {
        do {
            return try reader.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT MIN(first_seen) AS a, MAX(last_seen) AS b FROM hosts"),
                      let a: Int64 = row["a"], let b: Int64 = row["b"] else { return nil }
                return (a, b)
            }
        } catch { throw StoreError(path, error) }
    }

    /// Verdicts, most serious first: the order of every host list in a period report.
    static let verdictOrder = Verdict.allCases.filter { $0 != .none }.sorted { HostVerdicts.rank($0) < HostVerdicts.rank($1) }.map(\.rawValue)

    /// That order as an SQL expression over `hosts.verdict`.
    static let rankSQL = "CASE verdict " + verdictOrder.enumerated().map { "WHEN '\($1)' THEN \($0) " }.joined() + "ELSE 9 END"
}
