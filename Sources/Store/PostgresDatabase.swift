import Foundation
import Locking
import Logging
import NIOPosix
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store is: `postgresql://USER@HOST[:PORT]/DB[?sslmode=…&host=/socket/dir]`.
/// The password never comes from the command line (every user sees it in `ps`): `PGPASSWORD`, or
/// the line of `PGPASSFILE` / `~/.pgpass` that matches, as libpq reads them.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// A directory holding the server's Unix socket (`?host=/run/postgresql`), instead of TCP.
    public var socketDirectory: String?
    public var sslMode: String
    public var password: String?

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool { text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") }

    /// The location in `url`, or a one-line reason it is not one.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        func refuse(_ why: String) -> StoreError { StoreError(Self.redacted(url), refusing: why) }
        guard Self.isURL(url), let c = URLComponents(string: url) else {
            throw refuse("not a PostgreSQL address; write postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=require]")
        }
        if c.password != nil {
            throw refuse("a password in --store is visible to every user of this machine (ps); put it in PGPASSWORD or ~/.pgpass")
        }
        guard let user = c.user, !user.isEmpty else { throw refuse("no user; write postgresql://USER@HOST/DATABASE") }
        let db = String(c.path.drop(while: { $0 == "/" }))
        guard !db.isEmpty, !db.contains("/") else { throw refuse("no database; write postgresql://USER@HOST/DATABASE") }
        self.user = user
        database = db
        port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw refuse("port \(port) is not a port") }
        var host = c.host ?? ""
        sslMode = "prefer"
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                let modes = ["disable", "prefer", "require", "verify-ca", "verify-full"]
                guard let v = item.value, modes.contains(v) else { throw refuse("sslmode must be one of \(modes.joined(separator: ", "))") }
                sslMode = v
            case "host":
                guard let v = item.value, v.hasPrefix("/") else { throw refuse("host= takes the directory of the server's socket, e.g. /run/postgresql") }
                socketDirectory = v
            default:
                throw refuse("unknown parameter \(item.name); known: sslmode, host")
            }
        }
        if host.isEmpty && socketDirectory == nil { host = "localhost" }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        password = environment["PGPASSWORD"] ?? Self.passFile(environment).flatMap {
            Self.password(in: $0, host: socketDirectory == nil ? self.host : "localhost", port: port, database: db, user: user)
        }
    }

    /// The server's socket in `socketDirectory` (libpq's name for it), when connecting that way.
    var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    public var description: String {
        "postgresql://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }

    /// `url` with any password cut out (for messages).
    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = nil
        return c.string ?? "postgresql://…"
    }

    /// The password file's text, when there is one this process may use.
    static func passFile(_ env: [String: String]) -> String? {
        let path = env["PGPASSFILE"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.pgpass")
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        // libpq ignores a password file others can read; so do we, and say so.
        if let mode = attrs[.posixPermissions] as? Int, mode & 0o077 != 0 {
            FileHandle.standardError.write(Data("warning: \(path) is readable by others (mode \(String(mode, radix: 8))); ignored, as libpq does: chmod 600 it\n".utf8))
            return nil
        }
        return text
    }

    /// The password of the first `hostname:port:database:username:password` line that matches (`*` matches anything).
    static func password(in file: String, host: String, port: Int, database: String, user: String) -> String? {
        for line in file.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = [], current = "", escaped = false
            for ch in line {
                if escaped { current.append(ch); escaped = false } else if ch == "\\" { escaped = true }
                else if ch == ":" && fields.count < 4 { fields.append(current); current = "" } else { current.append(ch) }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}

/// PostgreSQL through postgres-nio: the fleet's central store. Its calls are asynchronous; the store's
/// callers are plain threads (the recorder's writer, a command's main thread), so each call waits
/// for its result, at most `timeout` seconds — a database that does not answer is a failed commit
/// (the recorder spools), never a stalled sensor.
final class PostgresDatabase: SQLDatabase {
    let dialect = SQLDialect.postgresql
    let location: PostgresLocation
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    let timeout: Double
    let writeTimeout: Double

    init(_ location: PostgresLocation, timeout: Double = 15, writeTimeout: Double = 5) throws(StoreError) {
        self.location = location
        self.timeout = timeout
        self.writeTimeout = writeTimeout
        var config: PostgresClient.Configuration
        if let socket = location.socketPath {
            config = .init(unixSocketPath: socket, username: location.user, password: location.password,
                           database: location.database)
        } else {
            let (tls, required) = Self.tls(location.sslMode)
            config = .init(host: location.host, port: location.port, username: location.user, password: location.password,
                           database: location.database, tls: tls.map { required ? .require($0) : .prefer($0) } ?? .disable)
        }
        config.options.connectTimeout = .seconds(5)
        config.options.maximumConnections = 4
        var log = Logger(label: "stratumsniff.postgresql")
        log.logLevel = .critical   // failures reach the user through the store's own one-line errors
        logger = log
        let client = PostgresClient(configuration: config, backgroundLogger: log)
        self.client = client
        runner = Task { await client.run() }
    }

    func close() { runner.cancel() }

    /// libpq's sslmode as a TLS configuration (nil: none) and whether TLS is required.
    static func tls(_ mode: String) -> (TLSConfiguration?, Bool) {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case "disable": return (nil, false)
        case "verify-full": return (tls, true)
        case "verify-ca": tls.certificateVerification = .noHostnameVerification; return (tls, true)
        case "require": tls.certificateVerification = .none; return (tls, true)
        default: tls.certificateVerification = .none; return (tls, false)   // libpq's default, prefer: encrypt when offered
        }
    }

    /// One direct connection, closed at once: a refused password or a missing database is said now
    /// in the server's words (the client's pool would retry it quietly until the timeout).
    func probe() throws {
        let l = location, log = logger
        try wait {
            var conf: PostgresConnection.Configuration
            if let socket = l.socketPath {
                conf = .init(unixSocketPath: socket, username: l.user, password: l.password, database: l.database)
            } else {
                let (tls, required) = Self.tls(l.sslMode)
                let context = try tls.map { try NIOSSLContext(configuration: $0) }
                conf = .init(host: l.host, port: l.port, username: l.user, password: l.password, database: l.database,
                             tls: context.map { required ? .require($0) : .prefer($0) } ?? .disable)
            }
            let c = try await PostgresConnection.connect(on: PostgresClient.defaultEventLoopGroup.any(), configuration: conf, id: 0, logger: log).get()
            try await c.close()
        }
    }

    /// Waits for `body` on this (non-async) thread, at most `timeout` seconds.
    private func wait<T: Sendable>(within seconds: Double? = nil, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        let timeout = seconds ?? self.timeout
        let result = Locked<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let r: Result<T, any Error>
            do { r = .success(try await body()) } catch { r = .failure(error) }
            result.withLock { $0 = r }
            done.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            task.cancel()
            var e = StoreError(location.description, refusing: "no answer within \(Int(timeout)) s; is the server running and reachable?")
            e.unreachable = true
            throw e
        }
        switch result.withLock({ $0 })! {
        case .success(let v): return v
        case .failure(let e): throw storeError(e)
        }
    }

    /// `e` as the store's error (a refusal raised inside a transaction comes out as itself).
    private func storeError(_ e: any Error) -> StoreError {
        if let s = e as? StoreError { return s }
        if let t = e as? PostgresTransactionError, let s = t.closureError as? StoreError { return s }
        var s = StoreError(location.description, refusing: Self.explain(e))
        s.unreachable = Self.isConnectionFailure(e)
        return s
    }

    /// One line about what went wrong (postgres-nio's own description hides the server's message).
    static func explain(_ error: any Error) -> String {
        if let e = error as? StoreError { return e.description }
        if let t = error as? PostgresTransactionError {
            guard let inner = t.beginError ?? t.closureError ?? t.commitError ?? t.rollbackError else { return "transaction failed" }
            return explain(inner)
        }
        guard let e = error as? PSQLError else { return "\(error)" }
        if let message = e.serverInfo?[.message] {
            let code = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "the server says: \(message)\(code)"
        }
        if e.code == .authMechanismRequiresPassword {
            return "the server asks for a password and none was found; set PGPASSWORD or add a line to ~/.pgpass (or PGPASSFILE)"
        }
        if e.code == .sslUnsupported {
            return "the server does not offer TLS, which sslmode asks for; give the server a certificate, or use sslmode=prefer or disable"
        }
        if e.code == .connectionError, let under = e.underlying {
            // "Connection refused", not NIO's whole account of every address it tried.
            let first = (under as? NIOConnectionError)?.connectionErrors.first?.error ?? under
            if let io = first as? IOError { return "cannot connect: \(String(cString: strerror(io.errnoCode)))" }
            return "cannot connect: \(first)"
        }
        if let under = e.underlying { return "\(e.code): \(under)" }
        return "\(e.code)"
    }

    /// Whether `error` says the server is away (rather than refusing what was asked).
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if let t = error as? PostgresTransactionError {
            guard let inner = t.beginError ?? t.closureError ?? t.commitError else { return false }
            return isConnectionFailure(inner)
        }
        if let s = error as? StoreError { return s.unreachable }
        guard let e = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled].contains(e.code)
            || e.serverInfo?[.sqlState].map { $0.hasPrefix("57P") || $0.hasPrefix("08") } == true   // shutting down; connection exceptions
    }

    /// A commit waits at most `writeTimeout` seconds: longer, and the sensor spools it (a server that
    /// is gone is seen within one commit interval or so, not after the client's own retries).
    func transaction(_ statements: [SQLStatement]) throws -> [[SQLRow]] {
        let (client, logger) = (self.client, self.logger)
        return try wait(within: writeTimeout) {
            try await client.withTransaction(logger: logger) { conn in
                var out: [[SQLRow]] = []
                for s in statements { out.append(try await Self.run(s, conn, logger)) }
                return out
            }
        }
    }

    func read(_ queries: [SQLStatement]) throws -> [[SQLRow]] {
        let (client, logger) = (self.client, self.logger)
        return try wait {
            try await client.withConnection { conn in
                // One snapshot for every query of a report.
                try await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                do {
                    var out: [[SQLRow]] = []
                    for q in queries { out.append(try await Self.run(q, conn, logger)) }
                    try await conn.query("COMMIT", logger: logger)
                    return out
                } catch {
                    _ = try? await conn.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    func checkpoint() throws {}

    /// Runs `body` in one transaction holding the store's advisory lock (two sensors starting at once
    /// migrate one after the other).
    func migrate() throws {
        try probe()
        let (client, logger, where_) = (self.client, self.logger, location.description)
        try wait {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(7318007135004316553)", logger: logger)
                let ours = try await Self.run(SQLStatement("""
                    SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema()
                      AND c.relname IN ('stratumsniff_schema', \(Schema.tables.sorted().map { "'\($0)'" }.joined(separator: ", ")))
                    """), conn, logger).compactMap { $0[0].text }
                if ours.contains("stratumsniff_schema") {
                    let v = try await Self.run(SQLStatement("SELECT MAX(version) FROM stratumsniff_schema"), conn, logger).first?[0].int ?? 0
                    if v > Int64(Schema.version) {
                        throw StoreError(where_, refusing: "written by a newer StratumSniff (schema \(v); this release knows up to \(Schema.version)); "
                                                         + "use that release, or another database")
                    }
                    if v == Int64(Schema.version) { return }
                } else if !ours.isEmpty {
                    throw StoreError(where_, refusing: "holds tables named like ours (\(ours.sorted().joined(separator: ", "))) that StratumSniff did not "
                                                     + "create; choose another database or schema")
                }
                try await conn.query("CREATE TABLE IF NOT EXISTS stratumsniff_schema (version INTEGER NOT NULL)", logger: logger)
                for sql in Schema.createV2(.postgresql) { try await Self.run(SQLStatement(sql), conn, logger) }
                try await conn.query("INSERT INTO stratumsniff_schema (version) VALUES (2)", logger: logger)
            }
        }
    }

    /// Refuses a database that holds no StratumSniff history of this schema (`report`).
    func checkReadable() throws {
        try probe()
        // (pg_class, not information_schema: that lists only tables this user may read.)
        let exists = try read(SQLStatement("SELECT to_regclass('stratumsniff_schema') IS NOT NULL")).first?[0].int == 1
        guard exists, let v = try read(SQLStatement("SELECT MAX(version) FROM stratumsniff_schema")).first?[0].int else {
            throw StoreError(location.description, refusing: "holds no StratumSniff history yet; point a sensor at it first (live --store …)")
        }
        if v != Int64(Schema.version) {
            throw StoreError(location.description, refusing: "has schema \(v); this release reads schema \(Schema.version)")
        }
    }

    /// The statement with `?` numbered as `$1, $2, …` and its arguments bound.
    private static func run(_ s: SQLStatement, _ conn: PostgresConnection, _ logger: Logger) async throws -> [SQLRow] {
        var sql = "", n = 0
        sql.reserveCapacity(s.sql.utf8.count + 16)
        for ch in s.sql {
            if ch == "?" { n += 1; sql += "$\(n)" } else { sql.append(ch) }
        }
        var binds = PostgresBindings(capacity: s.arguments.count)
        for v in s.arguments {
            switch v {
            case .null: binds.appendNull()
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .text(let t): binds.append(t)
            }
        }
        var rows: [SQLRow] = []
        for try await row in try await conn.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            var values: [SQLValue] = []
            for cell in row {
                guard cell.bytes != nil else { values.append(.null); continue }
                switch cell.dataType {
                case .int2, .int4, .int8: values.append(.int(try cell.decode(Int64.self)))
                case .float4, .float8: values.append(.double(try cell.decode(Double.self)))
                case .numeric:
                    let text = try cell.decode(String.self)
                    values.append(Int64(text).map { .int($0) } ?? Double(text).map { .double($0) } ?? .text(text))
                case .bool: values.append(.int(try cell.decode(Bool.self) ? 1 : 0))
                default: values.append(.text(try cell.decode(String.self)))
                }
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }
}
