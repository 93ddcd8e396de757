/// The one bounds-checked cursor the decoders read wire bytes with: each read checks what is left
/// and returns nil (nothing consumed) when the bytes run out, so a length that lies can never read
/// past the buffer or trap. Big-endian by default (network order), little-endian where a protocol
/// says so (Stratum V2). Borrows the caller's memory for as long as the caller holds it.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - offset }
    @inlinable public var atEnd: Bool { offset >= bytes.count }

    public mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func u24() -> Int? {
        guard remaining >= 3 else { return nil }
        defer { offset += 3 }
        return Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
    }

    public mutating func u16le() -> UInt16? { u16()?.byteSwapped }

    public mutating func u32le() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(
            bytes[offset + 3]) << 24
    }

    /// The next `n` bytes (borrowed), or nil when fewer remain (or `n` is negative).
    public mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= remaining else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }

    /// Skips `n` bytes; false (nothing skipped) when fewer remain.
    public mutating func skip(_ n: Int) -> Bool { take(n) != nil }
}
