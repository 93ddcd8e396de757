import PacketDecoding

/// Where a live sensor's packets come from. `LiveCapture` (a libpcap handle) is the one there is; an
/// AF_PACKET ring handed to workers without a copy, or an AF_XDP socket, would be another conformer —
/// `LiveLoop` and `LiveWorkers` see only this. A source is read from one thread.
public protocol PacketSource: AnyObject {
    /// The interface (or whatever the source reads), as reports and metrics name it.
    var name: String { get }
    /// A descriptor that polls readable when packets wait (the loop sleeps on it).
    var selectableFileDescriptor: Int32 { get }
    /// Hands every waiting packet (at most `limit`) to `body`; returns how many. The packet's bytes
    /// are borrowed for the call only.
    func readAvailable(limit: Int, _ body: (CapturedPacket) -> Void) throws(CaptureError) -> Int
    /// Received and dropped so far.
    func statistics() -> CaptureStatistics
}

extension PacketSource {
    public func readAvailable(_ body: (CapturedPacket) -> Void) throws(CaptureError) -> Int {
        try readAvailable(limit: 4096, body)
    }
}

extension LiveCapture: PacketSource {}
