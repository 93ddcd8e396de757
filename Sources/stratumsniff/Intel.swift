import ArgumentParser
import Foundation
import OS
import PoolIntel
import Reporting
import Sensor

/// Maintained pool lists: fetch them into a local cache, see their age and how they compare with the
/// built-in list. `--intel-cache DIR` on analyze and live loads the cache; `live` reloads it on
/// SIGHUP and every `--reload-lists-every`.
struct Intel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch maintained pool lists into a local cache, and show what the cache holds.",
        subcommands: [Update.self, Status.self])

    static let defaultCache = "/var/lib/stratumsniff/intel"

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Fetch each list (default: \(IntelSource.defaults.map(\.name).joined(separator: ", "))) into the cache; a failed fetch keeps the cached copy."
        )

        @Option(help: "Cache directory.")
        var cache = Intel.defaultCache

        @Option(
            name: .customLong("source"),
            help: ArgumentHelp(
                "A list to fetch instead of the defaults (repeatable): NAME=URL, http or https; the licence is yours to check.",
                valueName: "name=url"))
        var sources: [String] = []

        @Option(help: "Seconds to wait for each server.")
        var timeout: Double = 30

        func validate() throws {
            for s in sources where Self.parse(s) == nil {
                throw ValidationError(
                    "--source \(s): write it as NAME=URL (NAME: letters, digits, - _ .; URL: http:// or https://)")
            }
            guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
                throw ValidationError("--timeout must be between 0 and 3600 seconds")
            }
        }

        static func parse(_ text: String) -> IntelSource? {
            guard let eq = text.firstIndex(of: "=") else { return nil }
            let name = String(text[..<eq])
            let url = String(text[text.index(after: eq)...])
            guard IntelSource.validName(name), let u = URL(string: url),
                ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host != nil
            else { return nil }
            return IntelSource(name: name, url: url, licence: "unknown (given with --source)")
        }

        func run() throws {
            let chosen = sources.isEmpty ? IntelSource.defaults : sources.compactMap(Self.parse)
            let cacheDir = IntelCache(directory: cache)
            var failed = 0
            for source in chosen {
                do {
                    let m = try cacheDir.update(source, timeout: timeout, now: WallTime.epochSeconds())
                    let skipped = m.skippedLines > 0 ? ", \(m.skippedLines) lines skipped" : ""
                    print(
                        TerminalSafe.escape(
                            "\(m.name): \(m.domains) domains, \(m.addresses) addresses\(skipped) from \(m.url) (\(m.licence))"
                        ))
                } catch {
                    failed += 1
                    OS.writeStandardError(
                        TerminalSafe.escape("stratumsniff: intel update: \(source.name): \(error)") + "\n")
                }
            }
            if failed > 0 { throw ExitCode(Exit.usageOrInputError) }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "List the cached lists (entries, age, source, licence) and how each compares with the built-in list.")

        @Option(help: "Cache directory.")
        var cache = Intel.defaultCache

        func run() throws {
            let cacheDir = IntelCache(directory: cache)
            let lists: [(name: String, text: String, meta: CachedList)]
            // Not a usage error: one line saying what to run, no usage text.
            do { lists = try cacheDir.texts() } catch {
                OS.writeStandardError(TerminalSafe.escape("stratumsniff: intel status: \(error)") + "\n")
                throw ExitCode(Exit.usageOrInputError)
            }
            if lists.isEmpty { print("No lists in \(cache): run 'stratumsniff intel update --cache \(cache)'.") }
            let now = WallTime.epochSeconds()
            for l in lists {
                let m = l.meta
                let age = Format.duration(Double(m.age(now: now)))
                let c = ListComparison.compare(listText: l.text, name: m.name)
                print(
                    TerminalSafe.escape(
                        "\(m.name): \(m.domains) domains, \(m.addresses) addresses, fetched \(age) ago from \(m.url), licence \(m.licence)"
                    ))
                print(
                    "  compared with the built-in list (\(c.builtin) domains): \(c.listCoveredByBuiltin) of its \(c.list) domains already covered; "
                        + "it covers \(c.builtinCoveredByList) of the built-in \(c.builtin)")
            }
        }
    }
}
