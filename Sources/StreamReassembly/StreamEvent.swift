/// What the reassembler hands to a protocol decoder for one direction of a flow.
///
/// A gap is an event, not an error: the decoder learns that `n` bytes were
/// never seen and resynchronises (Zeek's "Undelivered").
public enum StreamEvent {
    /// In-order bytes, borrowed for the duration of the call.
    case data(UnsafeRawBufferPointer)
    /// `n` bytes of the stream were lost (capture loss, a cap, a stream picked up mid-way).
    case gap(Int)
    /// One UDP datagram's payload, borrowed.
    case datagram(UnsafeRawBufferPointer)
    /// This direction finished (FIN reached, RST, eviction or expiry).
    case end
}

/// A decoder's answer to an event.
public enum StreamDecision: Sendable {
    /// Keep delivering.
    case `continue`
    /// Nothing here interests any decoder: later packets cost a table lookup only.
    case bypass
}

/// Which way a packet travels relative to the flow's canonical key.
public enum FlowDirection: Int, Sendable {
    /// From the key's `low` endpoint to its `high` endpoint.
    case lowToHigh = 0
    case highToLow = 1
    public var reversed: FlowDirection { self == .lowToHigh ? .highToLow : .lowToHigh }
}

/// Why a flow left the table.
public enum FlowEndReason: String, Sendable {
    case closed, reset, idle, evicted, finished
}
