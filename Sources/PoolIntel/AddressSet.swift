import PacketDecoding

/// Addresses and CIDR blocks, each optionally restricted to one port.
public struct AddressSet: Sendable {
    public struct Block: Sendable, Hashable, CustomStringConvertible {
        public var network: IPAddress
        public var prefix: Int
        public var port: UInt16?

        public var description: String {
            let full = network.isIPv6 ? 128 : 32
            let net = prefix == full ? network.description : "\(network)/\(prefix)"
            guard let port else { return net }
            return network.isIPv6 ? "[\(net)]:\(port)" : "\(net):\(port)"
        }
    }

    /// Entries grouped by prefix length, keyed by the masked network, so a lookup
    /// costs one probe per distinct prefix length present (not per entry).
    private var byPrefix: [Int: [IPAddress: [(Block, PoolEntry)]]] = [:]
    private var prefixes: [Int] = []
    public private(set) var count = 0

    public init() {}

    public mutating func insert(_ block: Block, _ entry: PoolEntry) {
        let key = Self.mask(block.network, block.prefix)
        let p = (block.network.isIPv6 ? 1000 : 0) + block.prefix
        if byPrefix[p] == nil {
            prefixes.append(p)
            prefixes.sort(by: >)
        }
        byPrefix[p, default: [:]][key, default: []].append((block, entry))
        count += 1
    }

    /// The most specific block containing `address` (and `port`, for blocks that name one).
    /// - Complexity: O(distinct prefix lengths).
    public func match(_ address: IPAddress, port: UInt16? = nil) -> (Block, PoolEntry)? {
        guard count > 0 else { return nil }
        let v6 = address.isIPv6
        for p in prefixes where (p >= 1000) == v6 {
            let len = v6 ? p - 1000 : p
            guard let list = byPrefix[p]?[Self.mask(address, len)] else { continue }
            if let hit = list.first(where: { $0.0.port == nil || $0.0.port == port }) { return hit }
        }
        return nil
    }

    static func mask(_ a: IPAddress, _ prefix: Int) -> IPAddress {
        switch a {
        case .v4(let v):
            let m: UInt32 = prefix <= 0 ? 0 : (prefix >= 32 ? ~0 : ~0 << UInt32(32 - prefix))
            return .v4(v & m)
        case .v6(let hi, let lo):
            func m(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : (bits >= 64 ? ~0 : ~0 << UInt64(64 - bits)) }
            return .v6(hi & m(prefix), lo & m(prefix - 64))
        }
    }

    /// Parses "192.0.2.7", "192.0.2.0/24", "192.0.2.7:3333", "2001:db8::/32", "[2001:db8::1]:443".
    public static func parseBlock(_ text: some StringProtocol) -> Block? {
        var s = Substring(text)
        var port: UInt16?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let after = s[s.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = UInt16(after.dropFirst()), p > 0 else { return nil }
                port = p
            }
            s = s[s.index(after: s.startIndex)..<close]
        } else if s.filter({ $0 == ":" }).count == 1 {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard let p = UInt16(parts[1]), p > 0 else { return nil }
            port = p
            s = parts[0]
        }
        var prefix: Int?
        if let slash = s.firstIndex(of: "/") {
            guard let p = Int(s[s.index(after: slash)...]) else { return nil }
            prefix = p
            s = s[..<slash]
        }
        guard let addr = IPAddress(s) else { return nil }
        let full = addr.isIPv6 ? 128 : 32
        let len = prefix ?? full
        guard len >= 0, len <= full else { return nil }
        return Block(network: mask(addr, len), prefix: len, port: port)
    }

    /// Whether `text` looks like an address or block rather than a domain name.
    static func looksLikeAddress(_ text: Substring) -> Bool {
        text.hasPrefix("[") || text.contains(":") || text.contains("/")
            || text.allSatisfy { $0.isNumber || $0 == "." }
    }
}
