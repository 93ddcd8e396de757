/// Reassembles one direction of a TCP connection into an in-order byte stream.
///
/// Policy for retransmissions and overlaps (documented in README):
/// bytes already delivered are never replaced; a segment that overlaps them
/// is trimmed. Among buffered out-of-order segments the one that starts
/// earliest wins an overlap (ties: the first to arrive). Lost data is
/// delivered as a `.gap(n)` event when the out-of-order buffer cap is hit,
/// when the peer acknowledges past a hole, or when the flow ends - never a stall.
public struct TCPHalfStream {
    struct Segment {
        var seq: SequenceNumber
        var data: [UInt8]
        var end: SequenceNumber { seq + data.count }
    }

    /// Counters for one direction; summed into `ReassemblyStats`.
    public struct Counters: Sendable, Equatable {
        public var gaps = 0
        public var gapBytes = 0
        public var retransmittedSegments = 0
        public var outOfOrderSegments = 0
        public var outOfOrderCapFlushes = 0
        public var depthCapHits = 0
        /// Buffered segments that cover the same sequence numbers with different bytes: two
        /// versions of the stream, the classic way to make a sensor see what the receiver does not.
        public var overlapConflicts = 0

        public init() {}

        mutating func add(_ o: Counters) {
            gaps += o.gaps
            gapBytes += o.gapBytes
            retransmittedSegments += o.retransmittedSegments
            outOfOrderSegments += o.outOfOrderSegments
            outOfOrderCapFlushes += o.outOfOrderCapFlushes
            depthCapHits += o.depthCapHits
            overlapConflicts += o.overlapConflicts
        }
    }

    /// Next sequence number expected; nil until the first SYN or data segment.
    public private(set) var next: SequenceNumber?
    private var synSeen = false
    private var segments: [Segment] = []
    /// Bytes held in out-of-order segments, charged as allocated: data plus `segmentOverhead` each,
    /// so a flood of 1-byte segments is counted for what it costs (and stays few enough to keep
    /// insertion cheap).
    public private(set) var bufferedBytes = 0
    /// Bookkeeping charged per buffered segment (array header, allocation, Segment fields).
    public static let segmentOverhead = 64
    /// Bytes handed to the decoder so far.
    public private(set) var deliveredBytes = 0
    private var finSeq: SequenceNumber?
    public private(set) var ended = false
    /// The stream was picked up after its start (no SYN seen).
    public private(set) var startedMidStream = false
    public private(set) var counters = Counters()

    public init() {}

    /// Processes one segment travelling in this direction.
    /// - Complexity: O(1) for in-order data; O(log n + n) to buffer an out-of-order segment.
    public mutating func segment(
        seq raw: UInt32, syn: Bool, fin: Bool, payload: UnsafeRawBufferPointer,
        limits: ReassemblyLimits, emit: (StreamEvent) -> Void
    ) {
        if ended { return }
        var seq = SequenceNumber(raw)
        if syn {
            if !synSeen && (next == nil || deliveredBytes == 0) { next = seq + 1 }
            synSeen = true
            seq = seq + 1  // SYN occupies one sequence number; any payload follows it
        }
        if next == nil {
            guard !payload.isEmpty else { return }  // pure ACK mid-stream: wait for data to anchor
            next = seq
            startedMidStream = true
        }
        if fin { finSeq = seq + payload.count }
        if !payload.isEmpty { place(seq: seq, data: payload, limits: limits, emit: emit) }
        finishIfComplete(emit)
    }

    /// The opposite direction acknowledged `ack`: if that lies beyond a hole we
    /// are holding segments behind, the hole was lost by the capture, not the network.
    public mutating func peerAcknowledged(_ ack: UInt32, limits: ReassemblyLimits, emit: (StreamEvent) -> Void) {
        guard !ended, let n = next, let first = segments.first else { return }
        let ackSeq = SequenceNumber(ack)
        let d = n.distance(to: ackSeq)
        guard d > 0, d < 1 << 30 else { return }
        let gapEnd = ackSeq < first.seq ? ackSeq : first.seq
        skip(to: gapEnd, emit: emit)
        drain(limits: limits, emit: emit)
        finishIfComplete(emit)
    }

    /// Delivers everything still buffered (with gaps for the holes), then `.end`.
    public mutating func flush(limits: ReassemblyLimits, emit: (StreamEvent) -> Void) {
        guard !ended else { return }
        while let first = segments.first {
            skip(to: first.seq, emit: emit)
            drain(limits: limits, emit: emit)
        }
        ended = true
        emit(.end)
    }

    // MARK: - Internals

    private mutating func place(
        seq start: SequenceNumber, data: UnsafeRawBufferPointer, limits: ReassemblyLimits,
        emit: (StreamEvent) -> Void
    ) {
        guard let n = next else { return }
        var seq = start
        var bytes = data
        let rel = n.distance(to: seq)
        if rel < 0 {
            // Starts before what we have delivered: trim the old part (delivered bytes win).
            let overlap = -rel
            guard overlap < bytes.count, overlap < 1 << 30 else {
                counters.retransmittedSegments += 1
                return
            }
            bytes = UnsafeRawBufferPointer(rebasing: bytes[overlap...])
            seq = n
        } else if rel >= 1 << 30 {
            counters.retransmittedSegments += 1  // absurdly far ahead: a stale or forged segment
            return
        }
        if seq == n {
            deliver(bytes, limits: limits, emit: emit)
            next = n + bytes.count
            drain(limits: limits, emit: emit)
            return
        }
        // Out of order: buffer a copy, under the per-direction cap.
        counters.outOfOrderSegments += 1
        let cost = bytes.count + Self.segmentOverhead
        if bufferedBytes + cost > limits.maxOutOfOrderBytes {
            counters.outOfOrderCapFlushes += 1
            // Make room by giving up on the oldest hole(s), then try again.
            while bufferedBytes + cost > limits.maxOutOfOrderBytes, let first = segments.first, first.seq < seq {
                skip(to: first.seq, emit: emit)
                drain(limits: limits, emit: emit)
            }
            if bufferedBytes + cost > limits.maxOutOfOrderBytes {
                // Still no room: this segment is the oldest data we have, so jump to it.
                skip(to: seq, emit: emit)
                deliver(bytes, limits: limits, emit: emit)
                next = seq + bytes.count
                drain(limits: limits, emit: emit)
                return
            }
            if let nn = next, nn.distance(to: seq) <= 0 {  // the holes closed up to this segment
                place(seq: seq, data: bytes, limits: limits, emit: emit)
                return
            }
        }
        insert(Segment(seq: seq, data: Array(bytes)))
    }

    private mutating func insert(_ s: Segment) {
        // Binary search for the first segment starting after s (stable for equal starts).
        var lo = 0
        var hi = segments.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if s.seq < segments[mid].seq { hi = mid } else { lo = mid + 1 }
        }
        if conflicts(s, around: lo) { counters.overlapConflicts += 1 }
        if lo > 0 {
            let prev = segments[lo - 1]
            if prev.seq.distance(to: s.end) <= prev.data.count && prev.seq.distance(to: s.seq) >= 0 {
                counters.retransmittedSegments += 1  // wholly inside an earlier buffered copy
                return
            }
        }
        segments.insert(s, at: lo)
        bufferedBytes += s.data.count + Self.segmentOverhead
    }

    /// Whether `s` and a buffered neighbour (the one before `index`, those from `index` on that start
    /// inside `s`) give different bytes for the same sequence numbers. Only buffered copies can be
    /// compared: delivered bytes are not kept.
    private func conflicts(_ s: Segment, around index: Int) -> Bool {
        func differ(_ a: Segment, _ b: Segment) -> Bool {
            // The overlap of a and b, where a starts no later than b.
            let offset = a.seq.distance(to: b.seq)
            let length = min(a.data.count - offset, b.data.count)
            guard offset >= 0, length > 0 else { return false }
            return !a.data[offset..<(offset + length)].elementsEqual(b.data[0..<length])
        }
        if index > 0, differ(segments[index - 1], s) { return true }
        var i = index
        while i < segments.count, s.seq.distance(to: segments[i].seq) < s.data.count {
            if differ(s, segments[i]) { return true }
            i += 1
        }
        return false
    }

    /// Releases buffered segments that are now contiguous with `next`.
    private mutating func drain(limits: ReassemblyLimits, emit: (StreamEvent) -> Void) {
        while let first = segments.first, let n = next {
            let d = n.distance(to: first.seq)
            if d > 0 { return }
            segments.removeFirst()
            bufferedBytes -= first.data.count + Self.segmentOverhead
            let skipBytes = -d
            if skipBytes >= first.data.count {
                counters.retransmittedSegments += 1
                continue
            }
            first.data.withUnsafeBytes { raw in
                deliver(UnsafeRawBufferPointer(rebasing: raw[skipBytes...]), limits: limits, emit: emit)
            }
            next = n + (first.data.count - skipBytes)
        }
    }

    /// Declares the bytes from `next` up to `target` lost.
    private mutating func skip(to target: SequenceNumber, emit: (StreamEvent) -> Void) {
        guard let n = next else { return }
        let d = n.distance(to: target)
        guard d > 0 else { return }
        counters.gaps += 1
        counters.gapBytes += d
        emit(.gap(d))
        next = target
    }

    private mutating func deliver(
        _ bytes: UnsafeRawBufferPointer, limits: ReassemblyLimits, emit: (StreamEvent) -> Void
    ) {
        guard !bytes.isEmpty else { return }
        let room = limits.maxDepth - deliveredBytes
        guard room > 0 else { return }
        if bytes.count > room {
            counters.depthCapHits += 1
            emit(.data(UnsafeRawBufferPointer(rebasing: bytes[..<room])))
            deliveredBytes += room
            return
        }
        deliveredBytes += bytes.count
        emit(.data(bytes))
    }

    private mutating func finishIfComplete(_ emit: (StreamEvent) -> Void) {
        guard let f = finSeq, let n = next, segments.isEmpty, n.distance(to: f) <= 0 else { return }
        ended = true
        emit(.end)
    }
}
