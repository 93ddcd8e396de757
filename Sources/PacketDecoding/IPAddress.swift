/// An IPv4 or IPv6 address stored inline (no heap allocation).
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// Loopback, private (RFC 1918, CGNAT, unique local), link-local, unspecified, multicast or
    /// broadcast: an address of someone's own network, never a public server's.
    public var isPrivateOrLocal: Bool {
        switch self {
        case .v4(let v):
            let b0 = v >> 24
            let b1 = (v >> 16) & 0xFF
            return b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224 || (b0 == 172 && (16...31).contains(b1))
                || (b0 == 192 && b1 == 168)
                || (b0 == 169 && b1 == 254) || (b0 == 100 && (64...127).contains(b1))
        case .v6(let hi, let lo):
            if hi == 0 && (lo == 0 || lo == 1) { return true }
            if hi == 0 && lo >> 32 == 0xFFFF { return IPAddress.v4(UInt32(truncatingIfNeeded: lo)).isPrivateOrLocal }
            let top = hi >> 48
            return top & 0xFE00 == 0xFC00 || top & 0xFFC0 == 0xFE80 || top & 0xFF00 == 0xFF00
        }
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` compression).
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let v = IPAddress.parseV6(String(text)) else { return nil }
            self = v
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let b = UInt8(p) else { return nil }
                value = value << 8 | UInt32(b)
            }
            self = .v4(value)
        }
    }

    private static func parseV6(_ text: String) -> IPAddress? {
        var halves: [String] = []
        let chars = Array(text)
        var cur = ""
        var i = 0
        while i < chars.count {
            if chars[i] == ":" && i + 1 < chars.count && chars[i + 1] == ":" {
                halves.append(cur)
                cur = ""
                i += 2
            } else {
                cur.append(chars[i])
                i += 1
            }
        }
        halves.append(cur)
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(all[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(all[i]) }
        return .v6(hi, lo)
    }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)"
        case .v6(let hi, let lo):
            var g: [UInt16] = []
            for i in stride(from: 48, through: 0, by: -16) { g.append(UInt16(truncatingIfNeeded: hi >> UInt64(i))) }
            for i in stride(from: 48, through: 0, by: -16) { g.append(UInt16(truncatingIfNeeded: lo >> UInt64(i))) }
            // RFC 5952: compress the longest run (length >= 2) of zero groups.
            var bestStart = -1
            var bestLen = 0
            var i = 0
            while i < 8 {
                if g[i] == 0 {
                    var j = i
                    while j < 8 && g[j] == 0 { j += 1 }
                    if j - i > bestLen && j - i >= 2 {
                        bestStart = i
                        bestLen = j - i
                    }
                    i = j
                } else {
                    i += 1
                }
            }
            func hex(_ r: Range<Int>) -> String { r.map { String(g[$0], radix: 16) }.joined(separator: ":") }
            if bestStart < 0 { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
        }
    }

    /// "ip:port", bracketing IPv6 addresses.
    public func endpoint(port: UInt16) -> String {
        isIPv6 ? "[\(self)]:\(port)" : "\(self):\(port)"
    }
}
