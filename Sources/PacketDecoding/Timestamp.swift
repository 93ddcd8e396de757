/// Packet time in nanoseconds since the Unix epoch.
///
/// Core code never reads the wall clock: all time comes from packets, so
/// a capture analysed twice gives the same answer.
public struct Timestamp: Hashable, Comparable, Sendable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64, nanos: Int64 = 0) { self.nanoseconds = seconds &* 1_000_000_000 &+ nanos }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }
    public static let zero = Timestamp(nanoseconds: 0)

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public func adding(seconds s: Double) -> Timestamp { Timestamp(nanoseconds: nanoseconds &+ Int64(s * 1e9)) }

    /// Seconds from `other` to `self`.
    public func since(_ other: Timestamp) -> Double { Double(nanoseconds &- other.nanoseconds) / 1e9 }
}
