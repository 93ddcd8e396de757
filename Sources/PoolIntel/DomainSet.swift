/// Domain names matched by suffix on label boundaries: an entry `nanopool.org`
/// matches `nanopool.org` and `xmr-eu1.nanopool.org`, not `notnanopool.org`.
/// Case-insensitive; a trailing dot is ignored.
public struct DomainSet: Sendable {
    private var entries: [String: PoolEntry] = [:]

    public init() {}

    public var count: Int { entries.count }

    /// Adds or replaces an entry. Returns false when `domain` is not a usable name.
    @discardableResult
    public mutating func insert(_ domain: String, _ entry: PoolEntry) -> Bool {
        guard let d = Self.normalise(domain) else { return false }
        entries[d] = entry
        return true
    }

    /// The most specific entry that `name` falls under.
    /// - Complexity: O(labels in `name`) dictionary lookups.
    public func match(_ name: String) -> PoolMatch? {
        guard !entries.isEmpty, let n = Self.normalise(name) else { return nil }
        var rest = Substring(n)
        while true {
            if let e = entries[String(rest)] { return PoolMatch(name: n, matched: String(rest), entry: e) }
            guard let dot = rest.firstIndex(of: ".") else { return nil }
            rest = rest[rest.index(after: dot)...]
        }
    }

    /// Lower-cased, trailing dot removed; nil for empty names, names over 253 bytes,
    /// labels over 63 bytes or characters no DNS name carries.
    public static func normalise(_ raw: some StringProtocol) -> String? {
        var s = raw.lowercased()
        if s.hasSuffix(".") { s.removeLast() }
        if s.hasPrefix("*.") { s.removeFirst(2) }
        guard !s.isEmpty, s.utf8.count <= 253 else { return nil }
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else { return nil }
            guard label.utf8.allSatisfy({ c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
            }) else { return nil }
        }
        return s
    }
}
