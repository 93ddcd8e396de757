import ArgumentParser
import Detection
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Sensor
import Store
import StreamReassembly
import Synchronization

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, jsonl, eve, none
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse capture files (pcap, pcapng; '-' for standard input) as one timeline.",
        discussion: """
            Exit status: 0 nothing flagged as mining, 1 a host flagged mining or likely-mining, \
            2 usage error or a capture that could not be read (the others are still analysed).
            """
    )

    @Argument(help: "Capture files, analysed in the order given. '-' reads standard input.")
    var files: [String]

    @Option(
        help:
            "Output format: table, json, jsonl, eve (Suricata EVE records: flow fields, community_id, a mining object; verdicts as alerts), or none (only the exit status and --store)."
    )
    var format: OutputFormat = .table

    @Option(help: "libpcap filter expression applied to every file.")
    var bpf: String?

    @Flag(help: "Also list every host seen in TCP/UDP traffic without mining evidence (verdict \"none\").")
    var allHosts = false

    @Flag(name: .shortAndLong, help: "No progress line on standard error.")
    var quiet = false

    @Option(
        help:
            "Also record the results in this store, for 'stratumsniff report': a SQLite file, or a PostgreSQL connection string as psql takes it (postgresql://USER@HOST/DB, host=… dbname=…, service=NAME)."
    )
    var store: String?

    @OptionGroup(title: "Store identity") var identity: IdentityOptions

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Threads analysing the input (default: the number of cores; at most 16 are used, one per shard). Results are the same for any number.",
            valueName: "N"))
    var workers: Int?

    @OptionGroup(title: "Pool intelligence") var intel: IntelOptions

    @OptionGroup(title: "Probing suspect servers") var probing: ProbeOptions

    @OptionGroup(title: "Caps") var caps: LimitOptions

    @OptionGroup(title: "Config file") var config: ConfigOption
    @OptionGroup(title: "Diagnostics") var diagnostics: DiagnosticOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one capture file (or '-' for standard input)") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input ('-') can be read only once") }
        if let workers, workers < 1 || workers > 256 {
            throw ValidationError("--workers must be between 1 and 256 (got \(workers))")
        }
        // A SQLite store in a directory that does not exist is found now, not after the analysis (and a
        // typo in --store must not quietly create a directory tree somewhere). StoreLocation decides what
        // is a file; a connection string libpq refuses is reported with the store's other failures.
        if let store, let path = (try? StoreLocation(store))?.file, let dir = AtomicFile.missingDirectory(of: path) {
            throw ValidationError(
                "--store \(store): the directory \(dir) does not exist; create it or choose another --store")
        }
        if let bpf {
            do { try PcapFileSource.validateFilter(bpf) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        let started = WallTime.mark()
        let jsonl = format == .jsonl
        let (pools, localNets) = try intel.load()
        // Events print from the workers' threads: one line at a time.
        let printer = LinePrinter()
        let who = identity.identity
        let eve = format == .eve
        let onEvent: (@Sendable (AnalysisEvent) -> Void)? =
            jsonl
            ? { @Sendable event in
                printer.print(
                    JSONOutput.encode(FromSensor(sensor: who.sensor, site: who.site, EventJSON(event)), pretty: false))
            }
            : eve
                ? { @Sendable event in
                    printer.print(
                        JSONOutput.encode(EveRecord(event, sensor: who.sensor, site: who.site), pretty: false))
                } : nil
        var errors: [String] = []
        // The store is opened first so sessions retired from memory on a long capture reach it as
        // they go; a store that fails never stops the analysis: results first, then the store's error.
        var recording = store.map { openStore($0) }
        let collect = recording?.db != nil
        let count = workers ?? ProcessInfo.processInfo.activeProcessorCount
        var limits = caps.limits
        if !allHosts { limits.maxHostsSeen = 0 }  // only --all-hosts lists hosts without evidence
        // One worker too goes through the shards: what a cap decides depends on them, not on the workers.
        let analysis = ParallelAnalysis(
            workers: count, limits: limits, intel: pools, localNets: localNets, collectRetired: collect,
            onEvent: onEvent)
        let progress = Progress(quiet: quiet)
        var sinceDrain = 0
        for path in files {
            do {
                let source = try PcapFileSource(path: path, filter: bpf)
                // Workers may read frames straight from the file's mapping after the reader has moved
                // on (`InputAnalysis.process(batch:retained:)`): the source lives until they are done
                // with it, then goes (its mapping and buffers), so that N files cost one file's memory.
                defer {
                    analysis.releaseRetained()
                    withExtendedLifetime(source) {}
                }
                try source.forEachBatch(readersBehind: count > 1) { batch, retained in
                    analysis.process(batch: batch, retained: retained)
                    progress.tick(file: path, analysis: analysis, packets: batch.count)
                    sinceDrain += batch.count
                    if sinceDrain >= 65_536 {
                        sinceDrain = 0
                        recording?.storeRetired(analysis)
                    }
                }
            } catch {
                progress.clear()
                let message = error.description
                Diagnostics.log.error("\(message)")
                errors.append(message)
            }
        }
        progress.clear()
        let found = analysis.finishInput()
        // Judged once: with --all-hosts, the hosts whose measured flows did not behave like mining too.
        let judged = found.reports(localNets: localNets, unflagged: allHosts)
        var reports = judged.filter { $0.verdict != .none }
        let measured = judged.filter { $0.verdict == .none }
        // What servers answered probes — this run's and, through the store, every sensor's.
        let policy = probing.policy(localNets: localNets)
        let known = recording?.probeFacts(within: policy?.ttl ?? ProbePolicy().ttl) ?? []
        if let policy {
            let (judged, learned) = Self.probed(reports, policy: policy, known: known)
            reports = judged
            recording?.store(probes: learned)
        } else if !known.isEmpty {
            let facts = ProbeFacts(known)
            reports = Self.ordered(reports.map { $0.rejudged(with: facts) })
        }
        var shown = reports
        if allHosts {
            // Hosts whose measured flows did not behave like mining show their measurements.
            shown += measured
            let flagged = Set((reports + measured).map(\.host))
            shown += found.hosts(localNets: localNets).filter { !flagged.contains($0.key) }.sorted { $0.key < $1.key }
                .map { HostReport.noEvidence($0.key, firstSeen: $0.value.first, lastSeen: $0.value.last) }
        }
        let summary = RunSummary(
            stats: found.stats, files: files.count, errors: errors,
            elapsed: WallTime.seconds(since: started), reports: reports)
        switch format {
        case .table:
            print(TableReport.render(shown, summary: summary), terminator: "")
        case .json:
            JSONOutput.writeReport(summary: summary, hosts: shown, threads: count) { print($0, terminator: "") }
        case .jsonl:
            for r in shown {
                print(
                    JSONOutput.encode(
                        FromSensor(sensor: who.sensor, site: who.site, HostVerdictLine(HostJSON(r))), pretty: false))
            }
            print(
                JSONOutput.encode(
                    FromSensor(sensor: who.sensor, site: who.site, SummaryLine(summary: summary)), pretty: false))
        case .eve:
            let end = found.stats.lastPacket?.nanoseconds ?? WallTime.now().nanoseconds
            for r in shown where r.verdict != .none {
                print(
                    JSONOutput.encode(
                        EveRecord(
                            alert: r, previous: nil, time: r.lastSeen?.nanoseconds ?? end,
                            sensor: who.sensor, site: who.site), pretty: false))
            }
        case .none:
            break
        }
        fflush(nil)
        recording?.finish(reports, found: found, analysis: analysis)
        if let failure = recording?.failure {
            Diagnostics.log.error("\(failure); the results above are complete, the store does not have them all")
            throw ExitCode(Exit.usageOrInputError)
        }
        if !errors.isEmpty {
            // The error's status wins (as grep's does), but never silently over a miner.
            if reports.contains(where: { $0.verdict.isMiner }) {
                Diagnostics.log.warning(
                    "mining found in what could be read, but \(Format.count(errors.count, "file")) failed: exit status 2, not 1"
                )
            }
            throw ExitCode(Exit.usageOrInputError)
        }
        if reports.contains(where: { $0.verdict.isMiner }) { throw ExitCode(Exit.minerFound) }
    }
}

extension Analyze {
    /// The reports judged again with what the servers their evidence marks answered (`--probe`).
    /// Hosts whose only evidence was withdrawn stay in the report, verdict none, saying why.
    static func probed(_ reports: [HostReport], policy: ProbePolicy, known: [ProbeFact]) -> ([HostReport], [ProbeFact])
    {
        let scheduler = ProbeScheduler(policy: policy, note: { Diagnostics.log.notice("\(TerminalSafe.escape($0))") })
        scheduler.remember(known)
        let facts = scheduler.probe(reports)
        let c = scheduler.counters
        if c.overLimit > 0 {
            Diagnostics.log.warning(
                "probe: \(Format.count(c.overLimit, "server")) not asked: --probe-max \(policy.maxProbes) or \(policy.maxPortsPerAddress) ports per address reached"
            )
        }
        return (ordered(reports.map { $0.rejudged(with: facts) }), scheduler.learned)
    }

    /// Most serious first, as `HostVerdicts.reports` orders them.
    static func ordered(_ reports: [HostReport]) -> [HostReport] {
        reports.sorted {
            (HostVerdicts.rank($0.verdict), -$0.confidence, $0.host) < (
                HostVerdicts.rank($1.verdict), -$1.confidence, $1.host
            )
        }
    }
}

/// `analyze --store`: the run's verdicts, sessions and evidence in the history.
struct StoreRecording {
    var db: EvidenceStore?
    /// The first store error; later writes are skipped, the analysis goes on.
    var failure: String?

    /// Probe answers every sensor stored in the last `seconds` (none when the store cannot say: warned).
    mutating func probeFacts(within seconds: Double) -> [ProbeFact] {
        guard let db else { return [] }
        do { return try db.probeFacts(since: WallTime.now().nanoseconds - Int64(seconds * 1e9)) } catch {
            fail(error.description)
            return []
        }
    }

    /// This run's probe answers, for the other sensors.
    mutating func store(probes: [ProbeFact]) {
        guard let db, !probes.isEmpty else { return }
        do { try db.store(probes: probes) } catch { fail(error.description) }
    }

    /// Sessions retired from memory so far go to the store now.
    mutating func storeRetired(_ analysis: any InputAnalysis) {
        guard let db else { return }
        do { try db.store(sessions: analysis.drainRetiredSessions(), at: WallTime.now()) } catch {
            fail(error.description)
        }
    }

    /// The final commit (one transaction), the end of the run, and a WAL checkpoint so the store
    /// is one whole file when we exit.
    mutating func finish(_ reports: [HostReport], found: AnalysisPart, analysis: any InputAnalysis) {
        guard let db else { return }
        do {
            var batch = Recorder.batch(reports: reports, stats: found.stats, capture: nil, at: WallTime.now())
            batch.retiredSessions = analysis.drainRetiredSessions() + found.verdicts.retiredSessions
            try db.commit(batch)
            try db.endRun(at: WallTime.now())
            try db.checkpoint()
            self.db = nil  // closing the last connection removes the -wal and -shm files
        } catch {
            fail(error.description)
        }
    }

    private mutating func fail(_ message: String) {
        if failure == nil { failure = message }
        db = nil
    }
}

extension Analyze {
    func openStore(_ text: String) -> StoreRecording {
        do {
            let location = try StoreLocation(text)  // a missing directory was refused by validate()
            let db = try EvidenceStore(location, identity: identity.identity, documents: .reportJSON)
            db.beginRun(
                source: "analyze: " + files.joined(separator: ", "), version: StratumSniff.configuration.version,
                at: WallTime.now())
            return StoreRecording(db: db)
        } catch {
            return StoreRecording(db: nil, failure: error.description)
        }
    }
}

/// JSONL trailer records.
struct HostVerdictLine: Encodable {
    var type = "host_verdict"
    var host: HostJSON
    init(_ h: HostJSON) { host = h }
}

struct SummaryLine: Encodable {
    var type = "summary"
    var summary: RunSummary
}
