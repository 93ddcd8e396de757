import SafeNumbers

/// Packet time in nanoseconds since the Unix epoch.
///
/// Core code never reads the wall clock: all time comes from packets, so
/// a capture analysed twice gives the same answer. Packet times are hostile input
/// (a pcapng `if_tsoffset` can put them anywhere in Int64's range): all arithmetic
/// here saturates instead of trapping or wrapping.
public struct Timestamp: Hashable, Comparable, Sendable, Codable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64, nanos: Int64 = 0) {
        self.nanoseconds = seconds.multipliedSaturated(by: 1_000_000_000).addingSaturated(nanos)
    }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }
    public static let zero = Timestamp(nanoseconds: 0)
    /// Earlier than any packet: the value of a clock that has not seen one yet.
    public static let distantPast = Timestamp(nanoseconds: .min)

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// `self` moved by `s` seconds, clamped to the representable range (NaN moves nothing).
    public func adding(seconds s: Double) -> Timestamp {
        Timestamp(nanoseconds: nanoseconds.addingSaturated(Int64(saturating: s * 1e9)))
    }

    /// Seconds from `other` to `self` (never overflows: far-apart times lose sub-microsecond precision).
    public func since(_ other: Timestamp) -> Double { nanoseconds.difference(from: other.nanoseconds) / 1e9 }
}
