import GRDB

/// The store's schema, one migration per version (README "Store schema"). A store written by
/// an older release is migrated forward on open; `PRAGMA user_version` mirrors the version for
/// tools that do not know GRDB's migration table.
enum Schema {
    static let version = 1

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("started_at", .integer).notNull()        // ns since the epoch (wall clock)
                t.column("ended_at", .integer)
                t.column("source", .text).notNull()               // "live: eth0,eth1" or "analyze: a.pcap"
                t.column("version", .text).notNull()
            }
            try db.create(table: "hosts") { t in
                t.primaryKey("address", .text)
                t.column("first_seen", .integer).notNull()        // packet time, ns
                t.column("last_seen", .integer).notNull()
                t.column("verdict", .text).notNull()
                t.column("confidence", .integer).notNull()
                t.column("first_flagged", .integer)               // first time mining/likely-mining
                t.column("report_json", .text).notNull()          // the latest host report (JSON schema)
            }
            try db.create(table: "sessions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs")
                t.column("miner", .text).notNull()
                t.column("miner_port", .integer).notNull()
                t.column("pool", .text).notNull()
                t.column("pool_port", .integer).notNull()
                t.column("flow_first_seen", .integer).notNull()
                t.column("first_seen", .integer).notNull()
                t.column("last_seen", .integer).notNull()
                t.column("dialect", .text)
                t.column("coin", .text)
                t.column("wallet", .text)
                t.column("software", .text)
                t.column("pool_name", .text)
                t.column("shares_accepted", .integer).notNull()
                t.column("shares_rejected", .integer).notNull()
                t.column("hashrate", .double)
                t.column("end_reason", .text).notNull()
                t.column("json", .text).notNull()
                t.uniqueKey(["run_id", "miner", "miner_port", "pool", "pool_port", "flow_first_seen"])
            }
            try db.create(index: "sessions_by_time", on: "sessions", columns: ["last_seen", "first_seen"])
            try db.create(index: "sessions_by_miner", on: "sessions", columns: ["miner"])
            try db.create(table: "evidence") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs")
                t.column("host", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("name", .text).notNull()
                t.column("peer", .text).notNull()
                t.column("first_seen", .integer).notNull()
                t.column("last_seen", .integer).notNull()
                t.column("count", .integer).notNull()
                t.column("json", .text).notNull()
                t.uniqueKey(["run_id", "host", "kind", "name", "peer"])
            }
            try db.create(index: "evidence_by_time", on: "evidence", columns: ["last_seen", "first_seen"])
            try db.create(table: "verdict_changes") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .integer).notNull()
                t.column("host", .text).notNull()
                t.column("old_verdict", .text)
                t.column("new_verdict", .text).notNull()
                t.column("confidence", .integer).notNull()
                t.column("reason", .text)
            }
            try db.create(index: "verdict_changes_by_time", on: "verdict_changes", columns: ["time"])
            try db.create(table: "capture_stats") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs")
                t.column("time", .integer).notNull()              // wall clock of the commit
                t.column("first_packet", .integer)                // packet time span the counters cover
                t.column("last_packet", .integer)
                t.column("packets", .integer).notNull()
                t.column("bytes", .integer).notNull()
                t.column("flows", .integer).notNull()
                t.column("received", .integer)
                t.column("dropped_kernel", .integer)
                t.column("dropped_interface", .integer)
                t.column("json", .text).notNull()
            }
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        return m
    }
}
