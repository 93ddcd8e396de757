/// Reassembles TLS handshake messages from one direction of a stream (RFC 8446 §5.1):
/// records may split a handshake message, and one record may carry several.
///
///     struct { ContentType type; ProtocolVersion legacy_record_version;
///              uint16 length; opaque fragment[length]; } TLSPlaintext;
///     struct { HandshakeType msg_type; uint24 length; ... } Handshake;
public struct TLSHandshakeReader {
    public enum State: Sendable, Equatable {
        /// Still reading plaintext handshake records.
        case handshake
        /// A ChangeCipherSpec or application data record appeared: the rest is encrypted.
        case encrypted
        /// The bytes are not TLS records, or a cap was reached.
        case invalid
    }

    public private(set) var state = State.handshake
    /// The most bytes held for one direction (a certificate chain fits comfortably).
    public let maxBuffered: Int
    private var recordBuffer: [UInt8] = []
    private var handshakeBuffer: [UInt8] = []
    /// Bytes allocated for partial records and handshake messages.
    public var bufferedBytes: Int { recordBuffer.capacity + handshakeBuffer.capacity }

    public init(maxBuffered: Int = 64 * 1024) { self.maxBuffered = maxBuffered }

    /// Feeds in-order bytes; calls `onMessage(type, body)` per complete handshake message.
    /// - Complexity: O(n) in the bytes fed (plus buffer compaction).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onMessage: (UInt8, UnsafeRawBufferPointer) -> Void) {
        guard state == .handshake else { return }
        recordBuffer.append(contentsOf: bytes)
        var start = 0
        while recordBuffer.count - start >= 5 {
            let type = recordBuffer[start]
            let major = recordBuffer[start + 1]
            let length = Int(recordBuffer[start + 3]) << 8 | Int(recordBuffer[start + 4])
            guard major == 3, length <= 16384 + 2048 else {
                state = .invalid
                break
            }
            guard recordBuffer.count - start >= 5 + length else { break }
            let body = (start + 5)..<(start + 5 + length)
            start += 5 + length
            switch type {
            case 22:  // handshake
                handshakeBuffer.append(contentsOf: recordBuffer[body])
                drainHandshake(onMessage)
            case 20, 23:  // change_cipher_spec, application_data
                state = .encrypted
            case 21:  // alert
                continue
            default:
                state = .invalid
            }
            if state != .handshake { break }
        }
        if start > 0 { recordBuffer.removeFirst(min(start, recordBuffer.count)) }
        if recordBuffer.count + handshakeBuffer.count > maxBuffered { state = .invalid }
    }

    private mutating func drainHandshake(_ onMessage: (UInt8, UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while handshakeBuffer.count - start >= 4 {
            let type = handshakeBuffer[start]
            let length =
                Int(handshakeBuffer[start + 1]) << 16 | Int(handshakeBuffer[start + 2]) << 8
                | Int(handshakeBuffer[start + 3])
            guard length <= maxBuffered else {
                state = .invalid
                return
            }
            guard handshakeBuffer.count - start >= 4 + length else { break }
            let s = start + 4
            handshakeBuffer.withUnsafeBytes { onMessage(type, UnsafeRawBufferPointer(rebasing: $0[s..<(s + length)])) }
            start += 4 + length
        }
        if start > 0 { handshakeBuffer.removeFirst(start) }
    }
}

/// A cheap check on a stream's first bytes: a TLS handshake record header.
public enum TLSProbe {
    public static func looksLikeHandshake(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04
    }
}
