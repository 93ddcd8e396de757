import ArgumentParser
import Detection
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Reporting
import SafeNumbers
import Sensor
import Store

struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture live from one or more interfaces (a tap or mirror port) and report continuously.",
        discussion: """
            Needs root or CAP_NET_RAW + CAP_NET_ADMIN to open the interfaces; when started as root it \
            drops to --user (default nobody) once they are open. SIGINT/SIGTERM stop cleanly (final \
            report, store closed, exit 0); SIGHUP reopens output files and reloads the pool/allow lists.
            """
    )

    @Option(name: [.customShort("i"), .customLong("interface")], help: "Interface to capture on (repeatable).")
    var interfaces: [String] = []

    @Option(help: "libpcap filter expression for every interface.")
    var bpf: String?

    @Flag(help: "Do not put the interfaces into promiscuous mode.")
    var noPromisc = false

    @Flag(
        help:
            "Immediate mode: every packet delivered at once instead of in kernel batches of up to 100 ms. Costs far more CPU on a busy link (see README); verdicts are committed every few seconds anyway."
    )
    var immediate = false

    @Option(help: "Bytes captured per packet.")
    var snaplen: Int = 262_144

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Capture threads (default: the number of cores). Each opens every interface; the kernel spreads the flows over them (PACKET_FANOUT).",
            valueName: "N"))
    var workers: Int?

    @Option(
        help:
            "Kernel capture buffer per interface, in MiB (default: libpcap's, 2 MiB); raise it when the kernel drops packets."
    )
    var bufferSize: Int?

    @Option(help: "After opening the interfaces, run as this user (default: nobody when started as root).")
    var user: String?

    @Option(
        help:
            "History store: a SQLite file (default /var/lib/stratumsniff/store.sqlite as root, else ./stratumsniff.sqlite), or a PostgreSQL connection string shared by a fleet, as psql takes it (postgresql://USER@HOST/DB?sslmode=verify-full, host=… dbname=…, service=NAME; PG* variables, service and password files as libpq reads them)."
    )
    var store: String?

    @OptionGroup(title: "Store identity") var identity: IdentityOptions

    @Option(
        help:
            "PostgreSQL store: where batches wait while the database is away (default /var/lib/stratumsniff/spool as root, else ./stratumsniff-spool)."
    )
    var spool: String?

    @Option(
        help:
            "PostgreSQL store: the spool's size limit in MiB; beyond it superseded snapshots are merged away, never verdict changes."
    )
    var spoolMaxMb: Int = 512

    @Flag(help: "Keep no history (no store).")
    var noStore = false

    @Option(
        help:
            "Retention: every hour, remove sessions, evidence and capture statistics older than this (30d, 90d ...); hosts and verdict changes are kept."
    )
    var retain: String?

    @Option(help: "Seconds between store commits: a crash loses at most this much.")
    var commitInterval: Double = 5

    @Option(help: "Write a report per period into --report-dir: 15m, 1h, 24h ... (JSON and HTML, named by period).")
    var reportEvery: String?

    @Option(help: "Directory for periodic and final reports.")
    var reportDir: String?

    @Option(help: "POST each new mining verdict and each period summary (JSON) to this http(s) URL.")
    var webhook: String?

    @Option(help: "Send RFC 5424 events to a collector: HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT.")
    var syslog: String?

    @Option(
        help:
            "Append events as JSON lines (the --format jsonl schema) to this file; '-' writes them to standard output (with --format none)."
    )
    var events: String?

    @Option(
        help:
            "The events file's shape: jsonl (the --format jsonl lines) or eve (Suricata EVE records: flow fields, community_id, a mining object; verdicts as alerts)."
    )
    var eventsFormat: EventsFormat = .jsonl

    @Option(help: "Rotate the events file at this many MiB (5 old files kept).")
    var eventsMaxMb: Int = 100

    @Option(
        name: .customLong("reload-lists-every"),
        help: "Reload the pool and allow lists (and --intel-cache) this often, as SIGHUP does: 1h, 6h, 1d ...")
    var reloadListsEvery: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics (GET /metrics) and a health check (GET /healthz) on HOST:PORT, e.g. 127.0.0.1:9977.",
            valueName: "HOST:PORT"))
    var metrics: String?

    @Option(help: "Stop after this many seconds (default: run until SIGINT/SIGTERM).")
    var duration: Double?

    @Option(help: "Final report on standard output: table, json or none.")
    var format: String = "table"

    @Flag(name: .shortAndLong, help: "No status line on standard error.")
    var quiet = false

    @OptionGroup(title: "Pool intelligence") var intel: IntelOptions
    @OptionGroup(title: "Probing suspect servers") var probing: ProbeOptions
    @OptionGroup(title: "Caps") var caps: LimitOptions

    @OptionGroup(title: "Config file") var config: ConfigOption
    @OptionGroup(title: "Diagnostics") var diagnostics: DiagnosticOptions

    func validate() throws {
        if interfaces.isEmpty {
            throw ValidationError("name at least one interface with -i (see 'stratumsniff interfaces')")
        }
        if let bpf { do { try PcapFileSource.validateFilter(bpf) } catch { throw ValidationError(error.description) } }
        if snaplen < 64 || snaplen > 262_144 {
            throw ValidationError("--snaplen must be between 64 and 262144 (got \(snaplen))")
        }
        if let workers, workers < 1 || workers > 256 {
            throw ValidationError("--workers must be between 1 and 256 (got \(workers))")
        }
        if let b = bufferSize, b < 1 || b > 4096 {
            throw ValidationError("--buffer-size is in MiB, 1 to 4096 (got \(b))")
        }
        if let d = duration, DurationText.valid(d) == nil {
            throw ValidationError("--duration must be a positive number of seconds, at most 100 years (got \(d))")
        }
        if !["table", "json", "none"].contains(format) { throw ValidationError("--format must be table, json or none") }
        if let user, Privileges.isRoot {
            do { _ = try Privileges.lookup(user) } catch { throw ValidationError(error.description) }
        }
        if DurationText.valid(commitInterval) == nil || commitInterval > 86400 {
            throw ValidationError(
                "--commit-interval must be a positive number of seconds, at most 86400 (got \(commitInterval))")
        }
        if let r = reportEvery {
            guard let s = DurationText.seconds(r), s >= 10 else {
                throw ValidationError("--report-every \(r): write it as 15m, 1h or 24h (at least 10s)")
            }
            if reportDir == nil { throw ValidationError("--report-every needs --report-dir") }
            if noStore { throw ValidationError("--report-every renders from the store: drop --no-store") }
        }
        if let s = syslog, SyslogSender.parse(s) == nil {
            throw ValidationError("--syslog \(s): write it as HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT")
        }
        if let r = retain {
            _ = try DurationText.retention(r, flag: "--retain")
            if noStore { throw ValidationError("--retain prunes the store: drop --no-store") }
        }
        if let r = reloadListsEvery, DurationText.seconds(r) == nil {
            throw ValidationError("--reload-lists-every \(r): write a duration such as 30m, 6h or 1d")
        }
        if let w = webhook, WebhookSender.endpoint(w) == nil {
            throw ValidationError("--webhook \(w): not an http:// or https:// URL")
        }
        if let events, EventsFile.isStandardOutput(events), format != "none" {
            throw ValidationError(
                "--events \(events) writes the events to standard output: add --format none (the final report would share it)"
            )
        }
        if eventsMaxMb < 1 || eventsMaxMb > 1 << 20 {
            throw ValidationError("--events-max-mb must be between 1 and 1048576 (got \(eventsMaxMb))")
        }
    }

    func run() throws {
        // A list that does not read at start is a usage error; later (SIGHUP, schedule) the lists in use stay.
        let (pools, localNets) = try intel.load()
        let lists = ConfiguredLists(intel: intel, configFile: config.path)
        let session = LiveSession(try settings(), lists: lists, intel: pools, localNets: localNets)
        let outcome: LiveSession.Outcome
        do { outcome = try session.run() } catch {
            Diagnostics.log.error("\(error)")
            throw ExitCode(Exit.usageOrInputError)
        }
        // A capture that failed (an interface gone) is not a clean stop: let the supervisor restart us.
        if case .captureFailed = outcome { throw ExitCode(Exit.usageOrInputError) }
    }

    /// What the sensor runs with, from the flags (and the config file merged into them).
    func settings() throws -> LiveSettings {
        var settings = LiveSettings(
            interfaces: interfaces, identity: identity.identity, version: StratumSniff.configuration.version)
        settings.capture = captureOptions
        settings.workers = workers ?? ProcessInfo.processInfo.activeProcessorCount
        settings.limits = caps.limits
        // A sensor that will drop its privileges keeps the password libpq finds now (the password file may be root's).
        settings.store = noStore ? nil : try StorePaths.location(store).keepingPassword(if: Privileges.isRoot)
        settings.spool = spoolDirectory.map {
            (directory: $0, maxBytes: spoolMaxMb.multipliedSaturated(by: 1 << 20))
        }
        settings.user = user
        settings.reportDirectory = reportDir
        settings.periodReports = reportEvery.flatMap { label in
            DurationText.seconds(label).map { (label: label, seconds: $0) }
        }
        settings.events = events.map {
            (path: $0, eve: eventsFormat == .eve, maxBytes: eventsMaxMb * 1024 * 1024)
        }
        settings.syslog = syslog
        settings.webhook = webhook
        settings.reloadListsEvery = reloadListsEvery.flatMap(DurationText.seconds)
        settings.retain = retain.flatMap(DurationText.seconds)
        settings.commitInterval = commitInterval
        settings.metricsAddress = metrics
        settings.duration = duration
        settings.finalReport = LiveSettings.FinalReport(rawValue: format) ?? .table
        settings.statusLine = !quiet
        settings.probe = probing.policy(localNets: nil)
        return settings
    }

    var captureOptions: LiveCapture.Options {
        var options = LiveCapture.Options()
        options.promiscuous = !noPromisc
        options.immediate = immediate
        options.snapLength = snaplen
        options.bufferSize = bufferSize.map { $0 * 1024 * 1024 }
        options.filter = bpf
        return options
    }

    /// Where batches wait for a PostgreSQL store (none for SQLite or --no-store).
    var spoolDirectory: String? {
        guard !noStore, let store, PostgresLocation.isConnectionString(store) else { return nil }
        return spool ?? StorePaths.defaultSpool
    }
}

/// `live --events-format`.
enum EventsFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, eve
}
