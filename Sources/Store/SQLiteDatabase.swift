import Foundation
import GRDB

/// SQLite through GRDB: the embedded store of one box (WAL, one writer, readers beside it).
final class SQLiteDatabase: SQLDatabase {
    let dialect = SQLDialect.sqlite
    private let writer: DatabasePool?
    private let reader: any DatabaseReader
    let path: String

    /// Opens (creating if needed) and migrates. A database this release did not write (another
    /// application's, or a newer schema) is refused before anything is written to it.
    init(path: String, sensor: String) throws {
        self.path = path
        // Look before opening for writing: opening a pool switches the file to WAL mode, which
        // is already a write to a database that may belong to someone else.
        var config = Configuration()
        config.busyMode = .timeout(5)
        // Two processes creating one new store at once (two sensors started together): one switches
        // the file to WAL while the other looks (SQLITE_BUSY, which the busy timeout does not cover
        // there), or both see it unmigrated and the loser finds a table the other made. Open again
        // and go on from the migrations that are applied (each commits on its own).
        var attempt = 0
        let pool: DatabasePool
        while true {
            attempt += 1
            do {
                if FileManager.default.fileExists(atPath: path) {
                    var look = Configuration()
                    look.readonly = true
                    let q = try DatabaseQueue(path: path, configuration: look)
                    try q.read { db in try Self.checkIdentity(db, path: path) }
                    try q.close()
                }
                let opened = try DatabasePool(path: path, configuration: config)
                try Schema.migrator(sensor: sensor).migrate(opened)
                pool = opened
                break
            } catch let error as DatabaseError where attempt < 6 && Self.isCreationRace(error) {
                Thread.sleep(forTimeInterval: 0.1 * Double(attempt))
            }
        }
        writer = pool
        reader = pool
    }

    /// An error another process creating the same store at the same moment causes.
    static func isCreationRace(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
            || (error.message ?? "").contains("already exists")
    }

    /// Opens for reading only (`report`): nothing is created, migrated or written. A store in a
    /// read-only place (a copy from an incident, a read-only mount) is opened as immutable; write the
    /// store's WAL back first (a clean stop of `live`/`analyze` does).
    init(readingOnly path: String) throws {
        self.path = path
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        var firstError: Error?
        for candidate in [path, "file:" + Self.uriEscaped(path) + "?immutable=1"] {
            do {
                let q = try DatabaseQueue(path: candidate, configuration: config)
                try q.read { db in
                    try Self.checkIdentity(db, path: path)
                    guard try db.tableExists("hosts") else {
                        throw StoreError(path, refusing: "holds no StratumSniff history yet")
                    }
                    // A version-1 store (an older release's) is read once it is migrated: open it with live/analyze/prune.
                    if try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 < Schema.version {
                        throw StoreError(
                            path,
                            refusing: "was written by an older StratumSniff (schema 1); open it once for writing "
                                + "(stratumsniff prune --store \(path) --older-than 36500d migrates it and removes nothing) and report again"
                        )
                    }
                }
                reader = q
                writer = nil
                return
            } catch let e as StoreError {
                throw e
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw StoreError(path, firstError ?? StoreError(path, refusing: "cannot be opened"))
    }

    private static func uriEscaped(_ path: String) -> String {
        path.addingPercentEncoding(
            withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? path
    }

    /// Refuses a database that is not a StratumSniff store, or one from a newer release.
    static func checkIdentity(_ db: Database, path: String) throws {
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let ours = Schema.tables.union(["grdb_migrations"])
        let foreign = tables.filter { !ours.contains($0) }
        if !tables.isEmpty && (!tables.contains("grdb_migrations") || !foreign.isEmpty) {
            // escaped where printed (Diagnostics)
            let shown = (foreign.isEmpty ? tables : foreign).prefix(5).joined(separator: ", ")
            throw StoreError(
                path, refusing: "not a StratumSniff store (it holds tables \(shown)); choose another --store")
        }
        if version > Schema.version {
            throw StoreError(
                path,
                refusing:
                    "written by a newer StratumSniff (schema \(version); this release knows up to \(Schema.version)); "
                    + "use that release, or choose another --store")
        }
    }

    func transaction<T: Sendable>(_ body: (_ run: (SQLStatement) throws -> [SQLRow]) throws -> T) throws -> T {
        guard let writer else { throw StoreError(path, refusing: "opened for reading only") }
        return try writer.write { db in try body { try Self.run($0, db) } }
    }

    func read(_ queries: [SQLStatement]) throws -> [[SQLRow]] {
        try reader.read { db in try queries.map { try Self.run($0, db) } }
    }

    private static func run(_ s: SQLStatement, _ db: Database) throws -> [SQLRow] {
        let args = StatementArguments(
            s.arguments.map { v -> (any DatabaseValueConvertible)? in
                switch v {
                case .null: nil
                case .int(let i): i
                case .double(let d): d
                case .text(let t): t
                }
            })
        let statement = try db.makeStatement(sql: s.sql)
        statement.arguments = args
        guard statement.columnCount > 0 else {
            try statement.execute()
            return []
        }
        return try Row.fetchAll(statement).map { row in
            SQLRow(
                values: (0..<row.count).map { i in
                    switch row[i] as DatabaseValue? {
                    case .none: .null
                    case .some(let dv):
                        switch dv.storage {
                        case .null: .null
                        case .int64(let i): .int(i)
                        case .double(let d): .double(d)
                        case .string(let t): .text(t)
                        case .blob(let b): .text(String(decoding: b, as: UTF8.self))
                        }
                    }
                })
        }
    }

    /// Folds the WAL into the main file.
    func checkpoint() throws {
        guard let writer else { return }
        _ = try writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }

    func close() {}
}
