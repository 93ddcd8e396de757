/// Domain names matched by suffix on label boundaries: an entry `nanopool.org`
/// matches `nanopool.org` and `xmr-eu1.nanopool.org`, not `notnanopool.org`.
/// Case-insensitive; a trailing dot is ignored.
public struct DomainSet: Sendable {
    private var entries: [String: PoolEntry] = [:]
    /// The last two labels of every entry ("nanopool.org" for "xmr.nanopool.org"): most names
    /// looked up (every DNS question, SNI and Host) share no such tail with any entry, and are
    /// rejected with one hash lookup instead of one per label.
    private var tails: Set<String> = []
    private var hasSingleLabelEntries = false

    public init() {}

    public var count: Int { entries.count }

    /// Adds or replaces an entry. Returns false when `domain` is not a usable name.
    @discardableResult
    public mutating func insert(_ domain: String, _ entry: PoolEntry) -> Bool {
        guard let d = Self.normalise(domain) else { return false }
        entries[d] = entry
        let bytes = Array(d.utf8)
        if let t = Self.tailStart(bytes) { tails.insert(String(decoding: bytes[t...], as: UTF8.self)) } else { hasSingleLabelEntries = true }
        return true
    }

    /// The most specific entry that `name` falls under.
    /// - Complexity: O(length of `name`), one allocation; one hash lookup per label only when the tail matches.
    public func match(_ name: String) -> PoolMatch? {
        guard !entries.isEmpty else { return nil }
        var b = Array(name.utf8)
        if b.last == 0x2E { b.removeLast() }
        guard !b.isEmpty, b.count <= 253 else { return nil }
        for i in b.indices {
            let c = b[i]
            if c >= 0x41 && c <= 0x5A { b[i] = c | 0x20; continue }
            guard (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F || c == 0x2E else { return nil }
        }
        if !hasSingleLabelEntries {
            guard let t = Self.tailStart(b), tails.contains(String(decoding: b[t...], as: UTF8.self)) else { return nil }
        }
        let full = String(decoding: b, as: UTF8.self)
        var start = 0
        while start < b.count {
            let candidate = start == 0 ? full : String(decoding: b[start...], as: UTF8.self)
            if let e = entries[candidate] { return PoolMatch(name: full, matched: candidate, entry: e) }
            guard let dot = b[start...].firstIndex(of: 0x2E) else { return nil }
            start = dot + 1
        }
        return nil
    }

    /// Index where the last two labels begin, nil for a single-label name.
    static func tailStart(_ b: [UInt8]) -> Int? {
        guard let last = b.lastIndex(of: 0x2E) else { return nil }
        guard let prev = b[..<last].lastIndex(of: 0x2E) else { return 0 }
        return prev + 1
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
