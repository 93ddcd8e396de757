import CHints
import DequeModule
import PacketDecoding

/// The slots and their LRU lists (one per protocol): allocation, release, linking and eviction.
extension FlowTable {
    /// The least recently active flow other than the one in slot `excluded` (the older of the two LRU tails).
    func leastRecent(excluding excluded: Int32 = -1) -> Int32? {
        func tail(_ t: Int32) -> Int32? {
            guard t >= 0 else { return nil }
            if t != excluded { return t }
            let newer = slots[Int(t)].newer
            return newer >= 0 ? newer : nil
        }
        switch (tail(tails.0), tail(tails.1)) {
        case (let a?, let b?): return slots[Int(a)].lastSeen <= slots[Int(b)].lastSeen ? a : b
        case (let a?, nil): return a
        case (nil, let b?): return b
        default: return nil
        }
    }

    mutating func evictOldest(handler: inout Handler) {
        if let v = leastRecent() {
            stats.evictions += 1
            remove(slot: v, reason: .evicted, handler: &handler)
        }
    }

    mutating func allocateSlot(_ slot: FlowSlot<Handler.App>, _ flow: Flow) -> Int32 {
        var slot = slot
        slot.state = flow
        let s: Int32
        if let free = freeSlots.popLast() {
            s = free
            slot.generation = slots[Int(s)].generation
            slots[Int(s)] = slot
        } else {
            s = Int32(slots.count)
            slots.append(slot)
            streams.append(FlowStreams())
        }
        flow.slot = s
        return s
    }

    /// Frees a slot; its generation moves on, so references queued to the flow that held it go stale.
    mutating func releaseSlot(_ s: Int32) {
        slots[Int(s)].state = nil
        streams[Int(s)] = FlowStreams()  // the buffers go with the flow
        slots[Int(s)].generation &+= 1
        freeSlots.append(s)
    }

    mutating func linkAtHead(_ s: Int32) {
        let i = Int(s)
        if slots[i].isTCP {
            slots[i].newer = -1
            slots[i].older = heads.0
            if heads.0 >= 0 { slots[Int(heads.0)].newer = s }
            heads.0 = s
            if tails.0 < 0 { tails.0 = s }
        } else {
            slots[i].newer = -1
            slots[i].older = heads.1
            if heads.1 >= 0 { slots[Int(heads.1)].newer = s }
            heads.1 = s
            if tails.1 < 0 { tails.1 = s }
        }
    }

    mutating func unlink(_ s: Int32) {
        let i = Int(s)
        let newer = slots[i].newer
        let older = slots[i].older
        let tcp = slots[i].isTCP
        if newer >= 0 { slots[Int(newer)].older = older } else if tcp { heads.0 = older } else { heads.1 = older }
        if older >= 0 { slots[Int(older)].newer = newer } else if tcp { tails.0 = newer } else { tails.1 = newer }
        slots[i].newer = -1
        slots[i].older = -1
    }

    @inline(__always)
    mutating func touch(_ s: Int32) {
        if (slots[Int(s)].isTCP ? heads.0 : heads.1) == s { return }
        unlink(s)
        linkAtHead(s)
    }
}
