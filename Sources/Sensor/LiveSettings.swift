import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Store

/// Everything a live sensor runs with, as the command line and the config file gave it: the
/// command-line layer checks and builds this value, `LiveSession` does the rest. Nothing here is
/// opened yet (no handle, no file, no socket).
public struct LiveSettings: Sendable {
    public var interfaces: [String]
    public var capture = LiveCapture.Options()
    /// Capture threads (1: one loop over every interface; more: a PACKET_FANOUT group per interface).
    public var workers = 1
    public var limits = Limits()
    /// The history store (nil: none).
    public var store: StoreLocation?
    /// A PostgreSQL store: where batches wait while the database is away, and the spool's size limit.
    public var spool: (directory: String, maxBytes: Int)?
    /// When started as root, the user to become once the interfaces are open (nil: nobody).
    public var user: String?
    public var reportDirectory: String?
    /// A report per period (whole hours, days …) into `reportDirectory`; the label (15m, 1h, 24h …)
    /// names the period in file names.
    public var periodReports: (label: String, seconds: Double)?
    /// The events file (`-`: standard output), in Suricata's EVE shape or as `--format jsonl` lines,
    /// rotated at `maxBytes`.
    public var events: (path: String, eve: Bool, maxBytes: Int)?
    /// An RFC 5424 collector, as `SyslogSender` takes it.
    public var syslog: String?
    public var webhook: String?
    /// Seconds between scheduled reloads of the pool and allow lists.
    public var reloadListsEvery: Double?
    /// Retention: sessions, evidence and capture statistics older than this many seconds are pruned hourly.
    public var retain: Double?
    /// Seconds between store commits: a crash loses at most this much.
    public var commitInterval: Double = 5
    /// Prometheus metrics and the health check served here (HOST:PORT).
    public var metricsAddress: String?
    /// Stop after this many seconds (nil: until SIGINT/SIGTERM).
    public var duration: Double?
    public var finalReport = FinalReport.table
    /// The capture status line on standard error (only when it is a terminal).
    public var statusLine = true
    public var identity: StoreIdentity
    /// This program's version, as the store's run records name it.
    public var version: String
    /// `--probe`: how suspect servers are asked (nil: never asked; with a store, the fleet's answers
    /// still judge). Its local networks are the lists' at start.
    public var probe: ProbePolicy?

    public init(interfaces: [String], identity: StoreIdentity, version: String) {
        self.interfaces = interfaces
        self.identity = identity
        self.version = version
    }

    /// The report on standard output when the sensor stops.
    public enum FinalReport: String, Sendable, CaseIterable {
        case table, json, none
    }
}

/// Where the pool and allow lists come from. The sensor reads them again on SIGHUP and on
/// `--reload-lists-every`; a read that fails changes nothing.
public protocol LiveLists {
    /// The lists as they read now (the error names the file that does not read).
    func load() throws -> (PoolIntelligence, AddressSet?)
    /// SIGHUP: the configuration read again where it came from a file; what can change without a
    /// restart (the lists, the log level) takes effect, the rest is named.
    mutating func reread()
}

/// Why the live sensor could not start (an interface, the store, an output): said once, and the
/// process exits with the usage-or-input status.
public struct LiveStartFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ error: any Error) { description = "\(error)" }
    init(message: String) { description = message }
}
