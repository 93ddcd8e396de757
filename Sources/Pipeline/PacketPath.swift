import Detection
import PacketDecoding
import PoolIntel
import StreamReassembly

/// What every packet touches on its way through an analyzer — fragments, the flow table, the
/// dispatcher, the clock, the counters, the batch being processed — as one value. The `PacketPipeline`
/// class holds it and reaches it once per call (a batch of packets), so the per-packet loop works on
/// a struct it owns exclusively: no class-held mutable state, so no dynamic exclusivity check, per
/// packet. (What a packet *delivers* to a decoder reaches its flow's `FlowState` and the `RunState`,
/// which are classes: that is the per-flow path, not the per-packet one.)
struct PacketPath {
    let limits: Limits
    var fragments: FragmentReassembler
    var table: FlowTable<Dispatcher>
    var dispatcher: Dispatcher
    /// The run state's lists, held here too (`replaceIntel` sets both): the reader step learns every DNS
    /// answer with them, and reading the run state's `var` (a class's) would be an access check per packet.
    var intel: PoolIntelligence
    var lastFragmentSweep = Timestamp.distantPast
    /// The analysis clock: the latest packet time seen. It never moves backwards (docs/hostile-input.md "Time").
    var clock = Timestamp.distantPast
    /// Alone, the analyzer is its own reader (`read`); a worker's input is counted by the reader.
    var input = InputCount()
    var stats = AnalysisStats()
    /// The batch being processed, its storage kept between batches.
    private var ahead: [Ahead] = []
    /// What the reader made of some of its datagrams (`learnAtOnce`), by index in `ahead`.
    private var notes = DatagramNotes()

    /// `nameStore`: the part of `names` this path's flows teach (`RunState.nameStore`).
    init(
        limits: Limits, intel: PoolIntelligence, policy: ScoringPolicy, names: NameMemory,
        onEvent: ((AnalysisEvent) -> Void)?, nameStore: Int = 0
    ) {
        self.limits = limits
        let runState = RunState(limits: limits, intel: intel, policy: policy, names: names, onEvent: onEvent)
        runState.nameStore = nameStore
        dispatcher = Dispatcher(runState: runState)
        self.intel = intel
        fragments = FragmentReassembler(limits: limits.fragments)
        table = FlowTable(limits: limits.reassembly)
    }

    /// Processes frames in order, exactly as one by one would — but with the flow table's memory
    /// fetched ahead: every frame of the batch is decoded (and its DNS answers learned) first, and its
    /// flow's index entry requested; then, while each packet is processed, the slot of a flow a few
    /// packets on is requested. With tens of thousands of open flows the entry and the slot are each
    /// a cache miss per packet otherwise (docs/benchmarks.md "Benchmark"). Learning a batch's names before its
    /// earlier packets are processed changes nothing: a lookup sees only names learned at earlier
    /// packets (`NameMemory`).
    mutating func process(batch: UnsafeBufferPointer<CapturedPacket>) {
        for frame in batch { read(frame) }
        flush()
    }

    /// The reader's step of a single analyzer: the frame numbered, the clock kept, its DNS answers
    /// learned, and the frame decoded into `ahead`.
    mutating func read(_ frame: CapturedPacket) {
        let (point, second) = input.take(time: frame.timestamp, originalLength: frame.originalLength)
        let decoded = PacketDecoder.decode(link: frame.linkType, frame: frame.bytes)
        let note = Self.learnAtOnce(
            decoded, in: frame.bytes, intel: intel, limits: limits, names: dispatcher.runState.names, at: point)
        notes.add(note, at: ahead.count)
        ahead.append(Ahead(point: point, second: second, frame: frame.bytes, decoded: decoded, key: key(decoded)))
    }

    /// Frames a `ShardGroup` lets wait at most: enough to overlap several cache misses, few enough to
    /// stay in cache.
    static let aheadLimit = 32

    /// Packets ahead of the one being processed whose flow slot is requested.
    static let slotDistance = 4

    /// Processes the frames taken so far, in order.
    mutating func flush() {
        let count = ahead.count
        guard count > 0 else { return }
        for j in 0..<min(Self.slotDistance, count) { if let k = ahead[j].key { table.prefetchSlot(k) } }
        for i in 0..<count {
            if i + Self.slotDistance < count, let k = ahead[i + Self.slotDistance].key { table.prefetchSlot(k) }
            if let note = notes.take(at: i) { process(ahead[i], note: note) } else { process(ahead[i]) }
        }
        let next = InputPoint(seq: ahead[count - 1].point.seq + 1, clock: clock)
        ahead.removeAll(keepingCapacity: true)
        notes.removeAll()
        // Alone, this path is the only one looking names up: none before the next packet.
        dispatcher.runState.names.purge(lowWater: next)
    }

    /// Processes one frame taken ahead (`key(_:)` gave its key), now.
    @inline(__always)
    mutating func process(_ item: Ahead) {
        if item.point.clock > clock { clock = item.point.clock }
        if item.second { tick(time: clock, before: item.point.seq) }
        handle(item.decoded, key: item.key, frame: item.frame, at: item.point)
    }

    /// Processes a datagram taken ahead with what the reader made of it (`learnAtOnce`), for its analyzer.
    mutating func process(_ item: Ahead, note: any DatagramNote) {
        dispatcher.reader = .seen(note: note)
        defer { dispatcher.reader = .seen(note: nil) }
        process(item)
    }

    /// Requests the flow slot of a frame processed soon (see `flush`).
    @inline(__always)
    mutating func prefetchSlot(_ k: PacketKey) { table.prefetchSlot(k) }

    /// `flow`'s decoder charge brought up to date between packets (`FlowTable.recharge`).
    mutating func recharge(_ flow: FlowState<FlowApp>) { table.recharge(flow, handler: &dispatcher) }

    /// A decoded frame waiting in a batch, with its flow's key when it has one.
    struct Ahead {
        var point: InputPoint
        var second: Bool
        var frame: UnsafeRawBufferPointer
        var decoded: DecodeOutcome
        var key: PacketKey?
    }

    /// The packet's flow key, its index entry requested (nil for what is not a TCP/UDP packet): the
    /// first half of taking a frame ahead, also for `ShardGroup`, which queues several paths' frames.
    @inline(__always)
    mutating func key(_ decoded: DecodeOutcome) -> PacketKey? {
        guard case .packet(let p) = decoded else { return nil }
        let k = table.key(of: p)
        table.prefetchIndex(k)
        return k
    }

    /// Offers an unfragmented UDP datagram to the protocol that claims it before any flow sees it
    /// (`DatagramAnalyzer.learnAtOnce`: a DNS answer's names, the only names learned before any flow
    /// sees them, `NameMemory`). The reader does this, for every worker of `ParallelAnalysis`; what
    /// the analyzer made of the datagram goes with it to the worker (`ReaderPass`).
    @inline(__always)
    static func learnAtOnce(
        _ decoded: DecodeOutcome, in frame: UnsafeRawBufferPointer, intel: PoolIntelligence, limits: Limits,
        names: NameMemory, at point: InputPoint, spareWorker: @autoclosure () -> Bool = false
    ) -> (any DatagramNote)? {
        guard case .packet(let p) = decoded, case .udp(let sp, let dp) = p.transport, !p.payload.isEmpty,
            p.payload.upperBound <= frame.count
        else { return nil }
        // Only the analyzers that learn from whole datagrams are asked (DNS), in table order.
        for analyzer in AnalyzerTable.readers where analyzer.claims(sourcePort: sp, destinationPort: dp) {
            return analyzer.learnAtOnce(
                UnsafeRawBufferPointer(rebasing: frame[p.payload]),
                DatagramReader(
                    source: Endpoint(address: p.src, port: sp), destination: Endpoint(address: p.dst, port: dp),
                    intel: intel, limits: limits, names: names, point: point, spareWorker: spareWorker()))
        }
        return nil
    }

    /// `key`: the packet's flow key, worked out ahead (`key(_:)`: present for every `.packet`).
    /// (The run state's current point is set by the dispatcher for each flow it hands data to or ends.)
    private mutating func handle(
        _ decoded: DecodeOutcome, key: PacketKey?, frame: UnsafeRawBufferPointer, at point: InputPoint
    ) {
        let time = clock
        dispatcher.progress = InputPoint(seq: point.seq, clock: time)
        switch decoded {
        case .packet(let p):
            table.process(p, key: key ?? table.key(of: p), in: frame, time: time, seq: point.seq, handler: &dispatcher)
        case .fragment(let f):
            if time.since(lastFragmentSweep) > 1 {
                fragments.expire(now: time)
                lastFragmentSweep = time
            }
            guard let whole = fragments.add(f, in: frame, now: time) else { return }
            stats.fragmentsReassembled += 1
            dispatcher.reader = .reassembled
            defer { dispatcher.reader = .seen(note: nil) }
            whole.withUnsafeBytes { buf in
                let k = f.key
                switch PacketDecoder.decodeTransport(
                    ByteView(buf), range: 0..<buf.count, proto: k.ipProtocol,
                    src: k.src, dst: k.dst, vlanID: k.vlanID, truncated: false)
                {
                case .packet(let p): table.process(p, in: buf, time: time, seq: point.seq, handler: &dispatcher)
                case .malformed(let a):
                    stats.anomalies.record(a)
                    stats.malformedPackets += 1
                default: break
                }
            }
        case .notIP:
            stats.nonIPPackets += 1
        case .malformed(let a):
            stats.anomalies.record(a)
            stats.malformedPackets += 1
        }
    }

    /// Advances the clock without a packet (a live link gone quiet; a worker at a whole second),
    /// expiring idle flows, and samples the flow count.
    /// `before`: the place in the input of the packet the second begins with (name lookups of the
    /// flows that end now are made there).
    mutating func tick(time: Timestamp, before seq: Int? = nil) {
        if time > clock { clock = time }
        if let seq { dispatcher.progress = InputPoint(seq: seq, clock: clock) }
        input.advance(to: clock)
        table.advance(to: clock, handler: &dispatcher)
        table.samplePeak()
        fragments.expire(now: clock)
    }

    /// Swaps in reloaded pool and allow lists (SIGHUP); flows already judged keep their verdicts.
    mutating func replaceIntel(_ intel: PoolIntelligence) {
        self.intel = intel
        dispatcher.runState.intel = intel
    }

    /// Ends every open flow (the end of input), in the order they began.
    mutating func finishAll() { table.finishAll(handler: &dispatcher) }

    /// Ends the run at `end` (the input's last clock): what this path found, to be merged with
    /// other shards' parts. Flows idle by then expire as idle first, as they would have alone.
    /// `before`: just past the input's last packet, where the lookups of the flows ended now are made
    /// (alone, this path counted the input itself).
    mutating func finishPart(at end: Timestamp, before position: Int? = nil) -> AnalysisPart {
        flush()
        tick(time: end, before: position ?? input.stats.packets + 1)
        finishAll()
        let runState = dispatcher.runState
        let part = AnalysisPart(verdicts: runState.verdicts, stats: statistics, hostsSeen: runState.hostsSeen)
        _ = runState.verdicts.drainRetired()  // the part has them now: stored once
        return part
    }

    /// Everything counted so far: the path's, the flow table's and the run state's counters.
    var statistics: AnalysisStats {
        var s = stats
        input.apply(to: &s)
        s.reassembly = table.stats
        let runState = dispatcher.runState
        s.anomalies.merge(fragments.anomalies)
        s.anomalies.merge(runState.anomalies)
        s.count(runState.verdicts)
        s.protocolCounts = runState.counts
        s.allowedSessions = runState.allowedSessions
        s.nameCacheEvictions = runState.names.evictions
        s.anomalies.record(.timeWentBackwards, count: s.timeWentBackwards)
        s.anomalies.record(.decoderMemoryCap, count: table.stats.decoderMemoryCapHits)
        s.anomalies.record(.reassemblyMemoryCap, count: table.stats.reassemblyMemoryCapHits)
        s.anomalies.record(.tcpOverlapConflict, count: table.stats.streams.overlapConflicts)
        s.anomalies.record(.flowHashReseeded, count: table.stats.hashReseeds)
        return s
    }

}
