import Detection
import Foundation
import GRDB
import Locking
import PacketDecoding
import SafeNumbers
import Synchronization

/// The history: hosts, sessions, evidence, verdict changes and capture statistics across runs and
/// sensors. SQLite (one box, embedded, the default) or PostgreSQL (a fleet's central database); the
/// same tables and the same statements for both (`SQL.swift`). A restart continues the same history;
/// writes are batched into one transaction per commit so a busy tap is not slowed by the database.
public final class EvidenceStore: Sendable {
    /// The SQLite path or the PostgreSQL address (without password), for messages.
    public let path: String
    public let identity: StoreIdentity
    /// Whether the database is on another machine (a failed commit is spooled, not lost).
    public var isRemote: Bool { db.dialect == .postgresql }
    let db: any SQLDatabase
    /// How records become stored documents (nil when opened for reading only).
    private let documents: StoreDocuments?
    private struct Book {
        var run: StoreRows.Run?
        /// What each row looked like when last written by this process (the hash of its document,
        /// under the hash of its key): unchanged rows are not written again (a live sensor commits its
        /// whole state every few seconds). Hashes, not keys: up to 262 144 rows are remembered.
        var written: [Int: Int] = [:]
        var rowsSkipped = 0
        var needsMigration = false
    }
    /// Commits run on the recorder's thread, runs begin and end on the capture thread.
    private let book = Locked(Book())
    public var runID: String? { book.withLock { $0.run?.run } }
    public var rowsSkipped: Int { book.withLock { $0.rowsSkipped } }

    /// Opens (creating if needed) and migrates the store at `location`. A database this release did
    /// not write (another application's, or a newer schema) is refused before anything is written to it.
    /// - Parameter deferred: PostgreSQL only — when the server cannot be reached, open anyway and
    ///   migrate at the first write (a sensor starts capturing while its database is away).
    public init(_ location: StoreLocation, identity: StoreIdentity, documents: StoreDocuments, deferred: Bool = false)
        throws(StoreError)
    {
        self.identity = identity
        self.documents = documents
        path = location.description
        switch location {
        case .postgresql(let where_):
            let pg = PostgresDatabase(where_)
            db = pg
            do { try pg.migrate() } catch {
                let e = StoreError(path, error)
                guard deferred, e.unreachable else {
                    pg.close()
                    throw e
                }
                book.withLock { $0.needsMigration = true }
            }
        case .sqlite(let file):
            do { db = try SQLiteDatabase(path: file, sensor: identity.sensor) } catch { throw StoreError(file, error) }
        }
    }

    /// Opens the store for reading only (`report`): nothing is created, migrated or written.
    public init(readingOnly location: StoreLocation) throws(StoreError) {
        identity = StoreIdentity(sensor: "")
        documents = nil
        path = location.description
        switch location {
        case .postgresql(let where_):
            let pg = PostgresDatabase(where_)
            do { try pg.checkReadable() } catch {
                pg.close()
                throw StoreError(path, error)
            }
            db = pg
        case .sqlite(let file):
            do { db = try SQLiteDatabase(readingOnly: file) } catch { throw StoreError(file, error) }
        }
    }

    /// Writes sessions retired from memory (the host's report keeps only the latest ones).
    public func store(sessions: [SessionRecord], at time: Timestamp) throws(StoreError) {
        guard !sessions.isEmpty else { return }
        var batch = StoreBatch(time: time, reports: [], statsJSON: "{}", packets: 0, bytes: 0, flows: 0)
        batch.retiredSessions = sessions
        try commit(batch, withStats: false)
    }

    deinit { db.close() }

    /// Records what servers answered the probe, as this sensor's latest answer from each.
    public func store(probes: [ProbeFact]) throws(StoreError) {
        guard !probes.isEmpty else { return }
        let statements = probes.map { f in
            SQLStatement(
                """
                INSERT INTO probes (address, port, sensor, site, answer, sentence, coin, algorithm, probed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (address, port, sensor) DO UPDATE SET site = excluded.site, answer = excluded.answer,
                  sentence = excluded.sentence, coin = excluded.coin, algorithm = excluded.algorithm, probed_at = excluded.probed_at
                WHERE excluded.probed_at >= probes.probed_at
                """,
                [
                    .text(f.server.description), .int(Int64(f.port)), .text(identity.sensor), .text(identity.site),
                    .text(f.answer.rawValue), .text(f.sentence.utf8Prefix(StoreReadLimits.maxProbeSentence)),
                    f.coin.map { .text($0.utf8Prefix(StoreReadLimits.maxName)) } ?? .null,
                    f.algorithm.map { .text($0.utf8Prefix(StoreReadLimits.maxName)) } ?? .null, .int(f.at.nanoseconds)
                ])
        }
        do {
            try ensureMigrated()
            _ = try db.transaction(statements)
        } catch { throw StoreError(path, error) }
    }

    /// Every sensor's probe answers since `since` (wall clock, ns), newest first, at most
    /// `StoreReadLimits.maxProbeFacts`; rows with oversized or unknown values are left out.
    public func probeFacts(since: Int64) throws(StoreError) -> [ProbeFact] {
        let d = db.dialect
        let query = SQLStatement(
            """
            SELECT address, port, answer, sentence, coin, algorithm, probed_at FROM probes
            WHERE probed_at >= ? AND \(d.bytes("sentence")) <= ? AND \(d.bytes("address")) <= ?
              AND \(d.bytes("COALESCE(coin, '')")) <= ? AND \(d.bytes("COALESCE(algorithm, '')")) <= ?
            ORDER BY probed_at DESC LIMIT ?
            """,
            [
                .int(since), .int(Int64(StoreReadLimits.maxProbeSentence)), .int(Int64(StoreReadLimits.maxName)),
                .int(Int64(StoreReadLimits.maxName)), .int(Int64(StoreReadLimits.maxName)),
                .int(Int64(StoreReadLimits.maxProbeFacts))
            ])
        do {
            try ensureMigrated()
            return try db.read(query).compactMap { row in
                guard let address = row[0].text.flatMap(IPAddress.init),
                    let port = row[1].int.flatMap(UInt16.init(exactly:)),
                    let answer = row[2].text.flatMap(ProbeFact.Answer.init(rawValue:)), let sentence = row[3].text,
                    let at = row[6].int
                else { return nil }
                return ProbeFact(
                    server: address, port: port, answer: answer, sentence: sentence, coin: row[4].text,
                    algorithm: row[5].text,
                    at: Timestamp(nanoseconds: at))
            }
        } catch { throw StoreError(path, error) }
    }

    /// Folds the write-ahead log into the main file (at exit), so the store is one self-contained
    /// file that a copy or a read-only open sees whole.
    public func checkpoint() throws(StoreError) {
        do { try db.checkpoint() } catch { throw StoreError(path, error) }
    }

    /// What `prune` removed.
    public struct Pruned: Sendable, Equatable {
        public var sessions = 0
        public var evidence = 0
        public var captureStats = 0
    }

    /// Retention: removes sessions and evidence records last seen before `cutoff` (packet time, ns)
    /// and capture statistics committed before it (wall clock, ns), of every sensor. Hosts (with their
    /// first-seen and latest report), verdict changes and runs are kept: "since when, and what became
    /// of it" outlives the detail. One transaction.
    public func prune(before cutoff: Int64) throws(StoreError) -> Pruned {
        do {
            try ensureMigrated()
            let r = try db.transaction([
                SQLStatement("SELECT COUNT(*) FROM sessions WHERE last_seen < ?", [.int(cutoff)]),
                SQLStatement("DELETE FROM sessions WHERE last_seen < ?", [.int(cutoff)]),
                SQLStatement("SELECT COUNT(*) FROM evidence WHERE last_seen < ?", [.int(cutoff)]),
                SQLStatement("DELETE FROM evidence WHERE last_seen < ?", [.int(cutoff)]),
                SQLStatement("SELECT COUNT(*) FROM capture_stats WHERE time < ?", [.int(cutoff)]),
                SQLStatement("DELETE FROM capture_stats WHERE time < ?", [.int(cutoff)])
            ])
            func count(_ i: Int) -> Int { Int(r[i].first?[0].int ?? 0) }
            return Pruned(sessions: count(0), evidence: count(2), captureStats: count(4))
        } catch { throw StoreError(path, error) }
    }

    /// Starts a run (a `live` or `analyze` invocation) that later commits belong to. Nothing is
    /// written yet: the run's row goes with its first commit (so a run can begin while the database
    /// is away).
    public func beginRun(source: String, version: String, at time: Timestamp) {
        let run = StoreRows.Run(
            run: UUID().uuidString.lowercased(), startedAt: time.nanoseconds, endedAt: nil, source: source,
            version: version)
        book.withLock { $0.run = run }
    }

    /// The run's end, as rows to write (through the recorder, after everything before it).
    public func endRunRows(at time: Timestamp) -> StoreRows {
        var run = currentRun
        run.endedAt = time.nanoseconds
        return StoreRows(identity: identity, run: run)
    }

    /// Ends the run now.
    public func endRun(at time: Timestamp) throws(StoreError) { try write(endRunRows(at: time)) }

    private var currentRun: StoreRows.Run {
        book.withLock { b in
            if b.run == nil {
                b.run = StoreRows.Run(
                    run: UUID().uuidString.lowercased(), startedAt: 0, endedAt: nil, source: "unknown", version: "")
            }
            return b.run!
        }
    }

    /// The rows `batch` writes, its records rendered as documents; rows unchanged since this process
    /// last wrote them are left out.
    public func rows(for batch: StoreBatch) throws(StoreError) -> StoreRows {
        guard let docs = documents else { throw StoreError(path, refusing: "was opened for reading only") }
        return StoreRows(
            batch, identity: identity, run: currentRun, documents: docs, fresh: { !self.unchanged($0, $1) })
    }

    /// Writes one batch in one transaction; returns the verdicts that changed. Each row is written as
    /// it is rendered (`StoreRows.rows(of:)`): a commit holds one row's documents at a time, never the
    /// batch's. What was written is remembered only once the transaction committed.
    /// - Parameter withStats: whether the batch's capture statistics are a row (not for retired sessions alone).
    /// - Complexity: O(hosts + sessions + evidence in the batch) row upserts.
    @discardableResult
    public func commit(_ batch: StoreBatch, withStats: Bool = true) throws(StoreError) -> [VerdictChange] {
        guard let docs = documents else { throw StoreError(path, refusing: "was opened for reading only") }
        let run = currentRun
        do {
            try ensureMigrated()
            let statements = StoreStatements(dialect: db.dialect, identity: identity, run: run.run)
            let (changes, marks) = try db.transaction { execute in
                _ = try execute(statements.run(run))
                var marks: [(key: Int, document: Int)] = []
                var changes: [VerdictChange] = []
                try StoreRows.rows(of: batch, documents: docs, fresh: { self.isFresh($0, $1, marks: &marks) }) { row in
                    if case .stats = row, !withStats { return }
                    changes += try statements.write(row, through: execute)
                }
                return (changes, marks)
            }
            remember(marks)
            return changes
        } catch { throw StoreError(path, error) }
    }

    /// Forgets what was written (after a failed commit whose rows are not kept elsewhere).
    public func forgetWritten() { book.withLock { $0.written.removeAll() } }

    /// Writes rows (a batch, or one delivered from the spool) in one transaction; returns the verdicts
    /// that changed. Every statement is an upsert keyed by run and record, and a verdict change is
    /// recorded only where the stored verdict differs: writing the same rows twice changes nothing.
    @discardableResult
    public func write(_ rows: StoreRows) throws(StoreError) -> [VerdictChange] {
        do {
            try ensureMigrated()
            return try db.transaction { execute in
                try StoreStatements.write(rows, dialect: db.dialect, through: execute)
            }
        } catch { throw StoreError(path, error) }
    }

    /// Whether the database answers a new connection now (PostgreSQL; SQLite always does).
    public func probe() throws(StoreError) {
        guard let pg = db as? PostgresDatabase else { return }
        do { try pg.probe() } catch { throw StoreError(path, error) }
    }

    /// A PostgreSQL store opened while the server was away is migrated before its first write.
    private func ensureMigrated() throws {
        guard book.withLock({ $0.needsMigration }), let pg = db as? PostgresDatabase else { return }
        try pg.migrate()
        book.withLock { $0.needsMigration = false }
    }

    /// Whether `json` is what was last written under `key` (and remembers it otherwise).
    private func unchanged(_ key: String, _ json: String) -> Bool {
        var marks: [(key: Int, document: Int)] = []
        guard isFresh(key, json, marks: &marks) else { return true }
        remember(marks)
        return false
    }

    /// Whether `json` differs from what was last written under `key`; if so, the row's mark is added to
    /// `marks` (remembered once its write committed).
    private func isFresh(_ key: String, _ json: String, marks: inout [(key: Int, document: Int)]) -> Bool {
        let mark = (key: key.hashValue, document: json.hashValue)
        let same = book.withLock { b in
            guard b.written[mark.key] == mark.document else { return false }
            b.rowsSkipped += 1
            return true
        }
        if !same { marks.append(mark) }
        return !same
    }

    /// Remembers rows as written.
    private func remember(_ marks: [(key: Int, document: Int)]) {
        book.withLock { b in
            for mark in marks {
                // A sensor running for months sees sessions come and go: forget everything now and then
                // (it only costs rewriting unchanged rows once) rather than remember every key forever.
                if b.written.count >= 262_144 { b.written.removeAll(keepingCapacity: true) }
                b.written[mark.key] = mark.document
            }
        }
    }
}
