import ArgumentParser
import PoolIntel
import ProbeClient
import Sensor

/// `--probe` and its limits, shared by `analyze` and `live` (docs/probing.md "Probing").
struct ProbeOptions: ParsableArguments {
    @Flag(
        name: .customLong("probe"),
        help: ArgumentHelp(
            "Ask the servers that behaviour, a miner certificate, the Stratum V2 handshake shape or a pool name made suspect whether they are pools (off by default; README \"Probing\" lists what is sent)."
        ))
    var enabled = false

    @Option(
        name: .customLong("probe-allow"),
        help: ArgumentHelp(
            "Also probe these private or local addresses (repeatable CIDR; by default they never are).",
            valueName: "cidr"))
    var allow: [String] = []

    @Option(
        name: .customLong("probe-deny"),
        help: ArgumentHelp("Never probe these addresses (repeatable CIDR).", valueName: "cidr"))
    var deny: [String] = []

    @Option(
        name: .customLong("probe-max"),
        help: ArgumentHelp("Most probes per run (analyze) or per hour (live), 1-10000.", valueName: "n"))
    var maxProbes = 32

    @Option(
        name: .customLong("probe-rate"),
        help: ArgumentHelp("Most probes started per second, 0.01-50.", valueName: "per-second"))
    var rate = 2.0

    @Option(
        name: .customLong("probe-timeout"),
        help: ArgumentHelp("Seconds to wait for a connection and for each answer, 0.1-30.", valueName: "seconds"))
    var timeout = 3.0

    func validate() throws {
        for net in allow + deny where AddressSet.parseBlock(net).map({ $0.port != nil }) ?? true {
            throw ValidationError(
                "--probe-allow/--probe-deny \(net): not an address block; write it as 203.0.113.0/24 or 2001:db8::/32")
        }
        guard (1...10_000).contains(maxProbes) else {
            throw ValidationError("--probe-max must be 1-10000, not \(maxProbes)")
        }
        guard rate >= 0.01, rate <= 50 else {
            throw ValidationError("--probe-rate must be 0.01-50 probes per second, not \(rate)")
        }
        guard timeout >= 0.1, timeout <= 30 else {
            throw ValidationError("--probe-timeout must be 0.1-30 seconds, not \(timeout)")
        }
        if !enabled && (!allow.isEmpty || !deny.isEmpty) {
            throw ValidationError("--probe-allow and --probe-deny need --probe")
        }
    }

    /// The policy, or nil when probing is off.
    func policy(localNets: AddressSet?) -> ProbePolicy? {
        guard enabled else { return nil }
        var p = ProbePolicy()
        for n in allow {
            if let b = AddressSet.parseBlock(n) { p.allow.insert(b, PoolEntry(kind: .pool, source: "--probe-allow")) }
        }
        for n in deny {
            if let b = AddressSet.parseBlock(n) { p.deny.insert(b, PoolEntry(kind: .pool, source: "--probe-deny")) }
        }
        p.localNets = localNets
        p.maxProbes = maxProbes
        p.perSecond = rate
        p.settings.connectMilliseconds = Int32(timeout * 1000)
        p.settings.answerMilliseconds = Int32(timeout * 1000)
        return p
    }
}
