import GRDB

/// The store's schema (docs/store-and-fleet.md "Store"), the same tables in SQLite and PostgreSQL.
///
/// Version 2 gives every row its sensor and site (a fleet writes into one database; the same
/// address at two sites is two hosts) and names runs by a UUID the sensor makes itself, so that a
/// sensor can number what it writes while the database is away and a batch delivered twice is
/// written once. SQLite stores of version 1 are migrated forward on open (GRDB's migrator; `PRAGMA
/// user_version` mirrors the version for tools that do not know GRDB); PostgreSQL keeps its version
/// in `stratumsniff_schema`.
///
/// Version 3 adds `probes`: what servers answered `--probe`, so every sensor of a fleet knows a
/// confirmed pool (and does not ask it again).
enum Schema {
    static let version = 3

    /// Every table the store owns (anything else in a SQLite file means it is not ours).
    static let tables: Set<String> = [
        "runs", "hosts", "sessions", "evidence", "verdict_changes", "capture_stats", "probes"
    ]

    /// What version 3 adds to version 2.
    static func addV3(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE probes (                   -- the latest answer each sensor got from a server
              address TEXT NOT NULL, port INTEGER NOT NULL, sensor TEXT NOT NULL, site TEXT NOT NULL,
              answer TEXT NOT NULL,                 -- pool / not-pool
              sentence TEXT NOT NULL, coin TEXT, algorithm TEXT,
              probed_at BIGINT NOT NULL,            -- ns since the epoch (wall clock)
              PRIMARY KEY (address, port, sensor))
            """,
            "CREATE INDEX probes_by_time ON probes (probed_at)"
        ]
    }

    /// The version-2 tables and indexes in `d`'s dialect.
    static func createV2(_ d: SQLDialect) -> [String] {
        let big = "BIGINT"
        let dbl = "DOUBLE PRECISION"
        return [
            """
            CREATE TABLE runs (
              run TEXT PRIMARY KEY,                 -- a UUID the sensor makes at start
              sensor TEXT NOT NULL, site TEXT NOT NULL,
              started_at \(big) NOT NULL,           -- ns since the epoch (wall clock)
              ended_at \(big),
              source TEXT NOT NULL,                 -- "live: eth0,eth1" or "analyze: a.pcap"
              version TEXT NOT NULL)
            """,
            """
            CREATE TABLE hosts (                    -- one row per host as each sensor sees it
              site TEXT NOT NULL, address TEXT NOT NULL, sensor TEXT NOT NULL,
              vlans TEXT NOT NULL,                  -- VLAN ids its sessions were seen on ("" when none)
              first_seen \(big) NOT NULL,           -- packet time, ns
              last_seen \(big) NOT NULL,
              verdict TEXT NOT NULL,
              confidence INTEGER NOT NULL,
              first_flagged \(big),                 -- first time mining/likely-mining
              report_json TEXT NOT NULL,            -- the latest host report (JSON schema)
              record_json TEXT NOT NULL,            -- what it was judged from (a fleet report judges again)
              PRIMARY KEY (site, address, sensor))
            """,
            "CREATE INDEX hosts_by_time ON hosts (last_seen, first_seen)",
            """
            CREATE TABLE sessions (
              run TEXT NOT NULL, sensor TEXT NOT NULL, site TEXT NOT NULL,
              miner TEXT NOT NULL, miner_port INTEGER NOT NULL, pool TEXT NOT NULL, pool_port INTEGER NOT NULL,
              vlan INTEGER NOT NULL,
              flow_first_seen \(big) NOT NULL, first_seen \(big) NOT NULL, last_seen \(big) NOT NULL,
              dialect TEXT, coin TEXT, wallet TEXT, software TEXT, pool_name TEXT,
              shares_accepted \(big) NOT NULL, shares_rejected \(big) NOT NULL, hashrate \(dbl),
              end_reason TEXT NOT NULL, json TEXT NOT NULL,
              UNIQUE (run, miner, miner_port, pool, pool_port, vlan, flow_first_seen))
            """,
            "CREATE INDEX sessions_by_time ON sessions (last_seen, first_seen)",
            "CREATE INDEX sessions_by_miner ON sessions (miner)",
            """
            CREATE TABLE evidence (
              run TEXT NOT NULL, sensor TEXT NOT NULL, site TEXT NOT NULL,
              host TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, peer TEXT NOT NULL,
              first_seen \(big) NOT NULL, last_seen \(big) NOT NULL, count \(big) NOT NULL, json TEXT NOT NULL,
              UNIQUE (run, host, kind, name, peer))
            """,
            "CREATE INDEX evidence_by_time ON evidence (last_seen, first_seen)",
            """
            CREATE TABLE verdict_changes (
              id \(d.serialKey),
              time \(big) NOT NULL, sensor TEXT NOT NULL, site TEXT NOT NULL, host TEXT NOT NULL,
              old_verdict TEXT, new_verdict TEXT NOT NULL, confidence INTEGER NOT NULL, reason TEXT)
            """,
            "CREATE INDEX verdict_changes_by_time ON verdict_changes (time)",
            """
            CREATE TABLE capture_stats (
              run TEXT NOT NULL, sensor TEXT NOT NULL, site TEXT NOT NULL,
              time \(big) NOT NULL,                 -- wall clock of the commit
              first_packet \(big), last_packet \(big),  -- packet time span the counters cover
              packets \(big) NOT NULL, bytes \(big) NOT NULL, flows \(big) NOT NULL,
              received \(big), dropped_kernel \(big), dropped_interface \(big),
              json TEXT NOT NULL,
              UNIQUE (run, time))
            """
        ]
    }

    /// SQLite: version 1 (one sensor, runs numbered by the database) and the step to version 2.
    /// - Parameter sensor: the name rows of a version-1 store are given (they were this machine's).
    static func migrator(sensor: String) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at INTEGER NOT NULL, ended_at INTEGER,
                      source TEXT NOT NULL, version TEXT NOT NULL);
                    CREATE TABLE hosts (address TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                      verdict TEXT NOT NULL, confidence INTEGER NOT NULL, first_flagged INTEGER, report_json TEXT NOT NULL);
                    CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs,
                      miner TEXT NOT NULL, miner_port INTEGER NOT NULL, pool TEXT NOT NULL, pool_port INTEGER NOT NULL,
                      flow_first_seen INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, dialect TEXT, coin TEXT,
                      wallet TEXT, software TEXT, pool_name TEXT, shares_accepted INTEGER NOT NULL, shares_rejected INTEGER NOT NULL,
                      hashrate DOUBLE, end_reason TEXT NOT NULL, json TEXT NOT NULL,
                      UNIQUE (run_id, miner, miner_port, pool, pool_port, flow_first_seen));
                    CREATE TABLE evidence (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs,
                      host TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, peer TEXT NOT NULL, first_seen INTEGER NOT NULL,
                      last_seen INTEGER NOT NULL, count INTEGER NOT NULL, json TEXT NOT NULL, UNIQUE (run_id, host, kind, name, peer));
                    CREATE TABLE verdict_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, host TEXT NOT NULL,
                      old_verdict TEXT, new_verdict TEXT NOT NULL, confidence INTEGER NOT NULL, reason TEXT);
                    CREATE TABLE capture_stats (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs,
                      time INTEGER NOT NULL, first_packet INTEGER, last_packet INTEGER, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
                      flows INTEGER NOT NULL, received INTEGER, dropped_kernel INTEGER, dropped_interface INTEGER, json TEXT NOT NULL);
                    PRAGMA user_version = 1;
                    """)
        }
        m.registerMigration("v2") { db in
            // Keep version 1's rows: old tables aside, version 2's created, rows copied with this
            // machine as their sensor, the empty site, and 'v1-N' as the name of run N.
            for t in ["runs", "hosts", "sessions", "evidence", "verdict_changes", "capture_stats"] {
                try db.execute(sql: "ALTER TABLE \(t) RENAME TO v1_\(t)")
            }
            // SQLite renames indexes with their tables; version 2's indexes reuse the names.
            for i in ["sessions_by_time", "sessions_by_miner", "evidence_by_time", "verdict_changes_by_time"] {
                try db.execute(sql: "DROP INDEX IF EXISTS \(i)")
            }
            for sql in createV2(.sqlite) { try db.execute(sql: sql) }
            let s = sensor
            try db.execute(
                sql: """
                    INSERT INTO runs SELECT 'v1-' || id, ?, '', started_at, ended_at, source, version FROM v1_runs;
                    INSERT INTO hosts SELECT '', address, ?, '', first_seen, last_seen, verdict, confidence, first_flagged, report_json, '' FROM v1_hosts;
                    INSERT INTO sessions SELECT 'v1-' || run_id, ?, '', miner, miner_port, pool, pool_port, 0, flow_first_seen, first_seen,
                      last_seen, dialect, coin, wallet, software, pool_name, shares_accepted, shares_rejected, hashrate, end_reason, json FROM v1_sessions;
                    INSERT INTO evidence SELECT 'v1-' || run_id, ?, '', host, kind, name, peer, first_seen, last_seen, count, json FROM v1_evidence;
                    INSERT INTO verdict_changes (time, sensor, site, host, old_verdict, new_verdict, confidence, reason)
                      SELECT time, ?, '', host, old_verdict, new_verdict, confidence, reason FROM v1_verdict_changes ORDER BY id;
                    INSERT OR IGNORE INTO capture_stats SELECT 'v1-' || run_id, ?, '', time, first_packet, last_packet, packets, bytes, flows,
                      received, dropped_kernel, dropped_interface, json FROM v1_capture_stats;
                    """, arguments: [s, s, s, s, s, s])
            for t in ["sessions", "evidence", "capture_stats", "verdict_changes", "hosts", "runs"] {
                try db.execute(sql: "DROP TABLE v1_\(t)")
            }
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        m.registerMigration("v3") { db in
            for sql in addV3(.sqlite) { try db.execute(sql: sql) }
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        return m
    }
}
