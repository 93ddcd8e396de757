import ArgumentParser
import Pipeline
import Stratum

/// Caps settable from the command line; defaults live in `Limits`.
struct LimitOptions: ParsableArguments {
    // Numbers are taken as given (`.unconditional`): `--max-flows -3` is a value to refuse with a
    // reason (validate), not a missing value followed by an unknown option.
    @Option(
        parsing: .unconditional,
        help:
            "Most flows tracked at once, split evenly (analyze: over 16 shards of address pairs; live: over the capture threads); in a full part the least recently active is evicted (default 131072). Each takes 600 bytes of --max-memory."
    )
    var maxFlows: Int?
    @Option(
        parsing: .unconditional,
        help: "Out-of-order bytes buffered per direction before a hole becomes a gap (default 262144).")
    var maxOutOfOrderBytes: Int?
    @Option(
        parsing: .unconditional, help: "Bytes per direction handed to decoders (reassembly depth, default 67108864).")
    var maxDepth: Int?
    @Option(parsing: .unconditional, help: "Seconds (packet time) before an idle TCP flow expires (default 600).")
    var tcpIdleTimeout: Double?
    @Option(parsing: .unconditional, help: "Seconds (packet time) before an idle UDP flow expires (default 120).")
    var udpIdleTimeout: Double?
    @Option(parsing: .unconditional, help: "Longest Stratum line kept, in bytes (default 65536).")
    var maxLineLength: Int?
    @Option(
        parsing: .unconditional, help: "Bytes held for IP fragment reassembly across all datagrams (default 4194304).")
    var maxFragmentBytes: Int?
    @Option(
        parsing: .unconditional, help: "Seconds (packet time) an incomplete fragmented datagram is kept (default 30).")
    var fragmentTimeout: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Memory for the sensor's state, in MiB (default 256).",
            discussion:
                "What the process needs whatever the traffic (96 MiB) and each tracked flow (600 bytes × --max-flows) come first; the rest is the budgets traffic fills: 30 % out-of-order data, 40 % decoders, 30 % hosts and sessions (docs/hostile-input.md \"Memory\")."
        ))
    var maxMemory: Int?

    /// The memory total and flow cap, divided (`MemoryPlan`).
    var memoryPlan: MemoryPlan {
        MemoryPlan(
            total: (maxMemory ?? MemoryPlan.defaultTotal >> 20) << 20,
            maxFlows: maxFlows ?? Limits().reassembly.maxFlows)
    }

    func validate() throws {
        if let v = maxMemory, v < 1 || v > 1 << 20 {
            throw ValidationError("--max-memory must be between 1 and 1048576 MiB (got \(v))")
        }
        for (name, v) in [
            ("--max-flows", maxFlows), ("--max-out-of-order-bytes", maxOutOfOrderBytes), ("--max-depth", maxDepth),
            ("--max-line-length", maxLineLength), ("--max-fragment-bytes", maxFragmentBytes)
        ] {
            if let v, v < 1 || v > 1 << 40 { throw ValidationError("\(name) must be between 1 and 2^40 (got \(v))") }
        }
        for (name, v) in [
            ("--tcp-idle-timeout", tcpIdleTimeout), ("--udp-idle-timeout", udpIdleTimeout),
            ("--fragment-timeout", fragmentTimeout)
        ] {
            if let v, DurationText.valid(v) == nil {
                throw ValidationError("\(name) must be a positive number of seconds, at most 100 years (got \(v))")
            }
        }
        do { try memoryPlan.check() } catch { throw ValidationError("\(error)") }
    }

    var limits: Limits {
        var l = Limits()
        l.apply(memoryPlan)
        if let v = maxOutOfOrderBytes { l.reassembly.maxOutOfOrderBytes = v }
        if let v = maxDepth { l.reassembly.maxDepth = v }
        if let v = tcpIdleTimeout { l.reassembly.tcpIdleTimeout = v }
        if let v = udpIdleTimeout { l.reassembly.udpIdleTimeout = v }
        if let v = maxLineLength { l.protocols[StratumLimits.self].maxLineLength = v }
        if let v = maxFragmentBytes { l.fragments.maxBufferedBytes = v }
        if let v = fragmentTimeout { l.fragments.timeout = v }
        return l
    }
}
