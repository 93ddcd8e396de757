import Detection
import Foundation
import GRDB
import Locking
import PacketDecoding
import SafeNumbers
import Synchronization

public struct StoreError: Error, CustomStringConvertible {
    public var description: String
    /// The database could not be reached (a PostgreSQL server away): a sensor spools and goes on.
    public var unreachable = false
    init(_ path: String, _ error: Error) {
        if let e = error as? StoreError {
            self = e
            return
        }
        if let db = error as? DatabaseError, db.resultCode == .SQLITE_NOTADB || db.resultCode == .SQLITE_CORRUPT {
            description =
                "store \(path): damaged or not an SQLite database (\(db.message ?? "\(db.resultCode)")); "
                + "move it aside (a new store is then created) or choose another with --store"
            return
        }
        description = "store \(path): \(error); check the path is writable, or choose another with --store"
    }
    init(_ path: String, refusing why: String) {
        description = "store \(path): \(why)"
    }
}

/// Where the history is: a SQLite file, or a PostgreSQL database (a `postgresql://…` URL or a libpq
/// keyword string such as `service=fleet` or `host=db dbname=fleet`).
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(String)
    case postgresql(PostgresLocation)

    /// `text` as a location: a connection string is checked by libpq now; anything else is a SQLite file. Something that is
    /// clearly a connection string never becomes a file, even when libpq refuses it.
    public init(_ text: String) throws(StoreError) {
        self = PostgresLocation.isConnectionString(text) ? .postgresql(try PostgresLocation(text)) : .sqlite(text)
    }

    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let p): p.description
        }
    }

    /// The location with its PostgreSQL password looked up now (see `PostgresLocation.keepingPassword`).
    public func keepingPassword(if needed: Bool = true) -> StoreLocation {
        if needed, case .postgresql(let pg) = self { .postgresql(pg.keepingPassword()) } else { self }
    }

    /// The SQLite file, if it is one.
    public var file: String? { if case .sqlite(let f) = self { f } else { nil } }
}

/// What one commit writes: the current host reports (with their sessions and evidence),
/// and the capture counters. Built by the caller from a `PacketPipeline` snapshot.
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

    public init(
        time: Timestamp, reports: [HostReport], statsJSON: String, packets: Int, bytes: Int, flows: Int,
        received: UInt64? = nil, droppedByKernel: UInt64? = nil, droppedByInterface: UInt64? = nil,
        firstPacket: Timestamp? = nil, lastPacket: Timestamp? = nil
    ) {
        self.firstPacket = firstPacket
        self.lastPacket = lastPacket
        self.time = time
        self.reports = reports
        self.statsJSON = statsJSON
        self.packets = packets
        self.bytes = bytes
        self.flows = flows
        self.received = received
        self.droppedByKernel = droppedByKernel
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
    /// What the host was judged from (`HostRecord`), so a fleet report can judge it again with
    /// another sensor's view of it.
    public var record: @Sendable (HostReport) -> String

    public init(
        host: @escaping @Sendable (HostReport) -> String, reason: @escaping @Sendable (HostReport) -> String?,
        session: @escaping @Sendable (SessionRecord) -> String,
        evidence: @escaping @Sendable (Evidence, ScoringPolicy) -> String,
        record: @escaping @Sendable (HostReport) -> String
    ) {
        self.host = host
        self.reason = reason
        self.session = session
        self.evidence = evidence
        self.record = record
    }
}

/// A verdict that changed in a commit (for alerts and the verdict_changes table).
public struct VerdictChange: Sendable, Equatable {
    public var host: String
    public var old: String?
    public var new: String
    public var confidence: Int
    public init(host: String, old: String?, new: String, confidence: Int) {
        self.host = host
        self.old = old
        self.new = new
        self.confidence = confidence
    }
}
