import Foundation
import Locking
import PostgresClient

/// Where a PostgreSQL store is: anything `psql` takes — a URL (`postgresql://USER@HOST/DB?sslmode=…`)
/// or a keyword string (`host=db dbname=fleet`), completed by the PG* variables, a service file and
/// the password file exactly as libpq completes it (libpq reads it; nothing here parses it).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// The connection string as given (it holds no password: one there is refused).
    public let connectionString: String
    /// The password libpq found before a sensor dropped its privileges (`keepingPassword`).
    var password: String?

    /// Whether `text` is clearly a PostgreSQL connection string rather than a SQLite file: a
    /// `postgresql:`/`postgres:` URL, or a keyword string (`WORD=…` at the start). A file whose name
    /// looks like a keyword string is written with a directory: `./host=db.sqlite`.
    public static func isConnectionString(_ text: String) -> Bool {
        let start = text.drop(while: { $0 == " " || $0 == "\t" })
        if start.hasPrefix("postgresql:") || start.hasPrefix("postgres:") { return true }
        let word = start.prefix(while: { $0.isASCII && ($0.isLetter || $0 == "_") })
        return !word.isEmpty && start.dropFirst(word.count).drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("=")
    }

    /// The location in `text`, checked by libpq now (a typo is a usage error before anything runs).
    public init(_ text: String) throws(StoreError) {
        connectionString = text
        let options: [String: String]
        switch PostgresConnectionString.options(text) {
        case .success(let parsed): options = parsed
        case .failure(let error):
            let hint =
                text.hasPrefix("postgres")
                ? "" : " (a SQLite file whose name looks like this: write it with a directory, e.g. ./\(text))"
            throw StoreError(
                Self.redacted(text), refusing: "not a PostgreSQL connection string: \(error.message)\(hint)")
        }
        if let given = options["password"], !given.isEmpty {
            throw StoreError(
                Self.redacted(text),
                refusing: "a password in --store is visible to every user of this machine (ps); "
                    + "put it in PGPASSWORD, a password file (~/.pgpass, PGPASSFILE) or a service file")
        }
    }

    /// This location with the password libpq finds for it now (`PGPASSWORD`, the password file),
    /// used for every later connection: a sensor started as root asks before it drops its
    /// privileges, since the password file may then be out of its reach.
    public func keepingPassword() -> PostgresLocation {
        var kept = self
        kept.password = PostgresConnection.storedPassword(connectionString)
        return kept
    }

    public var description: String { connectionString }

    public static func == (a: Self, b: Self) -> Bool { a.connectionString == b.connectionString }

    /// `text` without a password it may hold (for the message refusing it).
    static func redacted(_ text: String) -> String {
        if let url = URLComponents(string: text), url.password != nil {
            var cut = url
            cut.password = nil
            return cut.string ?? "postgresql://…"
        }
        return text.replacing(/password\s*=\s*('(\\.|[^'])*'|\S+)/, with: "password=…")
    }
}

/// PostgreSQL through libpq: the fleet's central store. One connection, made when first needed and
/// made again after it is lost (libpq then picks the server: multi-host with `target_session_attrs`
/// fails over to a promoted standby). The store's callers are plain threads (the recorder's writer,
/// a command's main thread); every command waits at most its deadline — a database that does not
/// answer is a failed commit (the recorder spools), never a stalled sensor.
final class PostgresDatabase: SQLDatabase {
    let dialect = SQLDialect.postgresql
    let location: PostgresLocation
    private struct State {
        var connection: PostgresConnection?
        /// Whether a connection ever succeeded: a failure after that is an outage, not a mistake.
        var everConnected = false
    }
    private let state = Locked(State())
    let timeout: Duration
    let writeTimeout: Duration

    init(_ location: PostgresLocation, timeout: Duration = .seconds(15), writeTimeout: Duration = .seconds(5)) {
        self.location = location
        self.timeout = timeout
        self.writeTimeout = writeTimeout
    }

    func close() {
        state.withLock {
            $0.connection?.close()
            $0.connection = nil
        }
    }

    /// What the sensor adds under the connection string: the password kept before a privilege drop.
    private var defaults: PostgresDefaults { PostgresDefaults(password: location.password) }

    /// Runs `body` on the connection (connected first if needed). A connection that was idle and
    /// turns out lost (a server restarted between commits) is replaced and `body` run once more:
    /// everything the store writes is an idempotent upsert, so a second run changes nothing twice.
    private func withConnection<T: Sendable>(_ body: (PostgresConnection) throws(PostgresError) -> T) throws(StoreError)
        -> T
    {
        let where_ = location.description
        let result: Result<T, StoreError> = state.withLock { state in
            var reused = state.connection != nil
            while true {
                if state.connection == nil || state.connection!.isBroken {
                    state.connection?.close()
                    state.connection = nil
                    do throws(PostgresError) {
                        state.connection = try PostgresConnection(location.connectionString, defaults: defaults)
                        state.everConnected = true
                    } catch {
                        return .failure(connectError(error, afterSuccess: state.everConnected))
                    }
                }
                do throws(PostgresError) {
                    return .success(try body(state.connection!))
                } catch {
                    if error.connectionLost {
                        state.connection?.close()
                        state.connection = nil
                        if reused && !error.timedOut {
                            reused = false
                            continue
                        }
                    }
                    var failure = StoreError(where_, refusing: error.description)
                    failure.unreachable = error.connectionLost || Self.isOutage(error.sqlState)
                    return .failure(failure)
                }
            }
        }
        return try result.get()
    }

    /// A failed connection as the store's error. Before any success, libpq's ping tells a server that
    /// is away (the sensor spools and waits) from one that answers but refuses us (a wrong password,
    /// a missing database, pg_hba: the operator must fix it). After one, every failure is an outage:
    /// whatever the reason, batches wait in the spool and the reason is logged each time.
    private func connectError(_ error: PostgresError, afterSuccess: Bool) -> StoreError {
        var failure = StoreError(location.description, refusing: error.description)
        if afterSuccess {
            failure.unreachable = true
        } else {
            switch PostgresConnection.ping(location.connectionString, defaults: defaults) {
            case .noResponse, .rejecting: failure.unreachable = true
            case .accepting, .noAttempt: failure.unreachable = false
            }
        }
        return failure
    }

    /// SQLSTATE classes that say the server is going away or the connection broke (57P: shutdown,
    /// 08: connection exception).
    static func isOutage(_ sqlState: String?) -> Bool {
        guard let sqlState else { return false }
        return sqlState.hasPrefix("57P") || sqlState.hasPrefix("08")
    }

    /// A connection now (made if needed, checked with a trivial statement): a refused password or a
    /// missing database is said at once in the server's words.
    func probe() throws(StoreError) {
        let deadline = ContinuousClock.now + timeout
        _ = try withConnection { connection throws(PostgresError) in
            try connection.execute("SELECT 1", deadline: deadline).rows.count
        }
    }

    /// A commit waits at most `writeTimeout`: longer, and the sensor spools it.
    func transaction<T: Sendable>(_ body: (_ run: (SQLStatement) throws -> [SQLRow]) throws -> T) throws -> T {
        let deadline = ContinuousClock.now + writeTimeout
        return try withConnection { connection throws(PostgresError) in
            try Self.inTransaction(connection, "BEGIN", deadline) { () throws(PostgresError) in
                do {
                    return try body { statement in try Self.run(statement, connection, deadline) }
                } catch let error as PostgresError {
                    throw error
                } catch {
                    // Only `run` talks to the server; anything else `body` throws ends the transaction.
                    throw PostgresError(message: "\(error)", sqlState: nil, connectionLost: false)
                }
            }
        }
    }

    /// Every query of a report sees one snapshot.
    func read(_ queries: [SQLStatement]) throws -> [[SQLRow]] {
        try runAll(queries, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", within: timeout)
    }

    /// The statements in one transaction opened by `begin`, all within `limit`; each one's rows.
    private func runAll(_ statements: [SQLStatement], begin: String, within limit: Duration) throws(StoreError)
        -> [[SQLRow]]
    {
        let deadline = ContinuousClock.now + limit
        return try withConnection { connection throws(PostgresError) in
            try Self.inTransaction(connection, begin, deadline) { () throws(PostgresError) in
                var out: [[SQLRow]] = []
                for statement in statements { out.append(try Self.run(statement, connection, deadline)) }
                return out
            }
        }
    }

    func checkpoint() throws {}

    /// Creates or upgrades the tables in one transaction holding the store's advisory lock (two sensors
    /// starting at once migrate one after the other). A database holding tables named like ours that
    /// we did not create, or a newer schema, is refused before anything is written.
    func migrate() throws(StoreError) {
        let deadline = ContinuousClock.now + timeout
        let where_ = location.description
        let refusal: String? = try withConnection { connection throws(PostgresError) in
            try Self.inTransaction(connection, "BEGIN", deadline) { () throws(PostgresError) -> String? in
                _ = try connection.execute("SELECT pg_advisory_xact_lock(7318007135004316553)", deadline: deadline)
                let names = (["stratumsniff_schema"] + Schema.tables.sorted()).map { "'\($0)'" }.joined(separator: ", ")
                let ours = try Self.run(
                    SQLStatement(
                        """
                        SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = current_schema() AND c.relname IN (\(names))
                        """), connection, deadline
                ).compactMap { $0[0].text }
                if ours.contains("stratumsniff_schema") {
                    let version =
                        try Self.run(SQLStatement("SELECT MAX(version) FROM stratumsniff_schema"), connection, deadline)
                        .first?[0].int ?? 0
                    if version > Int64(Schema.version) {
                        return
                            "written by a newer StratumSniff (schema \(version); this release knows up to \(Schema.version)); use that release, or another database"
                    }
                    if version == Int64(Schema.version) { return nil }
                    if version == 2 {
                        for sql in Schema.addV3(.postgresql) { _ = try connection.execute(sql, deadline: deadline) }
                        _ = try connection.execute(
                            "INSERT INTO stratumsniff_schema (version) VALUES (3)", deadline: deadline)
                        return nil
                    }
                } else if !ours.isEmpty {
                    return
                        "holds tables named like ours (\(ours.sorted().joined(separator: ", "))) that StratumSniff did not create; "
                        + "choose another database or schema"
                }
                _ = try connection.execute(
                    "CREATE TABLE IF NOT EXISTS stratumsniff_schema (version INTEGER NOT NULL)", deadline: deadline)
                for sql in Schema.createV2(.postgresql) + Schema.addV3(.postgresql) {
                    _ = try connection.execute(sql, deadline: deadline)
                }
                _ = try connection.execute(
                    "INSERT INTO stratumsniff_schema (version) VALUES (\(Schema.version))", deadline: deadline)
                return nil
            }
        }
        if let refusal { throw StoreError(where_, refusing: refusal) }
    }

    /// Refuses a database that holds no StratumSniff history of this schema (`report`).
    func checkReadable() throws(StoreError) {
        try probe()
        do {
            // (pg_class, not information_schema: that lists only tables this user may read.)
            let exists =
                try read(SQLStatement("SELECT to_regclass('stratumsniff_schema') IS NOT NULL")).first?[0].int == 1
            guard exists,
                let version = try read(SQLStatement("SELECT MAX(version) FROM stratumsniff_schema")).first?[0].int
            else {
                throw StoreError(
                    location.description,
                    refusing: "holds no StratumSniff history yet; point a sensor at it first (live --store …)")
            }
            if version != Int64(Schema.version) {
                throw StoreError(
                    location.description, refusing: "has schema \(version); this release reads schema \(Schema.version)"
                )
            }
        } catch { throw StoreError(location.description, error) }
    }

    /// `body` between `begin` and COMMIT; rolled back when it fails (unless the connection is gone,
    /// which rolls it back by itself).
    private static func inTransaction<T>(
        _ connection: PostgresConnection, _ begin: String, _ deadline: ContinuousClock.Instant,
        _ body: () throws(PostgresError) -> T
    ) throws(PostgresError) -> T {
        _ = try connection.execute(begin, deadline: deadline)
        do {
            let result = try body()
            _ = try connection.execute("COMMIT", deadline: deadline)
            return result
        } catch {
            if !connection.isBroken { _ = try? connection.execute("ROLLBACK", deadline: deadline) }
            throw error
        }
    }

    /// The statement with `?` numbered as `$1, $2, …`, its arguments bound with their types.
    private static func run(
        _ statement: SQLStatement, _ connection: PostgresConnection, _ deadline: ContinuousClock.Instant
    )
        throws(PostgresError) -> [SQLRow]
    {
        var sql = ""
        var number = 0
        sql.reserveCapacity(statement.sql.utf8.count + 16)
        for character in statement.sql {
            if character == "?" {
                number += 1
                sql += "$\(number)"
            } else {
                sql.append(character)
            }
        }
        let arguments = statement.arguments.map { value in
            switch value {
            case .null: PostgresArgument(nil, type: .unspecified)
            case .int(let int): PostgresArgument(String(int), type: .int8)
            case .double(let double):
                PostgresArgument(
                    double.isFinite ? "\(double)" : (double.isNaN ? "NaN" : double > 0 ? "Infinity" : "-Infinity"),
                    type: .float8)
            case .text(let text): PostgresArgument(text, type: .text)
            }
        }
        let result = try connection.execute(sql, arguments, deadline: deadline)
        return result.rows.map { row in
            SQLRow(
                values: zip(row, result.columnTypes).map { cell, type in
                    guard let cell else { return .null }
                    switch type {
                    case .int2, .int4, .int8: return Int64(cell).map { .int($0) } ?? .text(cell)
                    case .float4, .float8: return Double(cell).map { .double($0) } ?? .text(cell)
                    case .numeric:
                        return Int64(cell).map { .int($0) } ?? Double(cell).map { .double($0) } ?? .text(cell)
                    case .bool: return .int(cell == "t" ? 1 : 0)
                    default: return .text(cell)
                    }
                })
        }
    }
}
