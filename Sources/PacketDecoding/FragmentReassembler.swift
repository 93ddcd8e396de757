/// Reassembles fragmented IPv4/IPv6 datagrams under a memory cap and a timeout,
/// so a fragment flood cannot exhaust memory or CPU.
///
/// Overlap policy: the first copy of a byte wins (later overlapping fragments
/// are trimmed and counted as `fragmentOverlap`).
///
/// Memory is accounted as allocated, not as payload: every datagram costs a fixed
/// overhead, its byte buffer's capacity, and a few words per covered range, so a flood
/// of zero-length or overlapping fragments is charged for what it really holds.
/// Zero-length fragments carry nothing and are refused (`badFragment`).
public struct FragmentReassembler {
    public struct Limits: Sendable {
        /// Bytes held across all incomplete datagrams (buffers and bookkeeping).
        public var maxBufferedBytes: Int = 4 << 20
        /// Incomplete datagrams held at once.
        public var maxDatagrams: Int = 4096
        /// Fragments accepted for one datagram (a real one has at most ~45 at a 1500-byte MTU).
        public var maxFragmentsPerDatagram: Int = 256
        /// Seconds (packet time) an incomplete datagram is kept.
        public var timeout: Double = 30
        public init() {}
    }

    /// Bookkeeping charged per datagram on top of its buffer (dictionary slot, struct, range array).
    static let datagramOverhead = 256
    /// Charged per covered range.
    static let rangeOverhead = 16

    private struct Pending {
        var firstSeen: Timestamp
        /// Payload bytes at their offsets; grows to the highest end seen (at most 65 535).
        var buffer: [UInt8] = []
        /// Covered byte ranges, sorted and disjoint (adjacent ranges merged).
        var covered: [Range<Int>] = []
        var totalLength: Int?
        var fragments = 0
        var charged = 0

        var cost: Int {
            FragmentReassembler.datagramOverhead + buffer.capacity + covered.capacity
                * FragmentReassembler.rangeOverhead
        }
    }

    public let limits: Limits
    private var pending: [FragmentKey: Pending] = [:]
    /// Bytes charged to incomplete datagrams right now.
    public private(set) var bufferedBytes = 0
    public private(set) var anomalies = AnomalyCounters()
    public private(set) var reassembled = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var pendingCount: Int { pending.count }

    /// Adds a fragment whose payload lies at `fragment.payload` in `bytes`.
    /// Returns the whole IP payload once every fragment is in.
    /// - Complexity: O(log r + r) in the datagram's covered ranges r (at most `maxFragmentsPerDatagram`),
    ///   plus the fragment's bytes; never quadratic in a flood.
    public mutating func add(_ fragment: IPFragment, in bytes: UnsafeRawBufferPointer, now: Timestamp) -> [UInt8]? {
        let len = fragment.payload.count
        let end = fragment.offset + len
        // A datagram cannot exceed 65535 bytes; non-final fragments carry multiples of 8; empty ones carry nothing.
        guard len > 0, fragment.offset >= 0, end <= 65535, fragment.payload.lowerBound >= 0,
            fragment.payload.upperBound <= bytes.count,
            !fragment.moreFragments || len % 8 == 0
        else {
            anomalies.record(.badFragment)
            return nil
        }
        var p: Pending
        if let existing = pending.removeValue(forKey: fragment.key) {
            p = existing
        } else {
            guard pending.count < limits.maxDatagrams, bufferedBytes + Self.datagramOverhead <= limits.maxBufferedBytes
            else {
                anomalies.record(.fragmentMemoryCap)
                return nil
            }
            p = Pending(firstSeen: now)
        }
        p.fragments += 1
        if !fragment.moreFragments {
            if let t = p.totalLength, t != end {
                anomalies.record(.badFragment)
                release(p)
                return nil
            }
            p.totalLength = end
        }
        if let t = p.totalLength, end > t {
            anomalies.record(.badFragment)
            release(p)
            return nil
        }
        guard p.fragments <= limits.maxFragmentsPerDatagram else {
            anomalies.record(.fragmentMemoryCap)
            release(p)
            return nil
        }
        // Grow the buffer first (charged before it is used), then copy only the uncovered parts.
        if end > p.buffer.count {
            let growth = end - p.buffer.count
            guard bufferedBytes + growth + Self.rangeOverhead <= limits.maxBufferedBytes else {
                anomalies.record(.fragmentMemoryCap)
                release(p)
                return nil
            }
            p.buffer.reserveCapacity(end)
            p.buffer.append(contentsOf: repeatElement(0, count: growth))
        }
        if insert(fragment.offset..<end, from: bytes, at: fragment.payload.lowerBound, into: &p) {
            anomalies.record(.fragmentOverlap)
        }
        bufferedBytes += p.cost - p.charged
        p.charged = p.cost
        if let total = p.totalLength, p.covered.count == 1, p.covered[0] == 0..<total {
            bufferedBytes -= p.charged
            reassembled += 1
            return Array(p.buffer.prefix(total))
        }
        pending[fragment.key] = p
        return nil
    }

    /// Copies the bytes of `range` not yet covered into the buffer and merges the range in.
    /// Returns whether any part of it was already covered (an overlap).
    private func insert(_ range: Range<Int>, from bytes: UnsafeRawBufferPointer, at base: Int, into p: inout Pending)
        -> Bool
    {
        // First covered range that ends at or after our start (binary search: ranges are sorted, disjoint).
        var lo = 0
        var hi = p.covered.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if p.covered[mid].upperBound < range.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        var overlap = false
        var cursor = range.lowerBound
        var j = lo
        var merged = range
        // Walk the ranges touching ours, filling the holes between them.
        while j < p.covered.count, p.covered[j].lowerBound <= range.upperBound {
            let c = p.covered[j]
            if c.overlaps(range) { overlap = true }
            if cursor < c.lowerBound { copy(cursor..<min(c.lowerBound, range.upperBound)) }
            cursor = max(cursor, c.upperBound)
            merged = min(merged.lowerBound, c.lowerBound)..<max(merged.upperBound, c.upperBound)
            j += 1
        }
        if cursor < range.upperBound { copy(cursor..<range.upperBound) }
        p.covered.replaceSubrange(lo..<j, with: [merged])
        return overlap

        func copy(_ r: Range<Int>) {
            for k in r { p.buffer[k] = bytes[base + (k - range.lowerBound)] }
        }
    }

    private mutating func release(_ p: Pending) { bufferedBytes -= p.charged }

    /// Drops incomplete datagrams older than the timeout.
    /// - Complexity: O(pending datagrams)
    public mutating func expire(now: Timestamp) {
        let limit = limits.timeout
        for (k, p) in pending where now.since(p.firstSeen) > limit {
            anomalies.record(.fragmentTimeout)
            pending[k] = nil
            release(p)
        }
    }
}
