import Detection
import Foundation
import PacketDecoding
import SafeNumbers

/// Which sensors a report covers (`report --sensor/--site`); empty: the whole fleet.
public struct StoreFilter: Sendable, Equatable {
    public var sensors: [String] = []
    public var sites: [String] = []
    public init(sensors: [String] = [], sites: [String] = []) {
        self.sensors = sensors
        self.sites = sites
    }

    /// ` AND sensor IN (…) AND site IN (…)` and its arguments.
    var sql: (String, [SQLValue]) {
        var text = ""
        var args: [SQLValue] = []
        if !sensors.isEmpty {
            text += " AND sensor IN (\(placeholders(sensors.count)))"
            args += sensors.map { .text($0) }
        }
        if !sites.isEmpty {
            text += " AND site IN (\(placeholders(sites.count)))"
            args += sites.map { .text($0) }
        }
        return (text, args)
    }
}

/// What the store holds about a period, as its own records: the documents it was given (host and
/// session JSON, opaque here) with the columns it indexes. Sensor turns it into a `PeriodReport`.
public struct StoredPeriod: Sendable {
    /// A host of one site, as every sensor that saw it reports it: one row with all their names.
    public struct Host: Sendable {
        public var site: String
        public var address: String
        /// Sensors that saw it, by name.
        public var sensors: [String]
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var firstFlagged: Int64?
        /// The report of the sensor that judged it most seriously (then the most confident, the latest).
        public var document: String
        /// With two sensors or more: what each judged it from (`HostRecord` JSON), to judge them together.
        public var records: [String] = []
    }
    public struct Session: Sendable {
        public var site: String
        public var sensor: String
        public var miner: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var document: String
    }
    public struct Change: Sendable {
        public var time: Int64
        public var sensor: String
        public var site: String
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
    /// Sessions of the hosts listed, oldest first (at most 1000 per host, 50 000 in all); a session
    /// two sensors both saw (a miner whose traffic crosses two taps) once.
    public var sessions: [Session]
    public var changes: [Change]
    public var capture: Capture
    /// Counts over every host of the period, listed or not.
    public var totals: (mining: Int, new: Int, all: Int)
    /// Earliest and latest packet time of any evidence in the store.
    public var span: (Int64, Int64)?
    /// Every sensor with hosts in the period.
    public var sensors: [String]
    /// What the read left out because it was larger than the sensor writes (one line each, for the log).
    public var warnings: [String] = []
}

/// Counts of what a bounded read left out, and the lines that say so.
struct StoreReadWarnings {
    var bounds: StoreReadLimits
    var hostsWithLongNames = 0, sessionsWithLongNames = 0, changesUnread = 0, reasonsUnread = 0
    var hostDocumentsUnread = 0, hostRowsOverBudget = 0, sessionDocumentsUnread = 0, sessionRowsOverBudget = 0

    var lines: [String] {
        let tampered = "larger than the sensor writes (the store may have been edited)"
        var out: [String] = []
        func say(_ n: Int, _ what: String) { if n > 0 { out.append("\(n) \(what)") } }
        func size(_ bytes: Int) -> String {
            bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : bytes % 1024 == 0 ? "\(bytes >> 10) KB" : "\(bytes) bytes"
        }
        say(
            hostsWithLongNames,
            "host rows left out: an address, sensor, site or verdict over \(size(bounds.name)) is \(tampered)")
        say(
            sessionsWithLongNames,
            "sessions left out: a miner, pool, sensor or site over \(size(bounds.name)) is \(tampered)")
        say(
            changesUnread,
            "verdict changes left out: a host, sensor, site or verdict over \(size(bounds.name)) is \(tampered)")
        say(reasonsUnread, "verdict change reasons not read: over \(size(bounds.reason)) is \(tampered)")
        say(hostDocumentsUnread, "host documents not read: over \(size(bounds.hostDocument)) is \(tampered)")
        say(
            hostRowsOverBudget,
            "host rows left out: the report reads at most \(size(bounds.hostBytes)) of host documents")
        say(sessionDocumentsUnread, "session documents not read: over \(size(bounds.sessionDocument)) is \(tampered)")
        say(
            sessionRowsOverBudget,
            "sessions left out: the report reads at most \(size(bounds.sessionBytes)) of session documents")
        return out
    }
}

extension EvidenceStore {
    /// Everything the store knows about `from ... to` (ns since the epoch, packet time), over the
    /// sensors `filter` selects, read within `bounds` (what it leaves out is in `warnings`).
    /// - Parameter limit: hosts listed at most (the most serious first); the totals cover them all.
    /// - Complexity: indexed range queries; one row per host and sensor seen in the period.
    public func period(
        from: Int64, to: Int64, limit: Int, filter: StoreFilter = StoreFilter(),
        bounds: StoreReadLimits = StoreReadLimits()
    ) throws(StoreError) -> StoredPeriod {
        let d = db.dialect
        let (only, onlyArgs) = filter.sql
        let range: [SQLValue] = [.int(from), .int(to)]
        func fits(_ column: String, _ limit: Int) -> String { "\(d.bytes(column)) <= \(limit)" }
        func within(_ column: String, _ limit: Int) -> String { "CASE WHEN \(fits(column, limit)) THEN \(column) END" }
        // Rows whose names are larger than the sensor writes are not read at all: every list and count skips them.
        let names = ["site", "address", "sensor", "verdict"].map { fits($0, bounds.name) }.joined(separator: " AND ")
        let sessionNames = ["site", "sensor", "miner", "pool"].map { fits($0, bounds.name) }.joined(separator: " AND ")
        let inPeriod = "last_seen >= ? AND first_seen <= ?" + only
        let hostsInPeriod = inPeriod + " AND " + names
        do {
            // A host is one site's address, whatever sensors saw it: ranked by its most serious verdict.
            let ranked = try db.read(
                SQLStatement(
                    """
                    SELECT site, address FROM hosts WHERE \(hostsInPeriod)
                    GROUP BY site, address ORDER BY MIN(\(Self.rankSQL)), MAX(confidence) DESC, address, site LIMIT ?
                    """, range + onlyArgs + [.int(Int64(limit))]))
            let listed = ranked.compactMap { r in r[0].text.flatMap { s in r[1].text.map { (s, $0) } } }
            let addresses = Array(Set(listed.map(\.1))).sorted()
            let addressArgs = addresses.map { SQLValue.text($0) }
            let inAddresses = "address IN (\(placeholders(addresses.count)))"
            let changeNames = ["sensor", "site", "host", "old_verdict", "new_verdict"].map { within($0, bounds.name) }
                .joined(separator: ", ")
            var queries = [
                SQLStatement(
                    """
                    SELECT COUNT(*), SUM(m), SUM(CASE WHEN f BETWEEN ? AND ? THEN 1 ELSE 0 END) FROM (
                      SELECT MAX(CASE WHEN verdict IN ('mining', 'likely-mining') THEN 1 ELSE 0 END) AS m, MIN(first_flagged) AS f
                      FROM hosts WHERE \(hostsInPeriod) GROUP BY site, address) g
                    """, range + range + onlyArgs),
                SQLStatement(
                    """
                    SELECT time, \(changeNames), confidence, \(within("reason", bounds.reason)),
                      CASE WHEN \(fits("reason", bounds.reason)) THEN 0 ELSE 1 END FROM verdict_changes
                    WHERE time >= ? AND time <= ?\(only) ORDER BY time, id LIMIT 10000
                    """, range + onlyArgs),
                // The latest counters of each run that committed inside the period.
                SQLStatement(
                    """
                    SELECT c.packets, c.received, c.dropped_kernel, c.dropped_interface FROM capture_stats c
                    JOIN (SELECT run, MAX(time) AS t FROM capture_stats WHERE last_packet >= ? AND first_packet <= ?\(only) GROUP BY run) last
                      ON c.run = last.run AND c.time = last.t
                    """, range + onlyArgs),
                SQLStatement("SELECT MIN(first_seen), MAX(last_seen) FROM hosts WHERE \(names)\(only)", onlyArgs),
                SQLStatement(
                    "SELECT DISTINCT sensor FROM hosts WHERE \(hostsInPeriod) ORDER BY sensor", range + onlyArgs),
                // What the bounds leave out, to be said.
                SQLStatement("SELECT COUNT(*) FROM hosts WHERE \(inPeriod) AND NOT (\(names))", range + onlyArgs)
            ]
            if !addresses.isEmpty {
                // Host documents within their bound, the most serious host first, until the report's budget is spent.
                let docBytes = ["report_json", "record_json"].map {
                    "CASE WHEN \(fits($0, bounds.hostDocument)) THEN \(d.bytes($0)) ELSE 0 END"
                }
                .joined(separator: " + ")
                queries.append(
                    SQLStatement(
                        """
                        SELECT h.site, h.address, h.sensor, h.first_seen, h.last_seen, h.first_flagged,
                          \(within("h.report_json", bounds.hostDocument)), \(Self.rankSQL), h.confidence, \(within("h.record_json", bounds.hostDocument)),
                          b.spent, b.matching
                        FROM hosts h JOIN (
                          SELECT site, address, sensor, COUNT(*) OVER () AS matching,
                            SUM(\(docBytes)) OVER (ORDER BY \(Self.rankSQL), confidence DESC, address, site, sensor ROWS UNBOUNDED PRECEDING) AS spent
                          FROM hosts WHERE \(hostsInPeriod) AND \(inAddresses)) b
                        ON h.site = b.site AND h.address = b.address AND h.sensor = b.sensor
                        WHERE b.spent <= ?
                        """, range + onlyArgs + addressArgs + [.int(Int64(bounds.hostBytes))]))
                // Sessions only of the hosts listed, a bounded number of them, oldest first, until the budget is spent.
                let key = ["run", "miner", "miner_port", "pool", "pool_port", "vlan", "flow_first_seen"]
                queries.append(
                    SQLStatement(
                        """
                        SELECT s.site, s.sensor, s.miner, s.miner_port, s.pool, s.pool_port, s.flow_first_seen, s.first_seen, s.last_seen,
                          \(within("s.json", bounds.sessionDocument)), b.matching
                        FROM sessions s JOIN (
                          SELECT \(key.joined(separator: ", ")), first_seen, sensor, COUNT(*) OVER () AS matching,
                            SUM(CASE WHEN \(fits("json", bounds.sessionDocument)) THEN \(d.bytes("json")) ELSE 0 END)
                              OVER (ORDER BY first_seen, sensor, \(key.joined(separator: ", ")) ROWS UNBOUNDED PRECEDING) AS spent
                          FROM sessions WHERE \(inPeriod) AND \(sessionNames) AND miner IN (\(placeholders(addresses.count)))) b
                        ON \(key.map { "s.\($0) = b.\($0)" }.joined(separator: " AND "))
                        WHERE b.spent <= ?
                        ORDER BY b.first_seen, b.sensor LIMIT 50000
                        """, range + onlyArgs + addressArgs + [.int(Int64(bounds.sessionBytes))]))
                queries.append(
                    SQLStatement(
                        """
                        SELECT COUNT(*) FROM sessions WHERE \(inPeriod) AND miner IN (\(placeholders(addresses.count)))
                          AND NOT (\(sessionNames))
                        """, range + onlyArgs + addressArgs))
            }
            let r = try db.read(queries)
            let totals = r[0].first
            let changes = r[1].compactMap { c -> StoredPeriod.Change? in
                guard let sensor = c[1].text, let site = c[2].text, let host = c[3].text, let verdict = c[5].text else {
                    return nil
                }
                return StoredPeriod.Change(
                    time: c[0].int ?? 0, sensor: sensor, site: site, host: host, oldVerdict: c[4].text,
                    newVerdict: verdict, confidence: Int(clamping: c[6].int ?? 0), reason: c[7].text)
            }
            func sum(_ i: Int) -> Int? {
                let values = r[2].compactMap { $0[i].int }
                return values.isEmpty ? nil : values.reduce(0) { $0.addingSaturated(Int(clamping: $1)) }
            }
            let capture = StoredPeriod.Capture(
                runs: r[2].count, packets: sum(0) ?? 0, received: sum(1), droppedByKernel: sum(2),
                droppedByInterface: sum(3))
            let span: (Int64, Int64)? = r[3].first.flatMap { s in s[0].int.flatMap { a in s[1].int.map { (a, $0) } } }
            let hostRows = r.count > 6 ? r[6] : []
            let sessionRows = r.count > 7 ? r[7] : []
            let hosts = Self.fleetHosts(listed, hostRows)
            let sessions = Self.fleetSessions(sessionRows, listed: Set(listed.map { "\($0.0)|\($0.1)" }))
            var warnings = StoreReadWarnings(bounds: bounds)
            warnings.hostsWithLongNames = Int(clamping: r[5].first?[0].int ?? 0)
            warnings.sessionsWithLongNames = Int(clamping: r.count > 8 ? r[8].first?[0].int ?? 0 : 0)
            warnings.changesUnread = r[1].count - changes.count
            warnings.reasonsUnread = r[1].reduce(0) { $0 + ($1[8].int == 1 ? 1 : 0) }
            warnings.hostDocumentsUnread = hostRows.reduce(0) {
                $0 + ($1[6].text == nil ? 1 : 0) + ($1[9].text == nil ? 1 : 0)
            }
            warnings.hostRowsOverBudget = max(Int(clamping: hostRows.first?[11].int ?? 0) - hostRows.count, 0)
            warnings.sessionDocumentsUnread = sessionRows.reduce(0) { $0 + ($1[9].text == nil ? 1 : 0) }
            let sessionsMatching = Int(clamping: sessionRows.first?[10].int ?? 0)
            warnings.sessionRowsOverBudget = max(min(sessionsMatching, 50_000) - sessionRows.count, 0)
            return StoredPeriod(
                from: from, to: to, hosts: hosts, sessions: sessions, changes: changes, capture: capture,
                totals: (
                    mining: Int(clamping: totals?[1].int ?? 0), new: Int(clamping: totals?[2].int ?? 0),
                    all: Int(clamping: totals?[0].int ?? Int64(hosts.count))
                ),
                span: span, sensors: r[4].compactMap { $0[0].text }, warnings: warnings.lines)
        } catch { throw StoreError(path, error) }
    }

    /// One host per site and address, in `listed` order, from every sensor's row of it.
    static func fleetHosts(_ listed: [(String, String)], _ rows: [SQLRow]) -> [StoredPeriod.Host] {
        var bySite: [String: [SQLRow]] = [:]
        for row in rows { bySite["\(row[0].text ?? "")|\(row[1].text ?? "")", default: []].append(row) }
        return listed.compactMap { site, address -> StoredPeriod.Host? in
            // The most serious judgement speaks for the host: lowest rank, then most confident, then latest.
            // A row whose document was too large to read speaks only through the others.
            guard let rows = bySite["\(site)|\(address)"]?.filter({ $0[6].text != nil }),
                let best = rows.min(by: { a, b in
                    (a[7].int ?? 9, -(a[8].int ?? 0), -(a[4].int ?? 0), a[2].text ?? "") < (
                        b[7].int ?? 9, -(b[8].int ?? 0), -(b[4].int ?? 0), b[2].text ?? ""
                    )
                }), let document = best[6].text
            else { return nil }
            let sorted = rows.sorted { ($0[2].text ?? "") < ($1[2].text ?? "") }
            return StoredPeriod.Host(
                site: site, address: address, sensors: Set(rows.compactMap { $0[2].text }).sorted(),
                firstSeen: rows.compactMap { $0[3].int }.min() ?? 0, lastSeen: rows.compactMap { $0[4].int }.max() ?? 0,
                firstFlagged: rows.compactMap { $0[5].int }.min(), document: document,
                records: rows.count > 1 ? sorted.compactMap { $0[9].text } : [])
        }
    }

    /// Sessions of the listed hosts, at most 1000 each; one session seen by two sensors (same site,
    /// miner, pool and ports, flows starting within 2 s of each other) is kept once, the sensor that
    /// saw it longer.
    static func fleetSessions(_ rows: [SQLRow], listed: Set<String>) -> [StoredPeriod.Session] {
        var kept: [StoredPeriod.Session] = []
        var perHost: [String: Int] = [:]
        var byTuple: [String: [(start: Int64, index: Int)]] = [:]
        for r in rows {
            guard let site = r[0].text, let sensor = r[1].text, let miner = r[2].text, let document = r[9].text,
                listed.contains("\(site)|\(miner)")
            else { continue }
            let tuple = "\(site)|\(miner)|\(r[3].int ?? 0)|\(r[4].text ?? "")|\(r[5].int ?? 0)"
            let start = r[6].int ?? 0
            let s = StoredPeriod.Session(
                site: site, sensor: sensor, miner: miner, firstSeen: r[7].int ?? 0, lastSeen: r[8].int ?? 0,
                document: document)
            if let twin = byTuple[tuple]?.first(where: { HostRecord.sameFlow(startedAt: $0.start, start) }) {
                let other = kept[twin.index]
                if other.sensor != sensor,
                    s.lastSeen.subtractingSaturated(s.firstSeen) > other.lastSeen.subtractingSaturated(other.firstSeen)
                {
                    kept[twin.index] = s
                }
                if other.sensor != sensor { continue }
            }
            let host = "\(site)|\(miner)"
            perHost[host, default: 0] += 1
            guard perHost[host]! <= 1000 else { continue }
            byTuple[tuple, default: []].append((start, kept.count))
            kept.append(s)
        }
        return kept
    }

    /// Earliest and latest packet time the store holds (for `report --since all`).
    public func span(filter: StoreFilter = StoreFilter()) throws(StoreError) -> (Int64, Int64)? {
        let (only, args) = filter.sql
        do {
            guard
                let row = try db.read(
                    SQLStatement("SELECT MIN(first_seen), MAX(last_seen) FROM hosts WHERE 1 = 1\(only)", args)
                ).first,
                let a = row[0].int, let b = row[1].int
            else { return nil }
            return (a, b)
        } catch { throw StoreError(path, error) }
    }

    /// Verdicts, most serious first: the order of every host list in a period report.
    static let verdictOrder = Verdict.allCases.filter { $0 != .none }.sorted {
        HostVerdicts.rank($0) < HostVerdicts.rank($1)
    }.map(\.rawValue)

    /// That order as an SQL expression over `hosts.verdict`.
    static let rankSQL =
        "CASE verdict " + verdictOrder.enumerated().map { "WHEN '\($1)' THEN \($0) " }.joined() + "ELSE 9 END"
}
