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

extension Live {
    /// SIGHUP: reopen the output files and reload the pool and allow lists.
    func reload(
        _ outputs: Outputs, _ lists: IntelOptions, _ apply: (PoolIntelligence) -> Void, _ pools: inout PoolIntelligence,
        _ localNets: inout AddressSet?
    ) {
        do {
            try outputs.reopen()
            try reloadLists(lists, apply, &pools, &localNets)
            Diagnostics.log.notice("SIGHUP: outputs reopened, lists reloaded (\(pools.pools.count) pool names)")
        } catch {
            Diagnostics.log.error("SIGHUP: \(error)")
        }
    }

    /// What SIGHUP can change without a restart: the lists (what they are made of) and the log level.
    static let changeableLive: Set<String> = ["pool-list", "allow-list", "intel-cache", "no-builtin-pools", "log-level"]

    /// The settings this process runs with (flags over the config file), as `config show` reads them.
    static func effectiveSettings() -> [String: [String]] {
        guard let expanded = try? ConfigArguments.expand(Array(CommandLine.arguments.dropFirst())) else { return [:] }
        return settings(of: expanded)
    }

    /// The settings an expanded command line gives (the file's merged in).
    static func settings(of expanded: (arguments: [String], file: ConfigFile?, schema: CommandSchema?)) -> [String:
        [String]]
    {
        expanded.schema?.values(in: Array(expanded.arguments.dropFirst())) ?? [:]
    }

    /// SIGHUP with `--config`: the file read again (the flags still override it). The lists and the log
    /// level take the new values now; any other change is named, to be applied by a restart. A file
    /// that no longer reads, or a setting that no longer validates, changes nothing.
    func rereadConfig(_ file: String, _ lists: inout IntelOptions, _ settings: inout [String: [String]]) {
        let fresh: Live
        let now: [String: [String]]
        do {
            let expanded = try ConfigArguments.expand(Array(CommandLine.arguments.dropFirst()))
            fresh = try Live.parse(Array(expanded.arguments.dropFirst()))
            now = Self.settings(of: expanded)
        } catch let failure as ConfigFile.Failure {
            Diagnostics.log.error("SIGHUP: \(failure); the settings in use stay")
            return
        } catch {
            Diagnostics.log.error("SIGHUP: \(file): \(Live.message(for: error)); the settings in use stay")
            return
        }
        for key in Set(settings.keys).union(now.keys).sorted() where settings[key] != now[key] {
            let value = now[key].map { $0.joined(separator: ", ") } ?? "(not set)"
            if Self.changeableLive.contains(key) {
                Diagnostics.log.notice("SIGHUP: \(file): \(key) is now \(value)")
            } else {
                Diagnostics.log.warning("SIGHUP: \(file): \(key) changed to \(value): restart the sensor to apply it")
            }
        }
        // The changes that wait for a restart stay pending (named again at the next SIGHUP).
        settings = settings.filter { !Self.changeableLive.contains($0.key) }.merging(
            now.filter { Self.changeableLive.contains($0.key) }
        ) { old, _ in old }
        lists = fresh.intel
        Diagnostics.setLevel(fresh.diagnostics.level)
    }

    /// The schedule (`--reload-lists-every`): the lists only; the outputs stay open.
    func reloadListsOnSchedule(
        _ lists: IntelOptions, _ apply: (PoolIntelligence) -> Void, _ pools: inout PoolIntelligence,
        _ localNets: inout AddressSet?
    ) {
        do {
            try reloadLists(lists, apply, &pools, &localNets)
            Diagnostics.log.notice("lists reloaded on schedule (\(pools.pools.count) pool names)")
        } catch {
            Diagnostics.log.error("scheduled list reload: \(error); the lists in use stay")
        }
    }

    /// The pool and allow lists (and `--intel-cache`) read again and handed to the analyzer; if
    /// reading fails, nothing changes.
    func reloadLists(
        _ lists: IntelOptions, _ apply: (PoolIntelligence) -> Void, _ pools: inout PoolIntelligence,
        _ localNets: inout AddressSet?
    ) throws {
        (pools, localNets) = try lists.load()
        apply(pools)
    }
}
