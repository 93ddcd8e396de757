/// Caps and timeouts for the flow table and TCP reassembly.
/// Defaults are documented in README ("Caps"); all are settable from the CLI.
public struct ReassemblyLimits: Sendable, Equatable {
    /// Flows tracked at once; when full, the least recently active flow is evicted.
    public var maxFlows = 131_072
    /// Out-of-order bytes buffered per direction before the oldest hole is declared a gap.
    public var maxOutOfOrderBytes = 256 * 1024
    /// Bytes delivered to decoders per direction; later bytes are only counted.
    public var maxDepth = 64 * 1024 * 1024
    /// Seconds of packet time a TCP flow may stay idle before it is expired.
    public var tcpIdleTimeout: Double = 600
    /// Seconds of packet time a UDP flow may stay idle.
    public var udpIdleTimeout: Double = 120
    /// Seconds a closed (FIN both ways or RST) flow lingers to absorb stray retransmissions.
    public var closedLinger: Double = 5
    /// Bytes of out-of-order segments held across all flows (real memory: data plus per-segment
    /// bookkeeping). When reached, a direction that wants to buffer more gives up its oldest hole instead.
    public var maxReassemblyMemory = 64 << 20
    /// Bytes decoders hold across all flows (partial lines, TLS records, HTTP heads and bodies,
    /// WebSocket messages, SV2 frames, 1 KiB per decoded Stratum session). When reached, the least
    /// recently active flows are ended (sessions recorded) until there is room; if that is not enough,
    /// the flow that grew is shed and bypassed, unless it is an identified mining session (then only
    /// its partial data is dropped).
    public var maxDecoderMemory = 64 << 20
    public init() {}
}
