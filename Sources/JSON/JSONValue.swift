import SafeNumbers

/// A parsed JSON value (RFC 8259).
///
/// Numbers keep their source text so ids and big values survive exactly;
/// objects keep key order and duplicate keys (the first one wins on lookup).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var isNull: Bool { self == .null }

    /// The value as a finite number: JSON numbers, and strings holding a decimal or 0x-hex number.
    /// Wire numbers are hostile: `1e400`, `"NaN"`, `"inf"`, `"Infinity"` are nil, never ±infinity or NaN.
    public var double: Double? {
        switch self {
        case .number(let t): return Double(t)?.finite
        case .string(let s):
            if s.hasPrefix("0x") || s.hasPrefix("0X") { return JSONValue.hexToDouble(s.dropFirst(2)) }
            // Only plain decimal spellings: Swift's Double("nan"), Double("inf"), Double("0x1p3") all parse.
            guard let f = s.utf8.first, f == UInt8(ascii: "-") || (f >= 48 && f <= 57),
                s.utf8.allSatisfy({
                    ($0 >= 48 && $0 <= 57) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45
                })
            else { return nil }
            return Double(s)?.finite
        default: return nil
        }
    }

    /// The value as a whole number within `range` (a port, a count, a height), else nil.
    /// Fractions, out-of-range values and non-finite spellings are nil, never a trap.
    public func integer(in range: ClosedRange<Int>) -> Int? {
        guard let d = double, d == d.rounded(.towardZero), let i = Int(checked: d), range.contains(i) else {
            return nil
        }
        return i
    }

    /// Parses hex digits of any length into a Double (for 256-bit targets).
    public static func hexToDouble(_ hex: Substring) -> Double? {
        guard !hex.isEmpty, hex.count <= 128 else { return nil }
        var v = 0.0
        for c in hex.utf8 {
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 97...102: d = c - 87
            case 65...70: d = c - 55
            default: return nil
            }
            v = v * 16 + Double(d)
        }
        return v
    }

    /// A stable text form of an id for request/response matching.
    public var idKey: String? {
        switch self {
        case .number(let t): return "n:" + (Double(t).map { String($0) } ?? t)
        case .string(let s): return "s:" + s
        default: return nil
        }
    }
}

/// JSON object members in source order.
public struct JSONObject: Equatable, Sendable {
    public var members: [(key: String, value: JSONValue)]
    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    /// - Complexity: O(n) in the member count (mining messages have a handful).
    public subscript(key: String) -> JSONValue? {
        for m in members where m.key == key { return m.value }
        return nil
    }

    public var keys: [String] { members.map(\.key) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
