import CHints
import DequeModule
import PacketDecoding

/// How a flow ends: bypassed, flushed, closing, removed (the handler told why).
extension FlowTable {
    /// Accounts for a flow that just became bypassed and frees its buffers:
    /// a bypassed flow keeps only its counters (and its slot says so: later packets stop there).
    /// `s`: the flow's slot (still its own: the flow is not removed yet).
    mutating func noteBypass(_ flow: Flow, slot s: Int32) {
        let i = Int(s)
        guard flow.bypassed, !streams[i].bypassCounted else { return }
        streams[i].bypassCounted = true
        slots[i].bypassed = true
        stats.bypassedFlows += 1
        stats.streams.add(streams[i].halves.0.counters)
        stats.streams.add(streams[i].halves.1.counters)
        streams[i].halves = (TCPHalfStream(), TCPHalfStream())
        stats.reassemblyMemory -= streams[i].chargedReassembly
        streams[i].chargedReassembly = 0
    }

    mutating func flushBoth(_ flow: Flow, slot s: Int32, time: Timestamp, handler: inout Handler) {
        guard !flow.bypassed, flow.isTCP else { return }
        let limits = self.limits
        for d in [FlowDirection.lowToHigh, .highToLow] {
            var half = streams[Int(s)].take(d)
            half.flush(limits: limits) { e in Self.route(e, d, flow, time, &handler) }
            streams[Int(s)].put(half, d)
        }
        noteBypass(flow, slot: s)
    }

    mutating func beginClosing(_ flow: Flow, time: Timestamp) {
        guard flow.slot >= 0, !slots[Int(flow.slot)].closing else { return }
        slots[Int(flow.slot)].closing = true
        closingQueue.append((flow.slot, slots[Int(flow.slot)].generation, time))
    }

    mutating func remove(slot: Int32, reason: FlowEndReason, handler: inout Handler) {
        guard let flow = slots[Int(slot)].state else { return }
        remove(flow, reason: reason, handler: &handler)
    }

    /// Ends a flow. What is still buffered is delivered at the flow's own last packet time, not at the
    /// moment the table noticed: the data arrived then, and when the table notices (the next packet,
    /// a tick, another worker's pace) must not change what the flow is found to have done.
    mutating func remove(_ flow: Flow, reason: FlowEndReason, handler: inout Handler) {
        guard !flow.removed else { return }
        let s = flow.slot
        flow.sync(slots[Int(s)])
        let time = flow.lastSeen
        if !flow.bypassed {
            flushBoth(flow, slot: s, time: time, handler: &handler)
            if !flow.isTCP {
                Self.route(.end, .lowToHigh, flow, time, &handler)
                Self.route(.end, .highToLow, flow, time, &handler)
                noteBypass(flow, slot: s)
            }
        }
        let i = Int(s)
        if !streams[i].bypassCounted {
            stats.streams.add(streams[i].halves.0.counters)
            stats.streams.add(streams[i].halves.1.counters)
        }
        handler.endFlow(flow, reason: reason, time: time)
        stats.reassemblyMemory -= streams[i].chargedReassembly
        stats.decoderMemory -= streams[i].chargedDecoder
        unlink(s)
        index.remove(hash: slots[Int(s)].hash, slot: s)
        releaseSlot(s)
        flow.slot = -1  // removed
        stats.activeFlows = index.count
        flow.app = nil
    }
}
