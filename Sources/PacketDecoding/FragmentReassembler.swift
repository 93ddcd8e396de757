/// Reassembles fragmented IPv4/IPv6 datagrams under a memory cap and a timeout,
/// so a fragment flood cannot exhaust memory.
///
/// Overlap policy: the first copy of a byte wins (later overlapping fragments
/// are trimmed and counted as `fragmentOverlap`).
public struct FragmentReassembler {
    public struct Limits: Sendable {
        /// Bytes held across all incomplete datagrams.
        public var maxBufferedBytes: Int = 4 << 20
        /// Incomplete datagrams held at once.
        public var maxDatagrams: Int = 4096
        /// Seconds (packet time) an incomplete datagram is kept.
        public var timeout: Double = 30
        public init() {}
    }

    private struct Pending {
        var firstSeen: Timestamp
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var totalLength: Int?
        var bytes = 0
    }

    public let limits: Limits
    private var pending: [FragmentKey: Pending] = [:]
    private var bufferedBytes = 0
    public private(set) var anomalies = AnomalyCounters()
    public private(set) var reassembled = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var pendingCount: Int { pending.count }

    /// Adds a fragment whose payload lies at `fragment.payload` in `bytes`.
    /// Returns the whole IP payload once every fragment is in.
    /// - Complexity: O(k log k) in the number of fragments of this datagram.
    public mutating func add(_ fragment: IPFragment, in bytes: UnsafeRawBufferPointer, now: Timestamp) -> [UInt8]? {
        let len = fragment.payload.count
        let end = fragment.offset + len
        // A datagram cannot exceed 65535 bytes; non-final fragments carry multiples of 8.
        guard end <= 65535, fragment.payload.lowerBound >= 0, fragment.payload.upperBound <= bytes.count,
              !fragment.moreFragments || len % 8 == 0
        else { anomalies.record(.badFragment); return nil }
        if pending[fragment.key] == nil {
            guard pending.count < limits.maxDatagrams else { anomalies.record(.fragmentMemoryCap); return nil }
            pending[fragment.key] = Pending(firstSeen: now)
        }
        guard bufferedBytes + len <= limits.maxBufferedBytes else {
            anomalies.record(.fragmentMemoryCap)
            drop(fragment.key)
            return nil
        }
        var p = pending.removeValue(forKey: fragment.key)!
        if !fragment.moreFragments {
            if let t = p.totalLength, t != end { anomalies.record(.badFragment); bufferedBytes -= p.bytes; return nil }
            p.totalLength = end
        }
        if p.pieces.contains(where: { $0.offset < end && fragment.offset < $0.offset + $0.bytes.count }) {
            anomalies.record(.fragmentOverlap)
        }
        p.pieces.append((fragment.offset, Array(bytes[fragment.payload])))
        p.bytes += len
        bufferedBytes += len
        if let total = p.totalLength, let whole = Self.assemble(p.pieces, total: total) {
            bufferedBytes -= p.bytes
            reassembled += 1
            return whole
        }
        pending[fragment.key] = p
        return nil
    }

    /// Drops incomplete datagrams older than the timeout.
    /// - Complexity: O(pending datagrams)
    public mutating func expire(now: Timestamp) {
        let limit = limits.timeout
        for (k, p) in pending where now.since(p.firstSeen) > limit {
            anomalies.record(.fragmentTimeout)
            drop(k)
        }
    }

    private mutating func drop(_ key: FragmentKey) {
        if let p = pending.removeValue(forKey: key) { bufferedBytes -= p.bytes }
    }

    /// Joins pieces when they cover 0..<total; earlier pieces win overlaps.
    private static func assemble(_ pieces: [(offset: Int, bytes: [UInt8])], total: Int) -> [UInt8]? {
        // Coverage check on pieces in arrival order sorted by offset (stable: first arrival first).
        let sorted = pieces.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }
        var covered = 0
        for (_, piece) in sorted {
            if piece.offset > covered { return nil }
            covered = max(covered, piece.offset + piece.bytes.count)
        }
        guard covered >= total else { return nil }
        var out = [UInt8](repeating: 0, count: total)
        var written = [Bool](repeating: false, count: total)
        for piece in pieces {   // arrival order: first copy wins
            for (i, b) in piece.bytes.enumerated() {
                let at = piece.offset + i
                if at < total && !written[at] { out[at] = b; written[at] = true }
            }
        }
        return out
    }
}
