import PacketDecoding

/// Counters for the flow table and reassembly.
public struct ReassemblyStats: Sendable, Equatable {
    public var packets = 0
    public var bytes = 0
    public var tcpPackets = 0
    public var udpPackets = 0
    public var flowsCreated = 0
    public var activeFlows = 0
    /// The most flows open at a sample (`FlowTable.samplePeak`: each whole second of packet time and
    /// the end of input) — points every worker sees at the same place in the input, so the sum over
    /// workers is the same number one table would give.
    public var peakFlows = 0
    public var evictions = 0
    public var expired = 0
    public var closed = 0
    public var bypassedFlows = 0
    public var bypassedPackets = 0
    public var midStreamPickups = 0
    /// Gaps, retransmissions, out-of-order segments, depth-cap hits and overlap conflicts, summed
    /// over every flow's two directions (`TCPHalfStream.Counters`).
    public var streams = TCPHalfStream.Counters()
    /// Out-of-order segments released early because all flows' reassembly buffers reached their budget.
    public var reassemblyMemoryCapHits = 0
    /// Flows bypassed (or shed) because all flows' decoder buffers reached their budget.
    public var decoderMemoryCapHits = 0
    /// Bytes held now in out-of-order segments / decoder buffers across all flows, and their peaks.
    public var reassemblyMemory = 0
    public var decoderMemory = 0
    public var peakReassemblyMemory = 0
    public var peakDecoderMemory = 0
    /// Times the flow index drew a new seed because keys piled onto one probe sequence (`FlowIndex.longRun`).
    public var hashReseeds = 0
    public init() {}

    /// Adds another table's counters (a worker's); `peakFlows` is the caller's (a sum of peaks is not a peak).
    public mutating func merge(_ o: ReassemblyStats) {
        packets += o.packets
        bytes += o.bytes
        tcpPackets += o.tcpPackets
        udpPackets += o.udpPackets
        flowsCreated += o.flowsCreated
        activeFlows += o.activeFlows
        evictions += o.evictions
        expired += o.expired
        closed += o.closed
        bypassedFlows += o.bypassedFlows
        bypassedPackets += o.bypassedPackets
        midStreamPickups += o.midStreamPickups
        streams.add(o.streams)
        reassemblyMemoryCapHits += o.reassemblyMemoryCapHits
        decoderMemoryCapHits += o.decoderMemoryCapHits
        reassemblyMemory += o.reassemblyMemory
        decoderMemory += o.decoderMemory
        hashReseeds += o.hashReseeds
        peakReassemblyMemory += o.peakReassemblyMemory
        peakDecoderMemory += o.peakDecoderMemory
    }
}

/// A packet's flow key, its direction and its hash, worked out ahead of `FlowTable.process` so that
/// the caller can have the index entry and the flow's slot fetched into the cache meanwhile.
public struct PacketKey {
    public let key: FlowKey
    public let direction: FlowDirection
    var hash: UInt64
    /// The table's seed when the hash was taken (a reseed in between: hashed again).
    var epoch: UInt32
}
