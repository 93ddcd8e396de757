import Locking
import SafeNumbers
import Detection
import Foundation
import GRDB
import Synchronization
import PacketDecoding

public struct StoreError: Error, CustomStringConvertible {
    public var description: String
    init(_ path: String, _ error: Error) {
        if let e = error as? StoreError { description = e.description; return }
        if let db = error as? DatabaseError, db.resultCode == .SQLITE_NOTADB || db.resultCode == .SQLITE_CORRUPT {
            description = "store \(path): damaged or not an SQLite database (\(db.message ?? "\(db.resultCode)")); "
                + "move it aside (a new store is then created) or choose another with --store"
            return
        }
        description = "store \(path): \(error); check the path is writable, or choose another with --store"
    }
    init(_ path: String, refusing why: String) {
        description = "store \(path): \(why)"
    }
}

/// What one commit writes: the current host reports (with their sessions and evidence),
/// and the capture counters. Built by the caller from an `Analyzer` snapshot.
public struct StoreBatch: Sendable {
    public var time: Timestamp
    public var reports: [HostReport]
    public var statsJSON: String
    public var packets: Int
    public var bytes: Int
    public var flows: Int
    public var received: UInt64?
    public var droppedByKernel: UInt64?
    public var droppedByInterface: UInt64?
    /// Packet-time span of the counters (reports select capture statistics by it).
    public var firstPacket: Timestamp?
    public var lastPacket: Timestamp?
    /// Sessions let go of from memory since the last batch (each is stored once, here).
    public var retiredSessions: [SessionRecord] = []

    public init(time: Timestamp, reports: [HostReport], statsJSON: String, packets: Int, bytes: Int, flows: Int,
                received: UInt64? = nil, droppedByKernel: UInt64? = nil, droppedByInterface: UInt64? = nil,
                firstPacket: Timestamp? = nil, lastPacket: Timestamp? = nil) {
        self.firstPacket = firstPacket; self.lastPacket = lastPacket
        self.time = time; self.reports = reports; self.statsJSON = statsJSON; self.packets = packets
        self.bytes = bytes; self.flows = flows; self.received = received; self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }
}

/// How the store writes what it is given: each host, session and evidence record as a document
/// (the JSON schema of the reports, supplied by the caller — the store keeps documents, it does not
/// define them) and the sentence a verdict change is recorded with.
public struct StoreDocuments: Sendable {
    public var host: @Sendable (HostReport) -> String
    public var reason: @Sendable (HostReport) -> String?
    public var session: @Sendable (SessionRecord) -> String
    public var evidence: @Sendable (Evidence, ScoringPolicy) -> String

    public init(host: @escaping @Sendable (HostReport) -> String, reason: @escaping @Sendable (HostReport) -> String?,
                session: @escaping @Sendable (SessionRecord) -> String, evidence: @escaping @Sendable (Evidence, ScoringPolicy) -> String) {
        self.host = host; self.reason = reason; self.session = session; self.evidence = evidence
    }
}

/// A verdict that changed in a commit (for alerts and the verdict_changes table).
public struct VerdictChange: Sendable, Equatable {
    public var host: String
    public var old: String?
    public var new: String
    public var confidence: Int
    public init(host: String, old: String?, new: String, confidence: Int) {
        self.host = host; self.old = old; self.new = new; self.confidence = confidence
    }
}

/// The embedded SQLite history (GRDB, WAL): hosts, sessions, evidence, verdict changes and capture
/// statistics across runs. A restart continues the same history; writes are batched into one
/// transaction per commit so a busy tap is not slowed by the database.
public final class EvidenceStore: Sendable {
    public let path: String
    /// Nil when opened for reading only.
    private let pool: DatabasePool?
    /// How records become stored documents (nil when opened for reading only).
    private let documents: StoreDocuments?
    private struct Book {
        var runID: Int64 = 0
        /// What each row looked like when last written by this process: unchanged rows are not
        /// written again (a live sensor commits its whole state every few seconds).
        var written: [String: Int] = [:]
        var rowsSkipped = 0
    }
    /// Commits run on the recorder's thread, runs begin and end on the capture thread.
    private let book = Locked(Book())
    public var runID: Int64 { book.withLock { $0.runID } }
    public var rowsSkipped: Int { book.withLock { $0.rowsSkipped } }

    let reader: DatabaseReader

    /// Opens (creating if needed) and migrates the store. A database this release did not write
    /// (another application's, or a newer schema) is refused before anything is written to it.
    public init(path: String, documents: StoreDocuments) throws(StoreError) {
        self.path = path
        self.documents = documents
        do {
            // Look before opening for writing: opening a pool switches the file to WAL mode, which
            // is already a write to a database that may belong to someone else.
            if FileManager.default.fileExists(atPath: path) {
                var look = Configuration()
                look.readonly = true
                let q = try DatabaseQueue(path: path, configuration: look)
                try q.read { db in try Self.checkIdentity(db, path: path) }
                try q.close()
            }
            var config = Configuration()
            config.busyMode = .timeout(5)
            let pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
            self.pool = pool
            reader = pool
        } catch {
            throw StoreError(path, error)
        }
    }

    /// Opens the store for reading only (`report`): nothing is created, migrated or written.
    /// A store in a read-only place (a copy from an incident, a read-only mount) is opened as
    /// immutable; write the store's WAL back first (a clean stop of `live`/`analyze` does).
    public init(readingOnly path: String) throws(StoreError) {
        self.path = path
        documents = nil
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        var opened: DatabaseQueue?
        var firstError: Error?
        for candidate in [path, "file:" + Self.uriEscaped(path) + "?immutable=1"] {
            do {
                let q = try DatabaseQueue(path: candidate, configuration: config)
                try q.read { db in
                    try Self.checkIdentity(db, path: path)
                    guard try db.tableExists("hosts") else { throw StoreError(path, refusing: "holds no StratumSniff history yet") }
                }
                opened = q
                break
            } catch let e as StoreError {
                throw e
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        guard let opened else { throw StoreError(path, firstError ?? StoreError(path, refusing: "cannot be opened")) }
        reader = opened
        pool = nil
    }

    /// The writer, or a refusal when the store was opened for reading only.
    private func writer() throws -> DatabasePool {
        guard let pool else { throw StoreError(path, refusing: "opened for reading only") }
        return pool
    }

    private static func uriEscaped(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? path
    }

    /// Refuses a database that is not a StratumSniff store, or one from a newer release.
    static func checkIdentity(_ db: Database, path: String) throws {
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let ours: Set<String> = ["grdb_migrations", "runs", "hosts", "sessions", "evidence", "verdict_changes", "capture_stats"]
        let foreign = tables.filter { !ours.contains($0) }
        if !tables.isEmpty && (!tables.contains("grdb_migrations") || !foreign.isEmpty) {
            let shown = (foreign.isEmpty ? tables : foreign).prefix(5).joined(separator: ", ")   // escaped where printed (Diagnostics)
            throw StoreError(path, refusing: "not a StratumSniff store (it holds tables \(shown)); choose another --store")
        }
        if version > Schema.version {
            throw StoreError(path, refusing: "written by a newer StratumSniff (schema \(version); this release knows up to \(Schema.version)); "
                                 + "use that release, or choose another --store")
        }
    }

    /// Folds the write-ahead log into the main file (at exit), so the store is one self-contained
    /// file that a copy or a read-only open sees whole.
    public func checkpoint() throws(StoreError) {
        do { _ = try writer().writeWithoutTransaction { try $0.checkpoint(.truncate) } } catch { throw StoreError(path, error) }
    }

    /// What `prune` removed.
    public struct Pruned: Sendable, Equatable {
        public var sessions = 0
        public var evidence = 0
        public var captureStats = 0
    }

    /// Retention: removes sessions and evidence records last seen before `cutoff` (packet time, ns)
    /// and capture statistics committed before it (wall clock, ns). Hosts (with their first-seen and
    /// latest report), verdict changes and runs are kept: "since when, and what became of it" outlives
    /// the detail. One transaction.
    public func prune(before cutoff: Int64) throws(StoreError) -> Pruned {
        do {
            return try writer().write { db in
                try db.execute(sql: "DELETE FROM sessions WHERE last_seen < ?", arguments: [cutoff])
                let sessions = db.changesCount
                try db.execute(sql: "DELETE FROM evidence WHERE last_seen < ?", arguments: [cutoff])
                let evidence = db.changesCount
                try db.execute(sql: "DELETE FROM capture_stats WHERE time < ?", arguments: [cutoff])
                return Pruned(sessions: sessions, evidence: evidence, captureStats: db.changesCount)
            }
        } catch { throw StoreError(path, error) }
    }

    /// Writes sessions retired from memory (the host's report keeps only the latest ones).
    public func store(sessions: [SessionRecord]) throws(StoreError) {
        guard !sessions.isEmpty else { return }
        guard let docs = documents else { throw StoreError(path, refusing: "was opened for reading only") }
        do { try writer().write { db in for s in sessions { try upsert(session: s, docs, db) } } } catch { throw StoreError(path, error) }
    }

    /// Starts a run (a `live` or `analyze` invocation) that later commits belong to.
    public func beginRun(source: String, version: String, at time: Timestamp) throws(StoreError) {
        do {
            let id = try writer().write { db in
                try db.execute(sql: "INSERT INTO runs (started_at, source, version) VALUES (?, ?, ?)",
                               arguments: [time.nanoseconds, source, version])
                return db.lastInsertedRowID
            }
            book.withLock { $0.runID = id }
        } catch { throw StoreError(path, error) }
    }

    public func endRun(at time: Timestamp) throws(StoreError) {
        do {
            try writer().write { db in try db.execute(sql: "UPDATE runs SET ended_at = ? WHERE id = ?", arguments: [time.nanoseconds, runID]) }
        } catch { throw StoreError(path, error) }
    }

    /// Writes one batch in one transaction; returns the verdicts that changed.
    /// - Complexity: O(hosts + sessions + evidence in the batch) row upserts.
    @discardableResult
    public func commit(_ batch: StoreBatch) throws(StoreError) -> [VerdictChange] {
        do {
            return try writer().write { db in try self.write(batch, db) }
        } catch {
            book.withLock { $0.written.removeAll() }   // the transaction rolled back: nothing can be assumed written
            throw StoreError(path, error)
        }
    }

    private func write(_ b: StoreBatch, _ db: Database) throws -> [VerdictChange] {
        guard let docs = documents else { throw StoreError(path, refusing: "was opened for reading only") }
        var changes: [VerdictChange] = []
        for s in b.retiredSessions { try upsert(session: s, docs, db) }
        for r in b.reports {
            let address = r.host.description
            let json = docs.host(r)
            // A session appears under its miner and its pool; the unique key stores it once.
            for s in r.minerSessions + r.poolSessions { try upsert(session: s, docs, db) }
            for e in r.evidence { try upsert(evidence: e, policy: r.policy, docs, db) }
            guard unchanged("h|\(address)", json) == false else { continue }
            let first = r.firstSeen?.nanoseconds ?? b.time.nanoseconds
            let last = r.lastSeen?.nanoseconds ?? b.time.nanoseconds
            let old = try String.fetchOne(db, sql: "SELECT verdict FROM hosts WHERE address = ?", arguments: [address])
            // One clock for the evidence: when a host was first flagged and when its verdict changed are
            // packet times (its latest evidence), as first/last seen are; wall time is run bookkeeping.
            let evidenceTime = r.lastSeen?.nanoseconds ?? b.time.nanoseconds
            let flagged = r.verdict.isMiner ? evidenceTime : nil
            try db.execute(sql: """
                INSERT INTO hosts (address, first_seen, last_seen, verdict, confidence, first_flagged, report_json)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(address) DO UPDATE SET
                  first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen),
                  verdict = excluded.verdict, confidence = excluded.confidence,
                  first_flagged = COALESCE(first_flagged, excluded.first_flagged), report_json = excluded.report_json
                """, arguments: [address, first, last, r.verdict.rawValue, r.confidence, flagged, json])
            if old != r.verdict.rawValue {
                changes.append(VerdictChange(host: address, old: old, new: r.verdict.rawValue, confidence: r.confidence))
                try db.execute(sql: "INSERT INTO verdict_changes (time, host, old_verdict, new_verdict, confidence, reason) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [evidenceTime, address, old, r.verdict.rawValue, r.confidence, docs.reason(r)])
            }
        }
        try db.execute(sql: """
            INSERT INTO capture_stats (run_id, time, first_packet, last_packet, packets, bytes, flows, received, dropped_kernel, dropped_interface, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [runID, b.time.nanoseconds, (b.firstPacket ?? b.time).nanoseconds, (b.lastPacket ?? b.time).nanoseconds, b.packets, b.bytes, b.flows, b.received.map { Int64(clamping: $0) },
                             b.droppedByKernel.map { Int64(clamping: $0) }, b.droppedByInterface.map { Int64(clamping: $0) }, b.statsJSON])
        return changes
    }

    /// Whether `json` is what was last written under `key` (and remembers it otherwise).
    private func unchanged(_ key: String, _ json: String) -> Bool {
        let h = json.hashValue
        return book.withLock { b in
            if b.written[key] == h { b.rowsSkipped += 1; return true }
            // A sensor running for months sees sessions come and go: forget everything now and then
            // (it only costs rewriting unchanged rows once) rather than remember every key forever.
            if b.written.count >= 262_144 { b.written.removeAll(keepingCapacity: true) }
            b.written[key] = h
            return false
        }
    }

    private func upsert(session s: SessionRecord, _ docs: StoreDocuments, _ db: Database) throws {
        let json = docs.session(s)
        guard !unchanged("s|\(s.miner)|\(s.minerPort)|\(s.pool)|\(s.poolPort)|\(s.flowFirstSeen.nanoseconds)", json) else { return }
        let m = s.summary
        let first = (m.firstSeen ?? s.flowFirstSeen).nanoseconds
        let last = (m.lastSeen ?? s.flowLastSeen).nanoseconds
        try db.execute(sql: """
            INSERT INTO sessions (run_id, miner, miner_port, pool, pool_port, flow_first_seen, first_seen, last_seen, dialect, coin,
                                  wallet, software, pool_name, shares_accepted, shares_rejected, hashrate, end_reason, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(run_id, miner, miner_port, pool, pool_port, flow_first_seen) DO UPDATE SET
              first_seen = excluded.first_seen, last_seen = excluded.last_seen, dialect = excluded.dialect, coin = excluded.coin,
              wallet = excluded.wallet, software = excluded.software, pool_name = excluded.pool_name,
              shares_accepted = excluded.shares_accepted, shares_rejected = excluded.shares_rejected,
              hashrate = excluded.hashrate, end_reason = excluded.end_reason, json = excluded.json
            """, arguments: [runID, s.miner.description, Int(s.minerPort), s.pool.description, Int(s.poolPort), s.flowFirstSeen.nanoseconds,
                             first, last, m.dialect?.rawValue, s.coin, m.wallets.first, m.software, m.poolHostnames.first,
                             m.sharesAccepted, m.sharesRejected, m.estimatedHashrate, s.endReason, json])
    }

    private func upsert(evidence e: Evidence, policy: ScoringPolicy, _ docs: StoreDocuments, _ db: Database) throws {
        let json = docs.evidence(e, policy)
        guard !unchanged("e|\(e.host)|\(e.kind.rawValue)|\(e.name ?? "")|\(e.peerEndpoint ?? "")", json) else { return }
        try db.execute(sql: """
            INSERT INTO evidence (run_id, host, kind, name, peer, first_seen, last_seen, count, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(run_id, host, kind, name, peer) DO UPDATE SET
              first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen),
              count = excluded.count, json = excluded.json
            """, arguments: [runID, e.host.description, e.kind.rawValue, e.name ?? "", e.peerEndpoint ?? "", e.first.nanoseconds,
                             e.last.nanoseconds, max(e.count, 1), json])
    }
}
