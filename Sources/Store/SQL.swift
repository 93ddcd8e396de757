import Foundation

// The one vocabulary both stores speak: statements with positional arguments, rows of values.
// The store's logic (what is written, what a report reads) is written once against it; SQLite
// (GRDB) and PostgreSQL (libpq, through PostgresClient) each only run statements.

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable, Codable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public var int: Int64? {
        if case .int(let v) = self { v } else if case .double(let d) = self { Int64(exactly: d.rounded()) } else { nil }
    }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
    public var double: Double? {
        if case .double(let v) = self { v } else if case .int(let i) = self { Double(i) } else { nil }
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral s: String) { self = .text(s) }
    public init(integerLiteral i: Int64) { self = .int(i) }
    public init(nilLiteral: ()) { self = .null }
    init(_ s: String?) { self = s.map { .text($0) } ?? .null }
    init(_ i: Int64?) { self = i.map { .int($0) } ?? .null }
    init(_ i: Int?) { self = i.map { .int(Int64($0)) } ?? .null }
    init(_ d: Double?) { self = d.map { .double($0) } ?? .null }
}

/// One statement: SQL with `?` placeholders (PostgreSQL's `$n` are numbered from them) and its arguments.
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [SQLValue]
    public init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// One result row, columns in the order the statement selected them.
public struct SQLRow: Sendable {
    public var values: [SQLValue]
    public subscript(_ i: Int) -> SQLValue { i < values.count ? values[i] : .null }
}

/// The few places the two dialects differ.
public enum SQLDialect: Sendable {
    case sqlite, postgresql

    /// The smaller / larger of two values (SQLite's scalar MIN/MAX are PostgreSQL's LEAST/GREATEST).
    func least(_ a: String, _ b: String) -> String { self == .sqlite ? "MIN(\(a), \(b))" : "LEAST(\(a), \(b))" }
    func greatest(_ a: String, _ b: String) -> String { self == .sqlite ? "MAX(\(a), \(b))" : "GREATEST(\(a), \(b))" }
    /// An integer key the database numbers (verdict changes keep their order by it).
    var serialKey: String {
        self == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    }
    /// A text column's size in bytes (SQLite's `length` counts characters; Debian's SQLite predates `octet_length`).
    func bytes(_ column: String) -> String {
        self == .sqlite ? "length(CAST(\(column) AS BLOB))" : "octet_length(\(column))"
    }
}

/// A database the store can run statements on.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction (all or nothing). `body` runs its statements one at a time
    /// through the function it is given (each returns its rows), so a large commit never exists as one
    /// list of statements. A database may run `body` again (a connection lost before anything was
    /// committed): it must not keep effects of an attempt that failed.
    func transaction<T: Sendable>(_ body: (_ run: (SQLStatement) throws -> [SQLRow]) throws -> T) throws -> T
    /// Runs read-only queries, each seeing the same state of the database.
    func read(_ queries: [SQLStatement]) throws -> [[SQLRow]]
    /// Writes everything pending to its final place (SQLite's WAL into the main file) before exit.
    func checkpoint() throws
    func close()
}

extension SQLDatabase {
    func read(_ query: SQLStatement) throws -> [SQLRow] { try read([query])[0] }

    /// Runs the statements in one transaction (all or nothing); returns the rows each returned.
    func transaction(_ statements: [SQLStatement]) throws -> [[SQLRow]] {
        try transaction { run in try statements.map(run) }
    }
}

/// `?, ?, ?` for n arguments.
func placeholders(_ n: Int) -> String { Array(repeating: "?", count: max(n, 0)).joined(separator: ", ") }
