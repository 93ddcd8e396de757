import ArgumentParser
import Foundation
import OS
import PoolIntel
import Reporting
import Sensor

/// Pool intelligence and scoping options, shared by every command that analyses traffic.
struct IntelOptions: ParsableArguments {
    @Option(
        name: .customLong("pool-list"),
        help: ArgumentHelp(
            "Extra pool/miner list (repeatable): one domain per line, hosts-file lines, Adblock ||domain^ rules, or IP, CIDR and address:port lines.",
            valueName: "file"))
    var poolLists: [String] = []

    @Option(
        name: .customLong("allow-list"),
        help: ArgumentHelp(
            "Sanctioned pools and known-good names/addresses (repeatable, same formats): never treated as pools; mining through them is not flagged (counted as allowed_sessions).",
            valueName: "file"))
    var allowLists: [String] = []

    @Option(
        name: .customLong("local-net"),
        help: ArgumentHelp(
            "Our own address block (repeatable, e.g. 10.0.0.0/8): the report then lists only hosts inside these.",
            valueName: "cidr"))
    var localNets: [String] = []

    @Option(
        name: .customLong("intel-cache"),
        help: ArgumentHelp(
            "Also load every list 'stratumsniff intel update' fetched into this directory (e.g. /var/lib/stratumsniff/intel).",
            valueName: "dir"))
    var intelCache: String?

    @Flag(name: .customLong("no-builtin-pools"), help: "Do not load the built-in pool list (only --pool-list files).")
    var noBuiltinPools = false

    /// A fetched list older than this is loaded with a warning.
    static let staleSeconds: Int64 = 30 * 86400

    func validate() throws {
        for net in localNets where AddressSet.parseBlock(net).map({ $0.port != nil }) ?? true {
            throw ValidationError("--local-net \(net): not an address block; write it as 10.0.0.0/8 or 2001:db8::/32")
        }
        for path in poolLists + allowLists where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("cannot read list file \(path): check the path and its permissions")
        }
    }

    /// Loads the lists; bad lines are reported on standard error (with file and line) and skipped.
    func load() throws -> (PoolIntelligence, AddressSet?) {
        var intel = PoolIntelligence(builtin: !noBuiltinPools)
        for path in poolLists { intel.add(poolList: try read(path), name: path) }
        for path in allowLists { intel.add(allowList: try read(path), name: path) }
        for w in intel.warnings { Diagnostics.log.warning("\(w)") }
        if let dir = intelCache {
            let lists: [(name: String, text: String, meta: CachedList)]
            do { lists = try IntelCache(directory: dir).texts() } catch {
                throw ValidationError("--intel-cache: \(error)")
            }
            let now = WallTime.epochSeconds()
            for l in lists {
                // A fetched list's bad lines are not the user's to fix: counted, not listed.
                let before = intel.warnings.count
                intel.add(poolList: l.text, name: l.name)
                let skipped = intel.warnings.count - before
                if skipped > 0 { Diagnostics.log.info("\(l.name): \(skipped) lines not understood, skipped") }
                if l.meta.age(now: now) > Self.staleSeconds {
                    Diagnostics.log.warning(
                        "\(l.name) was fetched more than 30 days ago: run 'stratumsniff intel update --cache \(dir)'")
                }
            }
        }
        guard !localNets.isEmpty else { return (intel, nil) }
        var nets = AddressSet()
        for n in localNets {
            if let b = AddressSet.parseBlock(n) { nets.insert(b, PoolEntry(kind: .pool, source: "--local-net")) }
        }
        return (intel, nets)
    }

    private func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read list file \(path) as UTF-8 text")
        }
    }
}
