/// The flow table's hash of a flow key: two 64×64→128-bit multiplies folded (the "mum" step of
/// wyhash) over the key packed into two words (five for IPv6), keyed by 192 random bits drawn when
/// the table is made. It costs a few nanoseconds where the standard `Hasher` (SipHash-1-3) cost
/// ~5 % of a run — hashing every packet's key is on the hot path.
///
/// Not a cryptographic hash: what stops an attacker who chooses keys (addresses, ports) from piling
/// them onto one probe sequence is that the seed is secret and per table, and — should keys collide
/// anyway — `FlowIndex` notices a long probe run and the table draws a new seed (`FlowTable.reseed`).
public struct FlowHasher: Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64

    /// A hasher with a fresh random seed.
    public init() {
        var g = SystemRandomNumberGenerator()
        self.init(seed: (g.next(), g.next(), g.next()))
    }

    /// A chosen seed (tests that aim keys at one probe sequence).
    public init(seed: (UInt64, UInt64, UInt64)) {
        s0 = seed.0 | 1
        s1 = seed.1
        s2 = seed.2
    }

    @inlinable @inline(__always) public static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r = a.multipliedFullWidth(by: b)
        return r.high ^ r.low
    }

    @inline(__always) public func hash(_ k: FlowKey) -> UInt64 {
        let ports =
            UInt64(k.low.port) << 48 | UInt64(k.high.port) << 32 | UInt64(k.ipProtocol.rawValue) << 16
            | UInt64(k.vlanID)
        switch (k.low.address, k.high.address) {
        case (.v4(let a), .v4(let b)):
            return Self.mum(Self.mum(ports ^ s0, (UInt64(a) << 32 | UInt64(b)) ^ s1) ^ s2, s0)
        case (.v6(let a, let b), .v6(let c, let d)):
            let h = Self.mum(ports ^ s0, a ^ s1)
            return Self.mum(Self.mum(h ^ b, c ^ s2) ^ d, s0)
        case (.v4(let a), .v6(let c, let d)):
            return Self.mum(Self.mum(ports ^ s0, UInt64(a) ^ s1) ^ c, (d ^ s2) &+ 1)
        case (.v6(let a, let b), .v4(let c)):
            return Self.mum(Self.mum(ports ^ s0, a ^ s1) ^ b, (UInt64(c) ^ s2) &+ 2)
        }
    }
}

/// The flow table's index: flow keys to slots, by open addressing with linear probing over one
/// contiguous array of 8-byte entries (the low 32 bits of the key's hash, and the slot). A lookup
/// reads one or two neighbouring entries and compares the key of one flow; the standard `Dictionary`
/// kept 60-byte keys beside their values and cost a fifth of a run in cache misses.
///
/// Each flow keeps its hash (`FlowSlot.hash`): removing a flow (expiry, eviction) finds its entry
/// without hashing the key again. Deletion shifts later entries back (no tombstones), so probe
/// sequences stay short however many flows come and go. At most half the entries are used: with a
/// random hash an insertion then probes past more than k entries with probability ≈ e^(−k/5) (a
/// simulation of 2 M insertions into a half-full table of 131 072 entries: longest 54), so one that
/// meets a run of `longRun` (≈ 2^-55) reports it — keys aimed at one sequence.
struct FlowIndex {
    /// 0: empty; else `hash32 << 32 | (slot + 1)`.
    private var entries: [UInt64]
    private var mask: Int
    private(set) var count = 0
    static let longRun = 192

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always) static func hash32(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF }

    /// Where the lookup of `hash` begins: for a prefetch ahead of the lookup.
    @inline(__always) func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }

    /// The slot of the flow with `key`, given its hash; `keyAt` reads a slot's key.
    @inline(__always)
    func find(_ key: FlowKey, hash: UInt64, keyAt: (Int32) -> FlowKey) -> Int32? {
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

    /// The slot of the first entry whose tag matches `hash`, without comparing keys: what a prefetch
    /// of the flow's slot goes by (a wrong guess costs a wasted load, nothing else).
    @inline(__always)
    func candidate(hash: UInt64) -> Int32? {
        let tag = Self.hash32(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        for _ in 0..<4 {
            let e = entries[i]
            if e == 0 { return nil }
            if e >> 32 == tag { return Int32(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Adds a flow known to be absent. Returns false when the entry landed at the end of a run of
    /// at least `longRun` entries (see the type's comment): the caller should draw a new seed.
    @discardableResult
    mutating func insert(hash: UInt64, slot: Int32) -> Bool {
        if (count + 1) * 2 > entries.count { grow() }
        let tag = Self.hash32(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        var run = 0
        while entries[i] != 0 {
            i = (i + 1) & mask
            run += 1
        }
        entries[i] = tag << 32 | UInt64(UInt32(slot) + 1)
        count += 1
        return run < Self.longRun
    }

    /// Removes the entry of `slot`, found from its stored hash.
    mutating func remove(hash: UInt64, slot: Int32) {
        let tag = Self.hash32(hash)
        let wanted = tag << 32 | UInt64(UInt32(slot) + 1)
        var hole = Int(truncatingIfNeeded: tag) & mask
        while entries[hole] != wanted {
            guard entries[hole] != 0 else { return }  // not indexed (cannot happen; harmless)
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
            if !stays {
                entries[hole] = e
                hole = j
            }
        }
        entries[hole] = 0
        count -= 1
    }

    /// Empties the index, keeping its size (a new seed: every flow is inserted again).
    mutating func removeAll() {
        for i in entries.indices { entries[i] = 0 }
        count = 0
    }

    /// The entry array's base and the byte offset of `home`, for a prefetch.
    @inline(__always) func withEntry(_ home: Int, _ body: (UnsafeRawPointer) -> Void) {
        entries.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress! + home)) }
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
