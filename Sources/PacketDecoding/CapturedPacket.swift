/// One captured frame, borrowed for the duration of a callback.
///
/// `bytes` points into the capture library's buffer (or a file's mapping) and is only valid
/// inside the callback that received it: copy what must outlive it. (Here rather than in
/// PacketCapture so that the pipeline can take frames in batches without depending on libpcap.)
public struct CapturedPacket {
    public var timestamp: Timestamp
    public var linkType: LinkType
    public var bytes: UnsafeRawBufferPointer
    /// Length on the wire (may exceed `bytes.count` when the snapshot length cut it).
    public var originalLength: Int

    public init(timestamp: Timestamp, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int) {
        self.timestamp = timestamp
        self.linkType = linkType
        self.bytes = bytes
        self.originalLength = originalLength
    }
}
