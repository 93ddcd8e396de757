import ArgumentParser
import Foundation
import OS
import Reporting
import SafeNumbers
import Sensor
import Store

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a report from the store: which hosts mine, since when, for whom, through which pool.",
        discussion: "Times are packet times. --since counts back from now; --since all covers the whole history."
    )

    @Option(
        help:
            "The store to read: a SQLite file (default: /var/lib/stratumsniff/store.sqlite as root, else ./stratumsniff.sqlite) or a PostgreSQL connection string as psql takes it (postgresql://USER@HOST/DB, host=… dbname=…, service=NAME)."
    )
    var store: String?

    @Option(
        name: .customLong("sensor"), help: "Only what these sensors saw (repeat for several; default: every sensor).")
    var sensors: [String] = []

    @Option(name: .customLong("site"), help: "Only these sites (repeat for several; default: every site).")
    var sites: [String] = []

    @Option(help: "Period ending now: 90s, 30m, 24h, 7d, or 'all' (default 24h).")
    var since: String?

    @Option(help: "Period start, e.g. 2026-11-26T08:00:00Z or '2026-11-26 08:00' (UTC).")
    var from: String?

    @Option(help: "Period end (default: now).")
    var to: String?

    @Option(help: "html, json, md or csv.")
    var format: String = "html"

    @Option(name: .shortAndLong, help: "Write here (atomically) instead of standard output.")
    var output: String?

    @OptionGroup(title: "Config file") var config: ConfigOption
    @OptionGroup(title: "Diagnostics") var diagnostics: DiagnosticOptions

    func validate() throws {
        guard PeriodRenderer.OutputKind(rawValue: format) != nil else {
            throw ValidationError("--format must be html, json, md or csv")
        }
        if since != nil && from != nil { throw ValidationError("give --since or --from/--to, not both") }
        if let since, since != "all", DurationText.seconds(since) == nil {
            throw ValidationError("--since \(since): write it as 90s, 30m, 24h, 7d (at most 100 years) or all")
        }
        if let from, TimeText.nanoseconds(from) == nil {
            throw ValidationError(
                "--from \(from): not a time \(TimeText.range); write 2026-11-26T08:00:00Z or '2026-11-26 08:00'")
        }
        if let to, TimeText.nanoseconds(to) == nil {
            throw ValidationError(
                "--to \(to): not a time \(TimeText.range); write 2026-11-26T08:00:00Z or '2026-11-26 08:00'")
        }
        if let from, let to, let a = TimeText.nanoseconds(from), let b = TimeText.nanoseconds(to), a > b {
            throw ValidationError("--from \(from) is after --to \(to)")
        }
        for s in sensors { try NameText.check(s, flag: "--sensor") }
        for s in sites { try NameText.check(s, flag: "--site") }
        if let path = try StorePaths.location(store).file, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError(
                "no store at \(path): run 'stratumsniff live' or 'analyze --store \(path)' first, or name one with --store"
            )
        }
    }

    func run() throws {
        let db: EvidenceStore
        let filter = StoreFilter(sensors: sensors, sites: sites)
        // A store problem is not a usage mistake: one line saying what and what to do, no usage text.
        do { db = try EvidenceStore(readingOnly: StorePaths.location(store)) } catch let e as StoreError {
            fail(e.description)
        } catch { fail("\(error)") }
        let now = WallTime.now()
        var lo: Int64
        var hi: Int64 = to.flatMap(TimeText.nanoseconds) ?? now.nanoseconds
        if since == "all" {
            let span = (try? db.span(filter: filter)) ?? nil
            // The whole history: from the first evidence to the last (or --to), not to today.
            lo = span?.0 ?? 0
            if to == nil, let last = span?.1 { hi = last }
        } else if let from {
            lo = TimeText.nanoseconds(from)!
        } else {
            lo = hi.subtractingSaturated(Int64(saturating: (DurationText.seconds(since ?? "24h") ?? 86400) * 1e9))
        }
        let report: PeriodReport
        do {
            let read = try db.report(from: lo, to: hi, generated: now, filter: filter)
            for w in read.warnings { Diagnostics.log.warning("\(w)") }
            report = read.report
        } catch { fail(error.description) }
        // An empty period of a store whose packets lie elsewhere (a capture from an incident last
        // year, the default last 24 h): say what the store holds and how to see it.
        if let hint = report.whereTheDataIs { Diagnostics.log.notice("nothing in this period. \(hint)") }
        let kind = PeriodRenderer.OutputKind(rawValue: format)!
        if let output {
            do { try AtomicFile.write(to: output) { PeriodRenderer.write(report, as: kind, to: $0) } } catch {
                fail("\(error)")
            }
        } else {
            PeriodRenderer.write(report, as: kind) { print($0, terminator: "") }
        }
    }

    private func fail(_ message: String) -> Never {
        Diagnostics.log.error("\(message)")
        Foundation.exit(Exit.usageOrInputError)
    }
}
