/// The statements that write rows, in either dialect. Each is an upsert keyed by run and record, or
/// a verdict change recorded only where the stored verdict differs — so the same rows written twice
/// (a spooled batch delivered again) change nothing. Rows are written one at a time as they come
/// (`write(_:through:)`), so a commit holds one row's statement, not the batch's.
struct StoreStatements {
    let dialect: SQLDialect
    private let who: [SQLValue]
    private let site: SQLValue
    private let sensor: SQLValue
    private let runValue: SQLValue

    init(dialect: SQLDialect, identity: StoreIdentity, run: String) {
        self.dialect = dialect
        sensor = .text(identity.sensor)
        site = .text(identity.site)
        who = [sensor, site]
        runValue = .text(run)
    }

    /// Writes `rows` through `run` (the run's row first); the verdicts that changed, in order.
    static func write(
        _ rows: StoreRows, dialect: SQLDialect, through run: (SQLStatement) throws -> [SQLRow]
    ) rethrows -> [VerdictChange] {
        let statements = StoreStatements(dialect: dialect, identity: rows.identity, run: rows.run.run)
        _ = try run(statements.run(rows.run))
        var changes: [VerdictChange] = []
        try rows.forEachRow { changes += try statements.write($0, through: run) }
        return changes
    }

    /// Writes one row through `run`; the verdict change it recorded, if any.
    func write(_ row: StoreRows.Row, through run: (SQLStatement) throws -> [SQLRow]) rethrows -> [VerdictChange] {
        switch row {
        case .session(let s): _ = try run(session(s))
        case .evidence(let e): _ = try run(evidence(e))
        case .host(let h):
            let recorded = try run(change(h))
            _ = try run(host(h))
            return recorded.compactMap { r -> VerdictChange? in
                guard let host = r[0].text, let new = r[2].text else { return nil }
                return VerdictChange(host: host, old: r[1].text, new: new, confidence: Int(clamping: r[3].int ?? 0))
            }
        case .stats(let c): _ = try run(stats(c))
        }
        return []
    }

    func run(_ run: StoreRows.Run) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO runs (run, sensor, site, started_at, ended_at, source, version) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run) DO UPDATE SET ended_at = COALESCE(excluded.ended_at, runs.ended_at)
            """,
            [runValue] + who + [.int(run.startedAt), SQLValue(run.endedAt), .text(run.source), .text(run.version)])
    }

    func session(_ s: StoreRows.Session) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO sessions (run, sensor, site, miner, miner_port, pool, pool_port, vlan, flow_first_seen, first_seen, last_seen,
                                  dialect, coin, wallet, software, pool_name, shares_accepted, shares_rejected, hashrate, end_reason, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run, miner, miner_port, pool, pool_port, vlan, flow_first_seen) DO UPDATE SET
              first_seen = excluded.first_seen, last_seen = excluded.last_seen, dialect = excluded.dialect, coin = excluded.coin,
              wallet = excluded.wallet, software = excluded.software, pool_name = excluded.pool_name,
              shares_accepted = excluded.shares_accepted, shares_rejected = excluded.shares_rejected,
              hashrate = excluded.hashrate, end_reason = excluded.end_reason, json = excluded.json
            """,
            [runValue] + who + [
                .text(s.miner), SQLValue(s.minerPort), .text(s.pool), SQLValue(s.poolPort), SQLValue(s.vlan),
                .int(s.flowFirstSeen), .int(s.firstSeen), .int(s.lastSeen), SQLValue(s.dialect), SQLValue(s.coin),
                SQLValue(s.wallet), SQLValue(s.software), SQLValue(s.poolName), SQLValue(s.sharesAccepted),
                SQLValue(s.sharesRejected), SQLValue(s.hashrate), .text(s.endReason), .text(s.json)
            ])
    }

    func evidence(_ e: StoreRows.Evidence) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO evidence (run, sensor, site, host, kind, name, peer, first_seen, last_seen, count, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run, host, kind, name, peer) DO UPDATE SET
              first_seen = \(dialect.least("evidence.first_seen", "excluded.first_seen")),
              last_seen = \(dialect.greatest("evidence.last_seen", "excluded.last_seen")),
              count = excluded.count, json = excluded.json
            """,
            [runValue] + who + [
                .text(e.host), .text(e.kind), .text(e.name), .text(e.peer), .int(e.firstSeen), .int(e.lastSeen),
                SQLValue(e.count), .text(e.json)
            ])
    }

    /// The verdict change, recorded (and returned) only where the stored verdict differs from `h`'s.
    func change(_ h: StoreRows.Host) -> SQLStatement {
        let key: [SQLValue] = [site, .text(h.address), sensor]
        let distinct = dialect == .sqlite ? "IS NOT" : "IS DISTINCT FROM"
        let stored = "(SELECT verdict FROM hosts WHERE site = ? AND address = ? AND sensor = ?)"
        // The old verdict as it is recorded and returned: a value larger than any verdict (a store
        // edited by hand) is not copied into the change or read back into memory.
        let old =
            "(SELECT CASE WHEN \(dialect.bytes("verdict")) <= \(StoreReadLimits().name) THEN verdict ELSE 'unreadable' END"
            + " FROM hosts WHERE site = ? AND address = ? AND sensor = ?)"
        return SQLStatement(
            """
            INSERT INTO verdict_changes (time, sensor, site, host, old_verdict, new_verdict, confidence, reason)
            SELECT ?, ?, ?, ?, \(old), ?, ?, ? WHERE \(stored) \(distinct) ?
            RETURNING host, old_verdict, new_verdict, confidence
            """,
            [.int(h.evidenceTime)] + who + [.text(h.address)] + key + [
                .text(h.verdict), SQLValue(h.confidence), SQLValue(h.reason)
            ] + key + [.text(h.verdict)])
    }

    func host(_ h: StoreRows.Host) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO hosts (site, address, sensor, vlans, first_seen, last_seen, verdict, confidence, first_flagged, report_json,
                               record_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (site, address, sensor) DO UPDATE SET
              vlans = excluded.vlans,
              first_seen = \(dialect.least("hosts.first_seen", "excluded.first_seen")),
              last_seen = \(dialect.greatest("hosts.last_seen", "excluded.last_seen")),
              verdict = excluded.verdict, confidence = excluded.confidence,
              first_flagged = COALESCE(hosts.first_flagged, excluded.first_flagged), report_json = excluded.report_json,
              record_json = excluded.record_json
            """,
            [site, .text(h.address), sensor] + [
                .text(h.vlans), .int(h.firstSeen), .int(h.lastSeen), .text(h.verdict), SQLValue(h.confidence),
                SQLValue(h.flagged), .text(h.json), .text(h.record)
            ])
    }

    func stats(_ c: StoreRows.Stats) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO capture_stats (run, sensor, site, time, first_packet, last_packet, packets, bytes, flows, received,
                                       dropped_kernel, dropped_interface, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run, time) DO NOTHING
            """,
            [runValue] + who + [
                .int(c.time), .int(c.firstPacket), .int(c.lastPacket), SQLValue(c.packets), SQLValue(c.bytes),
                SQLValue(c.flows), SQLValue(c.received), SQLValue(c.droppedByKernel), SQLValue(c.droppedByInterface),
                .text(c.json)
            ])
    }
}
