import CLibPQ
import Glibc

// The one place that speaks libpq (the PostgreSQL project's own client library): everything a
// `psql` user expects of a connection string — URLs and keyword strings, PG* variables, service
// files, ~/.pgpass, multi-host failover with target_session_attrs, every sslmode, sslrootcert,
// client certificates, Unix sockets — is libpq's, read exactly as every other PostgreSQL tool reads
// it. No type here exposes a libpq pointer or return code.

/// A failure, in libpq's or the server's words (one line).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// libpq's message or the server's primary message, on one line.
    public var message: String
    /// The server's SQLSTATE, when the server answered with an error.
    public var sqlState: String?
    /// The connection can no longer be used (lost, or a deadline passed in the middle of a command).
    public var connectionLost: Bool
    /// A deadline passed (the server did not answer in time).
    public var timedOut = false

    public init(message: String, sqlState: String? = nil, connectionLost: Bool = false, timedOut: Bool = false) {
        self.message = message
        self.sqlState = sqlState
        self.connectionLost = connectionLost
        self.timedOut = timedOut
    }

    public var description: String {
        if let sqlState { return "the server says: \(message) (SQLSTATE \(sqlState))" }
        return message
    }
}

/// A column type the server reported (a PostgreSQL type OID). Open: unknown types stay representable.
public struct PostgresType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Let the server infer the type from the statement (a NULL argument).
    public static let unspecified = PostgresType(rawValue: 0)
    public static let bool = PostgresType(rawValue: 16)
    public static let int8 = PostgresType(rawValue: 20)
    public static let int2 = PostgresType(rawValue: 21)
    public static let int4 = PostgresType(rawValue: 23)
    public static let text = PostgresType(rawValue: 25)
    public static let float4 = PostgresType(rawValue: 700)
    public static let float8 = PostgresType(rawValue: 701)
    public static let numeric = PostgresType(rawValue: 1700)
}

/// One statement argument in PostgreSQL's text format (nil: NULL).
public struct PostgresArgument: Sendable {
    public var text: String?
    public var type: PostgresType
    public init(_ text: String?, type: PostgresType) {
        self.text = text
        self.type = type
    }
}

/// What a statement returned: each column's type and the rows, every value in text format (nil: NULL).
public struct PostgresRows: Sendable {
    public var columnTypes: [PostgresType] = []
    public var rows: [[String?]] = []
}

/// What `ping` found: libpq's answer to "is a server there?", without logging in.
public enum PostgresPing: Sendable {
    /// A server answers and accepts connections (whether it accepts *ours* is another matter).
    case accepting
    /// A server answers but turns every connection away (starting up, shutting down).
    case rejecting
    /// Nothing answered.
    case noResponse
    /// The connection string itself is wrong; nothing was tried.
    case noAttempt
}

/// Settings the sensor adds under the user's: the user's connection string, then PG* variables, win.
public struct PostgresDefaults: Sendable {
    /// Seconds libpq waits for each server to answer a connection (libpq's `connect_timeout`).
    public var connectTimeout: Int = 5
    /// libpq's `fallback_application_name`: what `pg_stat_activity` shows unless the user names it.
    public var applicationName = "stratumsniff"
    /// A password libpq itself found earlier (see `PostgresConnection.storedPassword`).
    public var password: String?
    public init(connectTimeout: Int = 5, applicationName: String = "stratumsniff", password: String? = nil) {
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.password = password
    }
}

/// libpq's reading of a connection string, without connecting.
public enum PostgresConnectionString {
    /// The options `text` sets (keyword → value, as libpq names them), or libpq's reason it is not a
    /// connection string. URLs (`postgresql://…`) and keyword strings (`host=… dbname=…`) alike.
    public static func options(_ text: String) -> Result<[String: String], PostgresError> {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(text, &error) else {
            let message = error.map { oneLine(String(cString: $0)) } ?? "libpq could not read it (out of memory?)"
            if let error { PQfreemem(error) }
            return .failure(PostgresError(message: message, connectionLost: true))
        }
        defer { PQconninfoFree(parsed) }
        var options: [String: String] = [:]
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { options[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return .success(options)
    }
}

/// One connection to a PostgreSQL server, through libpq. Not for sharing between threads: its owner
/// keeps it behind a lock. Commands never wait past the deadline they are given — libpq runs in
/// non-blocking mode and every wait is a `poll` — so a server that stops answering is a failed
/// command, never a stalled caller.
public final class PostgresConnection {
    private var handle: OpaquePointer?

    /// Whether the connection is gone (lost, closed, or left mid-command by a deadline).
    public var isBroken: Bool { handle.map { PQstatus($0) != CONNECTION_OK } ?? true }

    /// Connects to the server(s) `connectionString` names, as libpq does (multi-host and
    /// `target_session_attrs` included). Blocks for at most `connect_timeout` seconds per server.
    public init(_ connectionString: String, defaults: PostgresDefaults = PostgresDefaults()) throws(PostgresError) {
        let conn = Self.withParameters(connectionString, defaults) { keywords, values in
            PQconnectdbParams(keywords, values, 1)
        }
        guard let conn else {
            throw PostgresError(message: "libpq could not start a connection (out of memory?)", connectionLost: true)
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.message(conn)
            PQfinish(conn)
            throw PostgresError(message: message, connectionLost: true)
        }
        PQsetnonblocking(conn, 1)
        // The server's notices (a WARNING as it shuts down) are not the operator's business here: the
        // error that follows says what matters, once. libpq would print them to stderr as they come.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        handle = conn
    }

    deinit { close() }

    /// Closes the connection (a transaction in progress is rolled back by the server).
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// The password libpq finds for `connectionString` before connecting — `password=`, `PGPASSWORD`,
    /// or the matching line of the password file (`passfile`, `PGPASSFILE`, `~/.pgpass`, with libpq's
    /// own rules for permissions and wildcards) — or nil. A sensor started as root asks this before
    /// it drops its privileges, since the file may then be out of its reach. Nothing is sent: the
    /// connection libpq starts to look it up is abandoned before it is used.
    public static func storedPassword(_ connectionString: String) -> String? {
        let conn = withParameters(connectionString, PostgresDefaults()) { keywords, values in
            PQconnectStartParams(keywords, values, 1)
        }
        guard let conn else { return nil }
        defer { PQfinish(conn) }
        guard PQstatus(conn) != CONNECTION_BAD, let password = PQpass(conn) else { return nil }
        let text = String(cString: password)
        return text.isEmpty ? nil : text
    }

    /// Whether a server answers at the address, without logging in (libpq's `PQpingParams`).
    public static func ping(_ connectionString: String, defaults: PostgresDefaults = PostgresDefaults()) -> PostgresPing
    {
        let answer = withParameters(connectionString, defaults) { keywords, values in PQpingParams(keywords, values, 1)
        }
        switch answer {
        case PQPING_OK: return .accepting
        case PQPING_REJECT: return .rejecting
        case PQPING_NO_ATTEMPT: return .noAttempt
        default: return .noResponse
        }
    }

    /// Runs one statement (`$1, $2, …` bound to `arguments`) and returns its rows.
    /// - Throws: the server's error (the connection stays usable), or a lost connection or a passed
    ///   `deadline` (`connectionLost`: the connection is closed and must be replaced).
    public func execute(_ sql: String, _ arguments: [PostgresArgument] = [], deadline: ContinuousClock.Instant)
        throws(PostgresError)
        -> PostgresRows
    {
        guard let conn = handle, PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(message: "the connection is closed", connectionLost: true)
        }
        let sent = Self.withArguments(arguments) { types, values in
            PQsendQueryParams(conn, sql, Int32(clamping: arguments.count), types, values, nil, nil, 0)
        }
        guard sent == 1 else { throw lost() }
        // Non-blocking mode: the statement may not all be on its way yet.
        while true {
            let flushed = PQflush(conn)
            if flushed == 0 { break }
            guard flushed > 0 else { throw lost() }
            let ready = try wait(for: Int16(POLLIN | POLLOUT), until: deadline)
            if ready & Int16(POLLIN) != 0, PQconsumeInput(conn) != 1 { throw lost() }
        }
        var rows = PostgresRows()
        var failure: PostgresError?
        while true {
            while PQisBusy(conn) == 1 {
                _ = try wait(for: Int16(POLLIN), until: deadline)
                guard PQconsumeInput(conn) == 1 else { throw lost() }
            }
            guard let result = PQgetResult(conn) else { break }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                continue
            case PGRES_TUPLES_OK:
                rows = Self.rows(result)
            default:
                failure = failure ?? Self.error(result, conn)
            }
        }
        if let failure {
            if PQstatus(conn) != CONNECTION_OK { throw lost(failure) }
            throw failure
        }
        return rows
    }

    /// The error for a connection that went away (closed, so that the owner replaces it).
    private func lost(_ reason: PostgresError? = nil) -> PostgresError {
        var error =
            reason
            ?? PostgresError(
                message: handle.map { Self.message($0) } ?? "the connection is closed", connectionLost: true)
        error.connectionLost = true
        close()
        return error
    }

    /// Waits until the socket is ready for `events`; a passed deadline abandons the connection.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) throws(PostgresError) -> Int16 {
        guard let conn = handle else { throw lost() }
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                var timeout = lost(PostgresError(message: "no answer in time", connectionLost: true))
                timeout.timedOut = true
                throw timeout
            }
            let milliseconds = Int32(
                clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: PQsocket(conn), events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return descriptor.revents }
            if ready < 0 && errno != EINTR { throw lost() }
        }
    }

    /// A result's rows in text format.
    private static func rows(_ result: OpaquePointer) -> PostgresRows {
        let columns = PQnfields(result)
        let count = PQntuples(result)
        var rows = PostgresRows()
        rows.columnTypes = (0..<max(columns, 0)).map { PostgresType(rawValue: PQftype(result, $0)) }
        rows.rows.reserveCapacity(Int(max(count, 0)))
        for row in 0..<max(count, 0) {
            rows.rows.append(
                (0..<max(columns, 0)).map { column in
                    PQgetisnull(result, row, column) == 1
                        ? nil : PQgetvalue(result, row, column).map { String(cString: $0) }
                })
        }
        return rows
    }

    /// The server's error in a failed result.
    private static func error(_ result: OpaquePointer, _ conn: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        if let primary = field("M") {
            return PostgresError(message: oneLine(primary), sqlState: field("C"), connectionLost: false)
        }
        return PostgresError(message: oneLine(String(cString: PQresultErrorMessage(result))), connectionLost: false)
    }

    /// libpq's message about the connection, on one line.
    private static func message(_ conn: OpaquePointer) -> String {
        let text = oneLine(String(cString: PQerrorMessage(conn)))
        return text.isEmpty ? "the connection failed" : text
    }

    /// The keyword/value arrays libpq takes: the sensor's defaults first, then the user's connection
    /// string (expanded by libpq, so its settings and the PG* variables win over the defaults).
    private static func withParameters<R>(
        _ connectionString: String, _ defaults: PostgresDefaults,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        var pairs: [(String, String)] = [("fallback_application_name", defaults.applicationName)]
        // An explicit connect_timeout would hide PGCONNECT_TIMEOUT (libpq reads variables only for unset options).
        if getenv("PGCONNECT_TIMEOUT") == nil { pairs.append(("connect_timeout", String(defaults.connectTimeout))) }
        if let password = defaults.password { pairs.append(("password", password)) }
        pairs.append(("dbname", connectionString))
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let keywordList = keywords.map { UnsafePointer($0) } + [nil]
        let valueList = values.map { UnsafePointer($0) } + [nil]
        return keywordList.withUnsafeBufferPointer { k in
            valueList.withUnsafeBufferPointer { v in body(k.baseAddress!, v.baseAddress!) }
        }
    }

    /// Statement arguments as libpq's parallel arrays of type OIDs and text values.
    private static func withArguments<R>(
        _ arguments: [PostgresArgument],
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        let values = arguments.map { $0.text.map { strdup($0) } ?? nil }
        defer {
            for pointer in values { free(pointer) }
        }
        let types = arguments.map { Oid($0.type.rawValue) }
        let valueList = values.map { $0.map { UnsafePointer($0) } }
        return types.withUnsafeBufferPointer { t in
            valueList.withUnsafeBufferPointer { v in body(t.baseAddress, v.baseAddress) }
        }
    }
}

/// `text` on one line: lines trimmed and joined with "; ", control characters (a server's message
/// is the server's to choose) shown as spaces.
func oneLine(_ text: String) -> String {
    let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        .map { $0.trimmingCharacters(in: " \t") }
        .filter { !$0.isEmpty }
    let joined = lines.joined(separator: "; ")
    return String(
        String.UnicodeScalarView(joined.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}
