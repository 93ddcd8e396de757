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

/// The pool and allow lists as `live`'s command line names them, read again on SIGHUP and on
/// schedule. With `--config`, SIGHUP reads the file again (the flags still override it): the lists and
/// the log level take the new values now; any other change is named, to be applied by a restart.
struct ConfiguredLists: LiveLists {
    /// The lists' options in force.
    var intel: IntelOptions
    /// `--config`: the file read again on SIGHUP (nil: the lists are read again as they are named).
    let configFile: String?
    /// The settings in force as `config show` reads them, to name what a new reading changes.
    var settings: [String: [String]]

    init(intel: IntelOptions, configFile: String?) {
        self.intel = intel
        self.configFile = configFile
        settings = configFile == nil ? [:] : Self.effectiveSettings()
    }

    func load() throws -> (PoolIntelligence, AddressSet?) { try intel.load() }

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

    /// SIGHUP with `--config`: the file read again. A file that no longer reads, or a setting that no
    /// longer validates, changes nothing.
    mutating func reread() {
        guard let file = configFile else { return }
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
        intel = fresh.intel
        Diagnostics.setLevel(fresh.diagnostics.level)
    }
}
