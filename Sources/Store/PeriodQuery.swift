import SafeNumbers
import Detection
import Foundation
import GRDB
import Synchronization
import PacketDecoding
import Reporting

/// The store read back as a period report (`report`, `live --report-every`).
extension EvidenceStore {
    /// Everything the store knows about `from ... to` (ns since the epoch, packet time), as a report.
    /// - Complexity: indexed range queries on sessions; one row per host seen in the period.
    public func period(from: Int64, to: Int64, generated: Timestamp) throws(StoreError) -> PeriodReport {
        do {
            return try reader.read { db in
                let decoder = JSONDecoder()
                // The most serious hosts first, at most `maxHosts` of them (one ranking, here); the counts cover them all.
                let hostRows = try Row.fetchAll(db, sql: """
                    SELECT address, first_seen, last_seen, first_flagged, report_json FROM hosts
                    WHERE last_seen >= ? AND first_seen <= ?
                    ORDER BY \(Self.rankSQL), confidence DESC, address LIMIT ?
                    """, arguments: [from, to, PeriodReport.maxHosts])
                let totals = try Row.fetchOne(db, sql: """
                    SELECT COUNT(*) AS n,
                           SUM(CASE WHEN verdict IN ('mining', 'likely-mining') THEN 1 ELSE 0 END) AS mining,
                           SUM(CASE WHEN first_flagged BETWEEN ? AND ? THEN 1 ELSE 0 END) AS new
                    FROM hosts WHERE last_seen >= ? AND first_seen <= ?
                    """, arguments: [from, to, from, to])
                // Sessions only of the hosts shown, and a bounded number of them (each row is decoded).
                let shown: [String] = hostRows.map { $0["address"] }
                var sessionsByHost: [String: [PeriodReport.Session]] = [:]
                let sessionRows = shown.isEmpty ? [] : try Row.fetchAll(db, sql: """
                    SELECT miner, json, first_seen, last_seen FROM sessions
                    WHERE last_seen >= ? AND first_seen <= ? AND miner IN (\(databaseQuestionMarks(count: shown.count)))
                    ORDER BY first_seen LIMIT 50000
                    """, arguments: StatementArguments([from, to]) + StatementArguments(shown))
                for row in sessionRows {
                    guard let text: String = row["json"], let s = try? decoder.decode(SessionJSON.self, from: Data(text.utf8)) else { continue }
                    let start: Int64 = row["first_seen"], end: Int64 = row["last_seen"]
                    let miner: String = row["miner"]
                    if sessionsByHost[miner, default: []].count < 1000 {
                        sessionsByHost[miner, default: []].append(PeriodReport.Session(
                            pool: s.pool, pool_name: s.pool_hostnames.first, dialect: s.dialect, coin: s.coin, wallet: s.wallets.first,
                            software: s.miner_software, first_seen: TimeFormat.iso8601(start), last_seen: TimeFormat.iso8601(end),
                            start_ns: start, end_ns: end, shares_accepted: s.shares_accepted, estimated_hashrate_hs: s.estimated_hashrate_hs, hashrate_unit: s.hashrate_unit))
                    }
                }
                var hosts: [PeriodReport.Host] = []
                for row in hostRows {
                    guard let text: String = row["report_json"], let h = try? decoder.decode(HostJSON.self, from: Data(text.utf8)) else { continue }
                    let address: String = row["address"]
                    let first: Int64 = row["first_seen"], last: Int64 = row["last_seen"]
                    let flagged: Int64? = row["first_flagged"]
                    hosts.append(PeriodReport.Host(host: h, first_seen: TimeFormat.iso8601(first), last_seen: TimeFormat.iso8601(last),
                                                   first_flagged: flagged.map(TimeFormat.iso8601),
                                                   new_in_period: flagged.map { $0 >= from && $0 <= to } ?? false,
                                                   sessions: sessionsByHost[address] ?? []))
                }
                let changes = try Row.fetchAll(db, sql: """
                    SELECT time, host, old_verdict, new_verdict, confidence, reason FROM verdict_changes
                    WHERE time >= ? AND time <= ? ORDER BY time LIMIT 10000
                    """, arguments: [from, to]).map { r in
                    PeriodReport.Change(time: TimeFormat.iso8601(r["time"]), host: r["host"], old_verdict: r["old_verdict"],
                                        new_verdict: r["new_verdict"], confidence: r["confidence"], reason: r["reason"])
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
                let capture = PeriodReport.Capture(runs: stats.count, packets: sum("packets") ?? 0, packets_received: sum("received"),
                                                   packets_dropped_by_kernel: sum("dropped_kernel"),
                                                   packets_dropped_by_interface: sum("dropped_interface"))
                let spanRow = try Row.fetchOne(db, sql: "SELECT MIN(first_seen) AS a, MAX(last_seen) AS b FROM hosts")
                let storeSpan: (Int64, Int64)? = spanRow.flatMap { r in (r["a"] as Int64?).flatMap { a in (r["b"] as Int64?).map { (a, $0) } } }
                return PeriodReport(generated: TimeFormat.iso8601(generated.nanoseconds), from: TimeFormat.iso8601(from),
                                    to: TimeFormat.iso8601(to), from_ns: from, to_ns: to, hosts: hosts, verdict_changes: changes,
                                    capture: capture,
                                    totals: (mining: totals?["mining"] ?? 0, new: totals?["new"] ?? 0, all: totals?["n"] ?? hosts.count),
                                    storeSpan: storeSpan)
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
