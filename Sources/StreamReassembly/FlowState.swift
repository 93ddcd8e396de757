import PacketDecoding

/// Receives the reassembled streams of every flow. The pipeline implements
/// this to attach protocol decoders; tests implement it to record events.
public protocol FlowHandler {
    /// Per-flow decoder state the handler keeps inside the flow.
    associatedtype App
    /// A new flow appeared; return its initial decoder state.
    mutating func startFlow(_ flow: FlowState<App>) -> App
    /// One event for one direction of `flow`. Returning `.bypass` stops all
    /// further delivery for the flow.
    mutating func deliver(_ event: StreamEvent, direction: FlowDirection, flow: FlowState<App>, time: Timestamp)
        -> StreamDecision
    /// The flow left the table; every direction has already seen `.end`.
    mutating func endFlow(_ flow: FlowState<App>, reason: FlowEndReason, time: Timestamp)
    /// Bytes the handler's decoders hold for `flow`, for the global decoder budget.
    func bufferedBytes(_ flow: FlowState<App>) -> Int
    /// The decoder budget is exhausted and `flow` holds some of it: free what can be freed.
    /// Return true to bypass the flow from now on, false to keep decoding it (a known miner).
    mutating func shed(_ flow: FlowState<App>) -> Bool
}

extension FlowHandler {
    public func bufferedBytes(_ flow: FlowState<App>) -> Int { 0 }
    public mutating func shed(_ flow: FlowState<App>) -> Bool { true }
}

/// One tracked flow as its handler sees it: key, timing, counters and the handler's decoder state.
/// A reference type so decoders can update their state while a half-stream is delivering to them.
///
/// The packet path does not touch it for a flow that is bypassed or closing (most packets): what
/// every packet updates — time, counters, LRU links — lives in the table's contiguous `FlowSlot`s,
/// and is copied here (`sync`, one write) before the handler looks (a delivery, the flow's end, a
/// snapshot). The half-streams and memory charges are the table's too (`FlowStreams`). So the
/// per-packet path holds no class state — no reference counting, no run-time exclusivity check —
/// and a reassembled segment touches this object only to sync it and to read `bypassed`.
public final class FlowState<App> {
    public let key: FlowKey
    public let firstSeen: Timestamp
    /// Positions in the input of the flow's first and latest packets (the caller's numbering): a
    /// flow's identity and "as of" point that do not depend on which worker saw it (docs/architecture.md "Workers").
    public let firstSeq: Int
    /// The table's slot of this flow (-1 once removed: a flow has a slot from its creation on).
    var slot: Int32 = -1
    /// What the table's slot counts (copied in by `sync`), in one stored value: one write per sync.
    private var activity: Activity
    public var lastSeen: Timestamp { activity.lastSeen }
    public var lastSeq: Int { activity.lastSeq }
    /// Packets and bytes (IP payload, headers included) per direction, indexed by `FlowDirection.rawValue`.
    public var packets: (Int, Int) { activity.packets }
    public var bytes: (Int, Int) { activity.bytes }
    /// The side that sent the first SYN, when seen; else the first packet's sender.
    public internal(set) var initiator: FlowDirection
    public internal(set) var sawSYN = false
    public internal(set) var bypassed = false
    public var app: App!

    struct Activity {
        var lastSeen: Timestamp
        var lastSeq: Int
        var packets: (Int, Int) = (0, 0)
        var bytes: (Int, Int) = (0, 0)
    }

    init(key: FlowKey, time: Timestamp, seq: Int, initiator: FlowDirection) {
        self.key = key
        firstSeen = time
        firstSeq = seq
        activity = Activity(lastSeen: time, lastSeq: seq)
        self.initiator = initiator
    }

    public var isTCP: Bool { key.ipProtocol == .tcp }

    /// The flow has left the table.
    public var removed: Bool { slot < 0 }

    /// Takes the table's per-packet fields (see the type's comment).
    func sync(_ s: FlowSlot<App>) {
        activity = Activity(lastSeen: s.lastSeen, lastSeq: s.lastSeq, packets: s.packets, bytes: s.bytes)
    }
}

/// What the table keeps of a flow beside its slot, reached only for packets it reassembles or
/// delivers: the two half-streams, and what the flow is charged in the table's memory totals. A value
/// in an array the table owns (`FlowTable`), not in the handler's `FlowState`: reassembling a segment
/// then touches no class-held state but the flow's `bypassed` flag.
struct FlowStreams {
    var halves = (TCPHalfStream(), TCPHalfStream())
    /// The flow's reassembly counters are in the table's totals already (it was bypassed).
    var bypassCounted = false
    /// Bytes of this flow counted in the table's reassembly and decoder totals.
    var chargedReassembly = 0
    var chargedDecoder = 0

    /// Moves a half-stream out so it can deliver to a handler (swapped, not copied: a copy retains its buffers).
    mutating func take(_ d: FlowDirection) -> TCPHalfStream {
        var h = TCPHalfStream()
        if d == .lowToHigh { swap(&h, &halves.0) } else { swap(&h, &halves.1) }
        return h
    }

    mutating func put(_ h: consuming TCPHalfStream, _ d: FlowDirection) {
        if d == .lowToHigh { halves.0 = h } else { halves.1 = h }
    }
}

/// What the flow table touches on every packet of a flow, in one contiguous array (`FlowTable`):
/// the key the lookup compares, the clock and counters every packet moves, the LRU links, and the
/// flags that end the packet's path early. Two cache lines, no reference counting.
public struct FlowSlot<App> {
    var key: FlowKey
    /// The key's hash (the index's seed), kept so that removal finds the index entry without hashing again.
    var hash: UInt64
    var lastSeen: Timestamp
    var lastSeq: Int
    var packets: (Int, Int) = (0, 0)
    var bytes: (Int, Int) = (0, 0)
    var newer: Int32 = -1
    var older: Int32 = -1
    /// Counts the slot's uses, so that a queued reference (`closingQueue`) to a flow gone since is told apart.
    var generation: UInt32 = 0
    var bypassed = false
    var closing = false
    /// Listed in the table's touched flows since the last `takeTouched()`.
    var touched = false
    /// The handler's view (nil: the slot is free).
    var state: FlowState<App>?

    init(key: FlowKey, hash: UInt64, time: Timestamp, seq: Int) {
        self.key = key
        self.hash = hash
        lastSeen = time
        lastSeq = seq
    }

    var isTCP: Bool { key.ipProtocol == .tcp }
}
