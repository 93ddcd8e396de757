/// A bounds-checked, big-endian reader over borrowed packet bytes.
///
/// Every accessor returns nil when too few bytes remain, so decoding code
/// can never trap on a short or lying packet. The view borrows memory owned
/// by the caller and must not outlive it.
public struct ByteView {
    public let base: UnsafeRawBufferPointer

    @inlinable public init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inlinable public var count: Int { base.count }

    /// - Complexity: O(1)
    @inlinable @inline(__always) public func u8(_ offset: Int) -> UInt8? {
        guard offset >= 0, offset < base.count else { return nil }
        return base[offset]
    }

    /// Big-endian 16-bit value at `offset`.
    /// - Complexity: O(1)
    @inlinable @inline(__always) public func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= base.count else { return nil }
        return UInt16(base[offset]) << 8 | UInt16(base[offset + 1])
    }

    /// Big-endian 32-bit value at `offset`.
    /// - Complexity: O(1)
    @inlinable @inline(__always) public func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= base.count else { return nil }
        return UInt32(base[offset]) << 24 | UInt32(base[offset + 1]) << 16
            | UInt32(base[offset + 2]) << 8 | UInt32(base[offset + 3])
    }

    /// Little-endian 32-bit value at `offset` (BSD loopback family field).
    @inlinable public func u32le(_ offset: Int) -> UInt32? {
        guard let v = u32(offset) else { return nil }
        return v.byteSwapped
    }

    /// Big-endian 64-bit value at `offset`.
    @inlinable public func u64(_ offset: Int) -> UInt64? {
        guard let hi = u32(offset), let lo = u32(offset + 4) else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }
}
