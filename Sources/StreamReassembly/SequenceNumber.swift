/// A TCP sequence number with wrap-safe arithmetic (RFC 1982 serial numbers).
///
/// The only place raw `UInt32` sequence values are compared: everything else
/// asks for `distance(to:)` or uses `<`, both correct across wraparound.
public struct SequenceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(_ raw: UInt32) { rawValue = raw }

    /// Signed distance from `self` to `other` (positive when `other` is later).
    /// Meaningful while the two are less than 2^31 apart.
    @inlinable public func distance(to other: SequenceNumber) -> Int {
        Int(Int32(bitPattern: other.rawValue &- rawValue))
    }

    @inlinable public static func < (a: SequenceNumber, b: SequenceNumber) -> Bool { a.distance(to: b) > 0 }

    @inlinable public static func + (a: SequenceNumber, n: Int) -> SequenceNumber {
        SequenceNumber(a.rawValue &+ UInt32(truncatingIfNeeded: n))
    }

    public var description: String { String(rawValue) }
}
