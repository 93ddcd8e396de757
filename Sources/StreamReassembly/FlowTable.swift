import DequeModule
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
    public var gaps = 0
    public var gapBytes = 0
    public var retransmittedSegments = 0
    public var outOfOrderSegments = 0
    public var outOfOrderCapFlushes = 0
    public var depthCapHits = 0
    public var midStreamPickups = 0
    /// Buffered TCP segments that disagreed about the same bytes (`tcp_overlap_conflict`).
    public var overlapConflicts = 0
    /// Out-of-order segments released early because all flows' reassembly buffers reached their budget.
    public var reassemblyMemoryCapHits = 0
    /// Flows bypassed (or shed) because all flows' decoder buffers reached their budget.
    public var decoderMemoryCapHits = 0
    /// Bytes held now in out-of-order segments / decoder buffers across all flows, and their peaks.
    public var reassemblyMemory = 0
    public var decoderMemory = 0
    public var peakReassemblyMemory = 0
    public var peakDecoderMemory = 0
    public init() {}

    /// Adds another table's counters (a worker's); `peakFlows` is the caller's (a sum of peaks is not a peak).
    public mutating func merge(_ o: ReassemblyStats) {
        packets += o.packets; bytes += o.bytes; tcpPackets += o.tcpPackets; udpPackets += o.udpPackets
        flowsCreated += o.flowsCreated; activeFlows += o.activeFlows; evictions += o.evictions; expired += o.expired
        closed += o.closed; bypassedFlows += o.bypassedFlows; bypassedPackets += o.bypassedPackets
        gaps += o.gaps; gapBytes += o.gapBytes; retransmittedSegments += o.retransmittedSegments
        outOfOrderSegments += o.outOfOrderSegments; outOfOrderCapFlushes += o.outOfOrderCapFlushes
        depthCapHits += o.depthCapHits; midStreamPickups += o.midStreamPickups; overlapConflicts += o.overlapConflicts
        reassemblyMemoryCapHits += o.reassemblyMemoryCapHits; decoderMemoryCapHits += o.decoderMemoryCapHits
        reassemblyMemory += o.reassemblyMemory; decoderMemory += o.decoderMemory
        peakReassemblyMemory += o.peakReassemblyMemory; peakDecoderMemory += o.peakDecoderMemory
    }

    mutating func absorb(_ c: TCPHalfStream.Counters) {
        gaps += c.gaps
        gapBytes += c.gapBytes
        retransmittedSegments += c.retransmittedSegments
        outOfOrderSegments += c.outOfOrderSegments
        outOfOrderCapFlushes += c.outOfOrderCapFlushes
        depthCapHits += c.depthCapHits
        overlapConflicts += c.overlapConflicts
    }
}

/// Bidirectional flow table with TCP reassembly, LRU eviction, idle expiry
/// driven by packet time, and bypass.
public struct FlowTable<Handler: FlowHandler> {
    public typealias Flow = FlowState<Handler.App>
    public let limits: ReassemblyLimits
    private var index: FlowIndex
    // Two LRU lists, TCP and everything else, because their idle timeouts differ. The lists are
    // links between slot numbers in contiguous arrays — moving a flow to the head on every packet
    // writes a few integers, with no reference counting (the class-node list cost ~9 % of a run).
    private var slots: ContiguousArray<Flow?> = []
    private var links: ContiguousArray<LRULink> = []
    private var freeSlots: [Int32] = []
    private var heads: (Int32, Int32) = (-1, -1)
    private var tails: (Int32, Int32) = (-1, -1)
    /// Closed flows lingering to absorb retransmissions, oldest first.
    private var closingQueue = Deque<Flow>()
    /// Keep a list of the flows that saw packets since the last `takeTouched()` (a live sensor's
    /// commits: only those flows need another look). Off by default: an offline run never asks.
    public var tracksTouched = false
    private var touchedFlows: [Flow] = []
    /// More flows were touched than the table holds: the next `takeTouched()` returns nil (look at all).
    private var touchedOverflow = false
    /// Latest packet time seen: the table's clock (never moves backwards).
    public private(set) var now = Timestamp.distantPast
    public private(set) var stats = ReassemblyStats()

    public init(limits: ReassemblyLimits = ReassemblyLimits()) {
        self.limits = limits
        index = FlowIndex(capacity: min(limits.maxFlows, 65_536))
    }

    public var count: Int { index.count }

    /// Visits every open flow (live snapshots).
    /// - Complexity: O(open flows).
    public func forEachFlow(_ body: (Flow) -> Void) {
        for case let f? in slots { body(f) }
    }

    /// The flows that saw packets since the last call, still in the table; nil when there were more
    /// than the table holds (flows created and gone within one period under a flood): then the
    /// caller looks at every flow.
    public mutating func takeTouched() -> [Flow]? {
        let list = touchedFlows
        touchedFlows = []
        for f in list { f.touched = false }
        defer { touchedOverflow = false }
        return touchedOverflow ? nil : list.filter { !$0.removed }
    }

    private mutating func noteTouched(_ flow: Flow) {
        guard !touchedOverflow else { return }   // the next look covers every flow anyway
        if touchedFlows.count >= limits.maxFlows {
            // Bounded: beyond the table's size the list would only keep gone flows alive.
            for f in touchedFlows { f.touched = false }
            touchedFlows = []
            touchedOverflow = true
            return
        }
        flow.touched = true
        touchedFlows.append(flow)
    }

    /// Looks up a flow by key (tests and reports).
    public func flow(_ key: FlowKey) -> Flow? {
        index.find(key, hash: key.hashValue) { slots[Int($0)]!.key }.flatMap { slots[Int($0)] }
    }

    /// Processes one decoded TCP/UDP packet whose payload lies at `packet.payload` in `buffer`.
    /// - Complexity: amortised O(1) per packet, plus the reassembly cost of out-of-order data.
    /// `seq` is the packet's position in the input (see `FlowState.firstSeq`).
    public mutating func process(_ packet: DecodedPacket, in buffer: UnsafeRawBufferPointer, time: Timestamp, seq: Int = 0,
                                 handler: inout Handler) {
        if time > now { now = time }
        expire(handler: &handler)
        let src = Endpoint(address: packet.src, port: packet.srcPort)
        let dst = Endpoint(address: packet.dst, port: packet.dstPort)
        let (key, dir) = FlowKey.of(src: src, dst: dst, ipProtocol: packet.ipProtocol, vlanID: packet.vlanID)
        let wire = packet.payload.upperBound   // approximation of the IP datagram size we saw
        stats.packets += 1
        stats.bytes += wire
        let flow: Flow
        let hash = key.hashValue
        if let s = index.find(key, hash: hash, keyAt: { slots[Int($0)]!.key }) {
            flow = slots[Int(s)]!
        } else {
            // Slots are Int32: the cap never lets the table outgrow them (2^31 flows would be a terabyte anyway).
            if index.count >= min(limits.maxFlows, Int(Int32.max) - 1) { evictOldest(handler: &handler) }
            var initiator = dir
            if case .tcp(let h) = packet.transport, h.flags.contains(.syn), h.flags.contains(.ack) { initiator = dir.reversed }
            flow = Flow(key: key, time: time, seq: seq, initiator: initiator)
            allocateSlot(flow)
            flow.hash = hash
            index.insert(hash: hash, slot: flow.slot)
            linkAtHead(flow)
            stats.flowsCreated += 1
            stats.activeFlows = index.count
            flow.app = handler.startFlow(flow)
        }
        flow.lastSeen = time > flow.lastSeen ? time : flow.lastSeen
        flow.lastSeq = seq
        if dir == .lowToHigh { flow.packets.0 += 1; flow.bytes.0 += packet.payload.count }
        else { flow.packets.1 += 1; flow.bytes.1 += packet.payload.count }
        touch(flow)
        if tracksTouched && !flow.touched { noteTouched(flow) }
        if flow.bypassed { stats.bypassedPackets += 1; return }
        if flow.closing { return }
        let payload = UnsafeRawBufferPointer(rebasing: buffer[packet.payload])
        switch packet.transport {
        case .tcp(let h):
            stats.tcpPackets += 1
            if h.flags.contains(.syn) {
                flow.sawSYN = true
                if !h.flags.contains(.ack) { flow.initiator = dir }
            }
            if h.flags.contains(.rst) {
                flushBoth(flow, time: time, handler: &handler)
                beginClosing(flow, time: time)
                return
            }
            let fin = h.flags.contains(.fin), syn = h.flags.contains(.syn)
            var limits = self.limits
            var half = flow.takeHalf(dir)
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
            flow.putHalf(half, dir)
            if h.flags.contains(.ack) && !flow.bypassed {
                var other = flow.takeHalf(dir.reversed)
                other.peerAcknowledged(h.ack, limits: limits) { e in Self.route(e, dir.reversed, flow, time, &handler) }
                flow.putHalf(other, dir.reversed)
            }
            noteBypass(flow)
            account(flow, handler: &handler)
            if flow.halves.0.ended && flow.halves.1.ended { beginClosing(flow, time: time) }
        case .udp:
            stats.udpPackets += 1
            if !payload.isEmpty { Self.route(.datagram(payload), dir, flow, time, &handler); noteBypass(flow) }
        case .other:
            break
        }
    }

    /// Brings the global reassembly and decoder totals up to date with what `flow` holds now and,
    /// when the decoder budget is exhausted, has the handler shed this flow's buffers.
    /// - Complexity: O(1).
    private mutating func account(_ flow: Flow, handler: inout Handler) {
        let r = flow.halves.0.bufferedBytes + flow.halves.1.bufferedBytes
        stats.reassemblyMemory += r - flow.chargedReassembly
        flow.chargedReassembly = r
        if stats.reassemblyMemory > stats.peakReassemblyMemory { stats.peakReassemblyMemory = stats.reassemblyMemory }
        var d = flow.app == nil ? 0 : handler.bufferedBytes(flow)
        func overBudget() -> Bool { stats.decoderMemory + d - flow.chargedDecoder > limits.maxDecoderMemory }
        if d > 0 && overBudget() {
            // Over budget: end the least recently active flows first (their sessions are recorded, as
            // at the flow cap) — a flood's idle flows go, an active miner stays. Only if that is not
            // enough (a few flows hold it all) is this flow shed.
            var evictions = 0
            while overBudget(), evictions < 16, let victim = leastRecent(excluding: flow) {
                evictions += 1
                stats.evictions += 1
                stats.decoderMemoryCapHits += 1
                remove(victim, reason: .evicted, handler: &handler)
            }
            if overBudget() {
                stats.decoderMemoryCapHits += 1
                if handler.shed(flow) { flow.bypassed = true; noteBypass(flow) }
                d = handler.bufferedBytes(flow)
            }
        }
        stats.decoderMemory += d - flow.chargedDecoder
        flow.chargedDecoder = d
        if stats.decoderMemory > stats.peakDecoderMemory { stats.peakDecoderMemory = stats.decoderMemory }
    }

    /// Ends every flow (end of input): flushes buffered data and reports each to the handler.
    public mutating func finishAll(handler: inout Handler) {
        for flow in slots.compactMap({ $0 }).sorted(by: { ($0.firstSeen, $0.firstSeq) < ($1.firstSeen, $1.firstSeq) }) {
            remove(flow, reason: flow.closing ? .closed : .finished, handler: &handler)
        }
    }

    /// Expires idle and lingering-closed flows against the table clock.
    /// Called on every packet; call it from a timer when the link goes quiet.
    public mutating func expire(handler: inout Handler) {
        while let f = closingQueue.first {
            if !f.removed && now.since(f.closedAt) < limits.closedLinger { break }
            closingQueue.removeFirst()
            if !f.removed { stats.closed += 1; remove(f, reason: .closed, handler: &handler) }
        }
        while let t = flow(atSlot: tails.0), now.since(t.lastSeen) > limits.tcpIdleTimeout {
            stats.expired += 1; remove(t, reason: .idle, handler: &handler)
        }
        while let t = flow(atSlot: tails.1), now.since(t.lastSeen) > limits.udpIdleTimeout {
            stats.expired += 1; remove(t, reason: .idle, handler: &handler)
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
    private static func route(_ event: StreamEvent, _ dir: FlowDirection, _ flow: Flow, _ time: Timestamp,
                              _ handler: inout Handler) {
        guard !flow.bypassed else { return }
        if handler.deliver(event, direction: dir, flow: flow, time: time) == .bypass { flow.bypassed = true }
    }

    /// Accounts for a flow that just became bypassed and frees its buffers:
    /// a bypassed flow keeps only its counters.
    private mutating func noteBypass(_ flow: Flow) {
        guard flow.bypassed, !flow.bypassCounted else { return }
        flow.bypassCounted = true
        stats.bypassedFlows += 1
        stats.absorb(flow.halves.0.counters)
        stats.absorb(flow.halves.1.counters)
        flow.halves = (TCPHalfStream(), TCPHalfStream())
        stats.reassemblyMemory -= flow.chargedReassembly
        flow.chargedReassembly = 0
    }

    private mutating func flushBoth(_ flow: Flow, time: Timestamp, handler: inout Handler) {
        guard !flow.bypassed, flow.isTCP else { return }
        let limits = self.limits
        for d in [FlowDirection.lowToHigh, .highToLow] {
            var half = flow.takeHalf(d)
            half.flush(limits: limits) { e in Self.route(e, d, flow, time, &handler) }
            flow.putHalf(half, d)
        }
        noteBypass(flow)
    }

    private mutating func beginClosing(_ flow: Flow, time: Timestamp) {
        guard !flow.closing else { return }
        flow.closing = true
        flow.closedAt = time
        closingQueue.append(flow)
    }

    /// The least recently active flow other than `flow` (the older of the two LRU tails).
    private func leastRecent(excluding excluded: Flow? = nil) -> Flow? {
        func tail(_ t: Int32) -> Flow? {
            guard let f = flow(atSlot: t) else { return nil }
            return f === excluded ? flow(atSlot: links[Int(t)].newer) : f
        }
        switch (tail(tails.0), tail(tails.1)) {
        case let (a?, b?): return a.lastSeen <= b.lastSeen ? a : b
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }

    private mutating func evictOldest(handler: inout Handler) {
        if let v = leastRecent() { stats.evictions += 1; remove(v, reason: .evicted, handler: &handler) }
    }

    /// Ends a flow. What is still buffered is delivered at the flow's own last packet time, not at the
    /// moment the table noticed: the data arrived then, and when the table notices (the next packet,
    /// a tick, another worker's pace) must not change what the flow is found to have done.
    private mutating func remove(_ flow: Flow, reason: FlowEndReason, handler: inout Handler) {
        guard !flow.removed else { return }
        let time = flow.lastSeen
        if !flow.bypassed {
            flushBoth(flow, time: time, handler: &handler)
            if !flow.isTCP {
                Self.route(.end, .lowToHigh, flow, time, &handler)
                Self.route(.end, .highToLow, flow, time, &handler)
                noteBypass(flow)
            }
        }
        if !flow.bypassCounted {
            stats.absorb(flow.halves.0.counters)
            stats.absorb(flow.halves.1.counters)
        }
        handler.endFlow(flow, reason: reason, time: time)
        stats.reassemblyMemory -= flow.chargedReassembly
        stats.decoderMemory -= flow.chargedDecoder
        flow.chargedReassembly = 0
        flow.chargedDecoder = 0
        flow.removed = true
        unlink(flow)
        index.remove(hash: flow.hash, slot: flow.slot)
        releaseSlot(flow)
        stats.activeFlows = index.count
        flow.app = nil
    }

    // MARK: LRU lists

    private func flow(atSlot slot: Int32) -> Flow? { slot < 0 ? nil : slots[Int(slot)] }

    private mutating func allocateSlot(_ f: Flow) {
        if let s = freeSlots.popLast() {
            slots[Int(s)] = f
            f.slot = s
        } else {
            f.slot = Int32(slots.count)
            slots.append(f)
            links.append(LRULink())
        }
    }

    private mutating func releaseSlot(_ f: Flow) {
        guard f.slot >= 0 else { return }
        slots[Int(f.slot)] = nil
        freeSlots.append(f.slot)
        f.slot = -1
    }

    private mutating func linkAtHead(_ f: Flow) {
        let s = f.slot
        if f.isTCP {
            links[Int(s)] = LRULink(newer: -1, older: heads.0)
            if heads.0 >= 0 { links[Int(heads.0)].newer = s }
            heads.0 = s
            if tails.0 < 0 { tails.0 = s }
        } else {
            links[Int(s)] = LRULink(newer: -1, older: heads.1)
            if heads.1 >= 0 { links[Int(heads.1)].newer = s }
            heads.1 = s
            if tails.1 < 0 { tails.1 = s }
        }
    }

    private mutating func unlink(_ f: Flow) {
        let s = f.slot
        guard s >= 0 else { return }
        let newer = links[Int(s)].newer, older = links[Int(s)].older
        if newer >= 0 { links[Int(newer)].older = older } else if f.isTCP { heads.0 = older } else { heads.1 = older }
        if older >= 0 { links[Int(older)].newer = newer } else if f.isTCP { tails.0 = newer } else { tails.1 = newer }
        links[Int(s)] = LRULink()
    }

    private mutating func touch(_ f: Flow) {
        let s = f.slot
        if f.isTCP ? heads.0 == s : heads.1 == s { return }
        unlink(f)
        linkAtHead(f)
    }
}

/// A flow's neighbours in its LRU list, by slot (-1: none).
struct LRULink {
    var newer: Int32 = -1
    var older: Int32 = -1
}
