import Detection
import PacketDecoding
import PoolIntel
import SafeNumbers
import Stratum
import StreamReassembly

/// Counters for a whole run.
public struct AnalysisStats: Sendable {
    public var packets = 0
    public var bytes = 0
    public var nonIPPackets = 0
    public var malformedPackets = 0
    public var fragmentsReassembled = 0
    public var anomalies = AnomalyCounters()
    public var reassembly = ReassemblyStats()
    public var stratumSessions = 0
    /// Each protocol's summary counters (`ProtocolCounter`: `dns_messages`, `tls_handshakes` …).
    public var protocolCounts = ProtocolCounts()
    /// Mining sessions to allow-listed pools, not counted against their miners.
    public var allowedSessions = 0
    public var nameCacheEvictions = 0
    public var evidenceDropped = 0
    /// Packets stamped earlier than a packet before them (analysed at the later time).
    public var timeWentBackwards = 0
    public var firstPacket: Timestamp?
    public var lastPacket: Timestamp?
    public init() {}

    /// What a host table counts: sessions held, and what its caps refused or let go. Set, not added:
    /// after the workers' tables merged into one, its counts (the workers' and the merge's own) stand
    /// for all of them.
    public mutating func count(_ v: HostVerdicts) {
        stratumSessions = v.sessionCount
        evidenceDropped = v.evidenceDropped
        anomalies.set(.evidenceCap, to: v.evidenceDropped)
        anomalies.set(.hostTableFull, to: v.hostsDropped)
        anomalies.set(.hostEvicted, to: v.hostsEvicted)
        anomalies.set(.sessionNotStored, to: v.retiredLost)
        anomalies.set(.sessionRetired, to: v.sessionsRetired)
        anomalies.set(.hostMemoryCap, to: v.memoryCapHits)
    }

    /// Adds another worker's counters (peaks are the caller's: a sum of peaks is not a peak).
    public mutating func merge(_ o: AnalysisStats) {
        packets += o.packets
        bytes = bytes.addingSaturated(o.bytes)
        nonIPPackets += o.nonIPPackets
        malformedPackets += o.malformedPackets
        fragmentsReassembled += o.fragmentsReassembled
        anomalies.merge(o.anomalies)
        reassembly.merge(o.reassembly)
        stratumSessions += o.stratumSessions
        protocolCounts.merge(o.protocolCounts)
        allowedSessions += o.allowedSessions
        evidenceDropped += o.evidenceDropped
        timeWentBackwards += o.timeWentBackwards
        if let f = o.firstPacket, firstPacket.map({ f < $0 }) ?? true { firstPacket = f }
        if let l = o.lastPacket, lastPacket.map({ l > $0 }) ?? true { lastPacket = l }
    }
}

/// Whole seconds of packet time: where the flow count is sampled (`FlowTable.samplePeak`) and every
/// worker expires its idle flows — the same points in the input for one worker or many.
public struct SecondTicks: Sendable {
    private var last = Int64.min
    public init() {}
    /// Whether `clock` is in a later whole second than the previous tick.
    public mutating func crosses(_ clock: Timestamp) -> Bool {
        let second =
            clock.nanoseconds >= 0 ? clock.nanoseconds / 1_000_000_000 : (clock.nanoseconds + 1) / 1_000_000_000 - 1
        guard second > last else { return false }
        last = second
        return true
    }
}
