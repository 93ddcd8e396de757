/// Follows the record layer of one direction of a TLS stream without holding any record body:
/// the 5-byte header (type, version, length) of each record, whatever the TCP segmentation, so a
/// flow's encrypted messages can be timed and sized (the behaviour model) at no memory cost.
public struct TLSRecordWalker: Sendable {
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
    private var headerCount = 0
    /// Body bytes of the current record still to skip.
    private var remaining = 0
    /// The bytes stopped looking like TLS records (an unknown type, a major version ≠ 3, an
    /// over-long record): nothing more is reported.
    public private(set) var invalid = false

    public init() {}

    /// Feeds in-order bytes; calls `onRecord(type, length)` as each record's header completes.
    /// - Complexity: O(records) plus O(1) per call; the bodies are skipped, not read.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onRecord: (UInt8, Int) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n && !invalid {
            if remaining > 0 {
                let skip = min(remaining, n - i)
                remaining -= skip
                i += skip
                continue
            }
            switch headerCount {
            case 0: header.0 = bytes[i]
            case 1: header.1 = bytes[i]
            case 2: header.2 = bytes[i]
            case 3: header.3 = bytes[i]
            default: header.4 = bytes[i]
            }
            headerCount += 1
            i += 1
            guard headerCount == 5 else { continue }
            headerCount = 0
            let length = Int(header.3) << 8 | Int(header.4)
            // RFC 8446 §5.2: a ciphertext record is at most 2^14 + 256 bytes; TLS 1.2 allows 2^14 + 2048.
            guard (20...24).contains(header.0), header.1 == 3, length <= 16384 + 2048 else {
                invalid = true
                return
            }
            remaining = length
            onRecord(header.0, length)
        }
    }
}
