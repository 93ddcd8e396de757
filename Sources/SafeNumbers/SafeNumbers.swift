/// Conversions and arithmetic for numbers that come from the wire, a capture file or the
/// command line. None of these can trap: a value out of range becomes nil or saturates,
/// and the caller decides what that means (usually: an anomaly and a sane fallback).
///
/// Swift's `Int(_: Double)` traps on NaN, infinity and anything outside `Int`'s range, and
/// `+`, `-`, `*` trap on overflow. Every number an adversary can choose goes through here.

extension Double {
    /// The value when it is finite, else nil (NaN and ±infinity are never evidence).
    @inlinable public var finite: Double? { isFinite ? self : nil }
}

extension FixedWidthInteger where Self: SignedInteger {
    /// `Self(value)` rounded toward zero, or nil when `value` is NaN, infinite or out of range.
    @inlinable public init?(checked value: Double) {
        guard value.isFinite, let v = Self(exactly: value.rounded(.towardZero)) else { return nil }
        self = v
    }

    /// `Self(value)` rounded toward zero, clamped to the type's range; NaN becomes 0.
    @inlinable public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if let v = Self(checked: value) {
            self = v
        } else {
            self = value > 0 ? .max : .min
        }
    }

    /// `self + b`, clamped to the type's range.
    @inlinable public func addingSaturated(_ b: Self) -> Self {
        let (r, o) = addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }

    /// `self - b`, clamped to the type's range.
    @inlinable public func subtractingSaturated(_ b: Self) -> Self {
        let (r, o) = subtractingReportingOverflow(b)
        return o ? (b < 0 ? .max : .min) : r
    }

    /// `self * b`, clamped to the type's range.
    @inlinable public func multipliedSaturated(by b: Self) -> Self {
        let (r, o) = multipliedReportingOverflow(by: b)
        return o ? ((self < 0) == (b < 0) ? .max : .min) : r
    }

    /// `self - other` as a Double, exact where it fits and never overflowing where it does not
    /// (times from 1684 and 2255 are further apart than `Int64` can count in nanoseconds).
    @inlinable public func difference(from other: Self) -> Double {
        let (r, o) = subtractingReportingOverflow(other)
        return o ? Double(self) - Double(other) : Double(r)
    }
}

/// Parses a number written in hexadecimal digits only (no sign, no prefix, no spaces):
/// `Int(_:radix:)` accepts "-1" and "+1", which a length field must never be.
/// - Returns: nil when `digits` is empty, holds a non-hex byte, or exceeds `maximum`.
@inlinable public func parseHexDigits<C: Collection>(_ digits: C, maximum: Int) -> Int? where C.Element == UInt8 {
    guard !digits.isEmpty else { return nil }
    var v = 0
    for c in digits {
        let d: Int
        switch c {
        case 48...57: d = Int(c) - 48
        case 97...102: d = Int(c) - 87
        case 65...70: d = Int(c) - 55
        default: return nil
        }
        v = v * 16 + d
        if v > maximum { return nil }
    }
    return v
}
