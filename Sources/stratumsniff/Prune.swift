import ArgumentParser
import Foundation
import OS
import SafeNumbers
import Sensor
import Store

/// Retention for a store: `stratumsniff prune --older-than 90d`.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove sessions, evidence records and capture statistics older than a given age from the store.",
        discussion: """
            Age counts back from now (wall clock). Hosts — when each was first seen, its latest report — \
            and every verdict change are kept. 'live --retain' does the same every hour.
            """
    )

    @Option(
        help:
            "The store: a SQLite file (default: /var/lib/stratumsniff/store.sqlite as root, else ./stratumsniff.sqlite) or a PostgreSQL connection string as psql takes it (every sensor's rows)."
    )
    var store: String?

    @Option(help: "Remove what is older than this: 30d, 90d, 24h ...")
    var olderThan: String

    @OptionGroup(title: "Diagnostics") var diagnostics: DiagnosticOptions

    func validate() throws {
        _ = try DurationText.retention(olderThan, flag: "--older-than")
        if let path = try StorePaths.location(store).file, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no store at \(path): name one with --store")
        }
    }

    func run() throws {
        let location = try StorePaths.location(store)
        let path = location.description
        let seconds = DurationText.seconds(olderThan)!
        let cutoff = WallTime.now().nanoseconds.subtractingSaturated(Int64(saturating: seconds * 1e9))
        do {
            let db = try EvidenceStore(
                location, identity: StoreIdentity(sensor: StoreIdentity.hostName), documents: .reportJSON)
            let p = try db.prune(before: cutoff)
            try db.checkpoint()
            print(
                "\(path): removed \(p.sessions) sessions, \(p.evidence) evidence records and \(p.captureStats) capture statistics older than \(olderThan); hosts and verdict changes kept"
            )
        } catch {
            Diagnostics.log.error("\(error)")
            throw ExitCode(Exit.usageOrInputError)
        }
    }
}
