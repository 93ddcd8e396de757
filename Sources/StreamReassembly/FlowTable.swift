import CHints
import DequeModule
import PacketDecoding

/// Bidirectional flow table with TCP reassembly, LRU eviction, idle expiry
/// driven by packet time, and bypass.
///
/// What every packet touches is in `slots`, one contiguous array of value-type `FlowSlot`s (key,
/// clock, counters, LRU links, flags), found through `FlowIndex`; the handler's view of a flow
/// (`FlowState`, a class) is only reached when there is something to deliver or end. A packet of a
/// bypassed flow — most packets of bulk traffic — therefore updates integers in two arrays owned by
/// this struct: no reference counting and, because no class-held state is written, no run-time
/// exclusivity check.
public struct FlowTable<Handler: FlowHandler> {
    public typealias Flow = FlowState<Handler.App>
    public let limits: ReassemblyLimits
    var index: FlowIndex
    private var hasher = FlowHasher()
    /// Bumped when `hasher` gets a new seed.
    private var epoch: UInt32 = 0
    // Two LRU lists, TCP and everything else, because their idle timeouts differ: links between
    // slot numbers (`FlowSlot.newer`/`older`), so moving a flow to the head writes a few integers.
    var slots: ContiguousArray<FlowSlot<Handler.App>> = []
    /// Beside each slot: the flow's half-streams and memory charges (`FlowStreams`), reached only for
    /// packets that are reassembled — kept apart so that the slots stay two cache lines each.
    var streams: ContiguousArray<FlowStreams> = []
    var freeSlots: [Int32] = []
    var heads: (Int32, Int32) = (-1, -1)
    var tails: (Int32, Int32) = (-1, -1)
    /// Closed flows lingering to absorb retransmissions, oldest first (slot and its generation then).
    var closingQueue = Deque<(slot: Int32, generation: UInt32, closedAt: Timestamp)>()
    /// Keep a list of the flows that saw packets since the last `takeTouched()` (a live sensor's
    /// commits: only those flows need another look). Off by default: an offline run never asks.
    public var tracksTouched = false
    private var touchedFlows: [Flow] = []
    /// More flows were touched than the table holds: the next `takeTouched()` returns nil (look at all).
    private var touchedOverflow = false
    /// Latest packet time seen: the table's clock (never moves backwards).
    public private(set) var now = Timestamp.distantPast
    public internal(set) var stats = ReassemblyStats()

    public init(limits: ReassemblyLimits = ReassemblyLimits()) {
        self.limits = limits
        index = FlowIndex(capacity: min(limits.maxFlows, 65_536))
    }

    /// A table whose index uses a chosen seed (tests aiming keys at one probe sequence).
    public init(limits: ReassemblyLimits = ReassemblyLimits(), seed: (UInt64, UInt64, UInt64)) {
        self.init(limits: limits)
        hasher = FlowHasher(seed: seed)
    }

    public var count: Int { index.count }

    /// Visits every open flow (live snapshots).
    /// - Complexity: O(open flows).
    public func forEachFlow(_ body: (Flow) -> Void) {
        for s in slots {
            if let f = s.state {
                f.sync(s)
                body(f)
            }
        }
    }

    /// The flows that saw packets since the last call, still in the table; nil when there were more
    /// than the table holds (flows created and gone within one period under a flood): then the
    /// caller looks at every flow.
    public mutating func takeTouched() -> [Flow]? {
        let list = touchedFlows
        touchedFlows = []
        var open: [Flow] = []
        open.reserveCapacity(list.count)
        for f in list where !f.removed {
            slots[Int(f.slot)].touched = false
            f.sync(slots[Int(f.slot)])
            open.append(f)
        }
        defer { touchedOverflow = false }
        return touchedOverflow ? nil : open
    }

    private mutating func noteTouched(_ s: Int32) {
        guard !touchedOverflow else { return }  // the next look covers every flow anyway
        if touchedFlows.count >= limits.maxFlows {
            // Bounded: beyond the table's size the list would only keep gone flows alive.
            for f in touchedFlows where !f.removed { slots[Int(f.slot)].touched = false }
            touchedFlows = []
            touchedOverflow = true
            return
        }
        slots[Int(s)].touched = true
        touchedFlows.append(slots[Int(s)].state!)
    }

    /// Looks up a flow by key (tests and reports).
    public func flow(_ key: FlowKey) -> Flow? {
        guard let s = index.find(key, hash: hasher.hash(key), keyAt: { slots[Int($0)].key }) else { return nil }
        let f = slots[Int(s)].state
        f?.sync(slots[Int(s)])
        return f
    }

    // MARK: - The packet path

    // `key(of:)` and the prefetches change nothing, yet are `mutating`: when the table was a class's
    // property, a non-mutating call copied the whole struct (retaining its arrays) first. Held in
    // `PacketPath` now, non-mutating versions still cost more: +0.24 % instructions on the 100 MB
    // bench capture (callgrind).

    /// The key, direction and hash of a packet's flow.
    @inline(__always)
    public mutating func key(of packet: DecodedPacket) -> PacketKey {
        let src = Endpoint(address: packet.src, port: packet.srcPort)
        let dst = Endpoint(address: packet.dst, port: packet.dstPort)
        let (key, dir) = FlowKey.of(src: src, dst: dst, ipProtocol: packet.ipProtocol, vlanID: packet.vlanID)
        return PacketKey(key: key, direction: dir, hash: hasher.hash(key), epoch: epoch)
    }

    /// Starts loading the index entry where `k`'s lookup begins (a hint: the result does not depend on it).
    @inline(__always)
    public mutating func prefetchIndex(_ k: PacketKey) {
        index.withEntry(index.home(k.hash)) { stratumsniff_prefetch($0) }
    }

    /// Starts loading the slot of `k`'s flow, if the index (best fetched already) names a candidate.
    @inline(__always)
    public mutating func prefetchSlot(_ k: PacketKey) {
        guard let s = index.candidate(hash: k.hash) else { return }
        slots.withUnsafeBufferPointer { b in
            guard Int(s) < b.count else { return }
            let p = UnsafeRawPointer(b.baseAddress! + Int(s))
            stratumsniff_prefetch(p)
            stratumsniff_prefetch(p + 64)
        }
    }

    /// Processes one decoded TCP/UDP packet whose payload lies at `packet.payload` in `buffer`.
    /// - Complexity: amortised O(1) per packet, plus the reassembly cost of out-of-order data.
    /// `seq` is the packet's position in the input (see `FlowState.firstSeq`).
    public mutating func process(
        _ packet: DecodedPacket, in buffer: UnsafeRawBufferPointer, time: Timestamp, seq: Int = 0,
        handler: inout Handler
    ) {
        process(packet, key: key(of: packet), in: buffer, time: time, seq: seq, handler: &handler)
    }

    /// `process` with the packet's key worked out ahead (`key(of:)`).
    public mutating func process(
        _ packet: DecodedPacket, key pk: PacketKey, in buffer: UnsafeRawBufferPointer, time: Timestamp,
        seq: Int = 0, handler: inout Handler
    ) {
        if time > now { now = time }
        expire(handler: &handler)
        let key = pk.key
        let dir = pk.direction
        let hash = pk.epoch == epoch ? pk.hash : hasher.hash(key)
        let wire = packet.payload.upperBound  // approximation of the IP datagram size we saw
        stats.packets += 1
        stats.bytes += wire
        let s: Int32
        if let found = index.find(key, hash: hash, keyAt: { slots[Int($0)].key }) {
            s = found
        } else {
            s = create(packet, key: key, dir: dir, hash: hash, time: time, seq: seq, handler: &handler)
        }
        let i = Int(s)
        if time > slots[i].lastSeen { slots[i].lastSeen = time }
        slots[i].lastSeq = seq
        if dir == .lowToHigh {
            slots[i].packets.0 += 1
            slots[i].bytes.0 += packet.payload.count
        } else {
            slots[i].packets.1 += 1
            slots[i].bytes.1 += packet.payload.count
        }
        touch(s)
        if tracksTouched && !slots[i].touched { noteTouched(s) }
        if slots[i].bypassed {
            stats.bypassedPackets += 1
            return
        }
        if slots[i].closing { return }
        // Something to deliver: from here on the handler's view of the flow is involved.
        let flow = slots[i].state!
        flow.sync(slots[i])
        let payload = UnsafeRawBufferPointer(rebasing: buffer[packet.payload])
        switch packet.transport {
        case .tcp(let h):
            stats.tcpPackets += 1
            if h.flags.contains(.syn) {
                flow.sawSYN = true
                if !h.flags.contains(.ack) { flow.initiator = dir }
            }
            if h.flags.contains(.rst) {
                flushBoth(flow, slot: s, time: time, handler: &handler)
                beginClosing(flow, time: time)
                return
            }
            let fin = h.flags.contains(.fin)
            let syn = h.flags.contains(.syn)
            var limits = self.limits
            var half = streams[i].take(dir)
            // The global budget: this direction may hold what it holds plus what is left of the total.
            let headroom = max(limits.maxReassemblyMemory - stats.reassemblyMemory, 0)
            let constrained = half.bufferedBytes + headroom < limits.maxOutOfOrderBytes
            if constrained { limits.maxOutOfOrderBytes = half.bufferedBytes + headroom }
            let flushesBefore = half.counters.outOfOrderCapFlushes
            let wasMidStream = half.startedMidStream
            half.segment(seq: h.seq, syn: syn, fin: fin, payload: payload, limits: limits) { e in
                Self.route(e, dir, flow, time, &handler)
            }
            if constrained && half.counters.outOfOrderCapFlushes > flushesBefore { stats.reassemblyMemoryCapHits += 1 }
            if half.startedMidStream && !wasMidStream { stats.midStreamPickups += 1 }
            streams[i].put(half, dir)
            if h.flags.contains(.ack) && !flow.bypassed {
                var other = streams[i].take(dir.reversed)
                other.peerAcknowledged(h.ack, limits: limits) { e in Self.route(e, dir.reversed, flow, time, &handler) }
                streams[i].put(other, dir.reversed)
            }
            noteBypass(flow, slot: s)
            account(flow, slot: s, handler: &handler)
            if streams[i].halves.0.ended && streams[i].halves.1.ended { beginClosing(flow, time: time) }
        case .udp:
            stats.udpPackets += 1
            if !payload.isEmpty {
                Self.route(.datagram(payload), dir, flow, time, &handler)
                noteBypass(flow, slot: s)
            }
        case .other:
            break
        }
    }

    /// A new flow for `key`: a slot, an index entry, the head of its LRU list, the handler's state.
    private mutating func create(
        _ packet: DecodedPacket, key: FlowKey, dir: FlowDirection, hash: UInt64, time: Timestamp, seq: Int,
        handler: inout Handler
    ) -> Int32 {
        // Slots are Int32: the cap never lets the table outgrow them (2^31 flows would be a terabyte anyway).
        if index.count >= min(limits.maxFlows, Int(Int32.max) - 1) { evictOldest(handler: &handler) }
        var initiator = dir
        if case .tcp(let h) = packet.transport, h.flags.contains(.syn), h.flags.contains(.ack) {
            initiator = dir.reversed
        }
        let flow = Flow(key: key, time: time, seq: seq, initiator: initiator)
        let s = allocateSlot(FlowSlot(key: key, hash: hash, time: time, seq: seq), flow)
        if !index.insert(hash: hash, slot: s) { reseed() }
        linkAtHead(s)
        stats.flowsCreated += 1
        stats.activeFlows = index.count
        flow.app = handler.startFlow(flow)
        return s
    }

    /// Keys piled onto one probe sequence (`FlowIndex.longRun`): someone chose them to, or knows the
    /// seed. A new random seed scatters them again; every open flow is hashed and indexed anew.
    /// - Complexity: O(open flows); by the run's improbability it never happens on honest traffic.
    private mutating func reseed() {
        hasher = FlowHasher()
        epoch &+= 1
        stats.hashReseeds += 1
        index.removeAll()
        for i in slots.indices where slots[i].state != nil {
            slots[i].hash = hasher.hash(slots[i].key)
            index.insert(hash: slots[i].hash, slot: Int32(i))
        }
    }

    /// Brings the global reassembly and decoder totals up to date with what `flow` holds now and,
    /// when the decoder budget is exhausted, has the handler shed this flow's buffers.
    /// - Complexity: O(1).
    private mutating func account(_ flow: Flow, slot s: Int32, handler: inout Handler) {
        let i = Int(s)
        let r = streams[i].halves.0.bufferedBytes + streams[i].halves.1.bufferedBytes
        stats.reassemblyMemory += r - streams[i].chargedReassembly
        streams[i].chargedReassembly = r
        if stats.reassemblyMemory > stats.peakReassemblyMemory { stats.peakReassemblyMemory = stats.reassemblyMemory }
        var d = flow.app == nil ? 0 : handler.bufferedBytes(flow)
        let charged = streams[i].chargedDecoder
        func overBudget() -> Bool { stats.decoderMemory + d - charged > limits.maxDecoderMemory }
        if d > 0 && overBudget() {
            // Over budget: end the least recently active flows first (their sessions are recorded, as
            // at the flow cap) — a flood's idle flows go, an active miner stays. Only if that is not
            // enough (a few flows hold it all) is this flow shed.
            var evictions = 0
            while overBudget(), evictions < 16, let victim = leastRecent(excluding: s) {
                evictions += 1
                stats.evictions += 1
                stats.decoderMemoryCapHits += 1
                remove(slot: victim, reason: .evicted, handler: &handler)
            }
            if overBudget() {
                stats.decoderMemoryCapHits += 1
                if handler.shed(flow) {
                    flow.bypassed = true
                    noteBypass(flow, slot: s)
                }
                d = handler.bufferedBytes(flow)
            }
        }
        stats.decoderMemory += d - streams[i].chargedDecoder
        streams[i].chargedDecoder = d
        if stats.decoderMemory > stats.peakDecoderMemory { stats.peakDecoderMemory = stats.decoderMemory }
    }

    /// Brings `flow`'s decoder charge up to date between packets: what the handler holds for it
    /// changed without one (a live worker published the flow's findings), and a flood's one-packet
    /// flows would otherwise never be charged for it. Over budget, as after a packet: idle flows end first.
    /// - Complexity: O(1), plus the flows it ends.
    public mutating func recharge(_ flow: Flow, handler: inout Handler) {
        guard !flow.removed else { return }
        account(flow, slot: flow.slot, handler: &handler)
    }

    /// Ends every flow (end of input): flushes buffered data and reports each to the handler.
    public mutating func finishAll(handler: inout Handler) {
        for flow in slots.compactMap({ $0.state }).sorted(by: {
            ($0.firstSeen, $0.firstSeq) < ($1.firstSeen, $1.firstSeq)
        }) {
            remove(flow, reason: slots[Int(flow.slot)].closing ? .closed : .finished, handler: &handler)
        }
    }

    /// Expires idle and lingering-closed flows against the table clock.
    /// Called on every packet; call it from a timer when the link goes quiet.
    public mutating func expire(handler: inout Handler) {
        while let c = closingQueue.first {
            let open = slots[Int(c.slot)].generation == c.generation
            if open && now.since(c.closedAt) < limits.closedLinger { break }
            closingQueue.removeFirst()
            if open {
                stats.closed += 1
                remove(slot: c.slot, reason: .closed, handler: &handler)
            }
        }
        while tails.0 >= 0, now.since(slots[Int(tails.0)].lastSeen) > limits.tcpIdleTimeout {
            stats.expired += 1
            remove(slot: tails.0, reason: .idle, handler: &handler)
        }
        while tails.1 >= 0, now.since(slots[Int(tails.1)].lastSeen) > limits.udpIdleTimeout {
            stats.expired += 1
            remove(slot: tails.1, reason: .idle, handler: &handler)
        }
    }

    /// Counts the flows open now towards `stats.peakFlows`.
    public mutating func samplePeak() {
        if index.count > stats.peakFlows { stats.peakFlows = index.count }
    }

    /// Lets the caller's clock advance time when no packets arrive (live capture).
    public mutating func advance(to time: Timestamp, handler: inout Handler) {
        if time > now { now = time }
        expire(handler: &handler)
    }

    // MARK: - Internals

    /// Hands one event to the handler unless the flow is bypassed. Static so
    /// it can run inside a half-stream's emit callback without touching the table.
    static func route(
        _ event: StreamEvent, _ dir: FlowDirection, _ flow: Flow, _ time: Timestamp,
        _ handler: inout Handler
    ) {
        guard !flow.bypassed else { return }
        if handler.deliver(event, direction: dir, flow: flow, time: time) == .bypass { flow.bypassed = true }
    }

}
