/// The flow table's index: flow keys to slots, by open addressing with linear probing over one
/// contiguous array of 8-byte entries (the low 32 bits of the key's hash, and the slot). A lookup
/// reads one or two neighbouring entries and compares the key of one flow; the standard `Dictionary`
/// kept 60-byte keys beside their values and cost a fifth of a run in cache misses.
///
/// The hash is the standard library's (SipHash, seeded at random per process), so keys an attacker
/// chooses cannot be aimed at one probe sequence. Each flow keeps its hash (`FlowState.hash`):
/// removing a flow (expiry, eviction) finds its entry without hashing the key again. Deletion shifts
/// later entries back (no tombstones), so probe sequences stay short however many flows come and go.
struct FlowIndex {
    /// 0: empty; else `hash32 << 32 | (slot + 1)`.
    private var entries: [UInt64]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always) static func hash32(_ hash: Int) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: hash)) }

    /// The slot of the flow with `key`, given its hash; `keyAt` reads a slot's key.
    @inline(__always)
    func find(_ key: FlowKey, hash: Int, keyAt: (Int32) -> FlowKey) -> Int32? {
        let tag = Self.hash32(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        while true {
            let e = entries[i]
            if e == 0 { return nil }
            if e >> 32 == tag {
                let slot = Int32(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1
                if keyAt(slot) == key { return slot }
            }
            i = (i + 1) & mask
        }
    }

    /// Adds a flow known to be absent.
    mutating func insert(hash: Int, slot: Int32) {
        if (count + 1) * 2 > entries.count { grow() }
        let tag = Self.hash32(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        while entries[i] != 0 { i = (i + 1) & mask }
        entries[i] = tag << 32 | UInt64(UInt32(slot) + 1)
        count += 1
    }

    /// Removes the entry of `slot`, found from its stored hash.
    mutating func remove(hash: Int, slot: Int32) {
        let tag = Self.hash32(hash)
        let wanted = tag << 32 | UInt64(UInt32(slot) + 1)
        var hole = Int(truncatingIfNeeded: tag) & mask
        while entries[hole] != wanted {
            guard entries[hole] != 0 else { return }   // not indexed (cannot happen; harmless)
            hole = (hole + 1) & mask
        }
        // Backward shift: move each later entry of the run into the hole unless its home lies
        // cyclically after the hole (then it must stay where its probe sequence finds it).
        var j = hole
        while true {
            j = (j + 1) & mask
            let e = entries[j]
            if e == 0 { break }
            let home = Int(truncatingIfNeeded: e >> 32) & mask
            let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if !stays { entries[hole] = e; hole = j }
        }
        entries[hole] = 0
        count -= 1
    }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: 0, count: old.count * 2)
        mask = entries.count - 1
        count = 0
        for e in old where e != 0 {
            var i = Int(truncatingIfNeeded: e >> 32) & mask
            while entries[i] != 0 { i = (i + 1) & mask }
            entries[i] = e
            count += 1
        }
    }
}
