/// Domain names matched by suffix on label boundaries: an entry `nanopool.org`
/// matches `nanopool.org` and `xmr-eu1.nanopool.org`, not `notnanopool.org`.
/// Case-insensitive; a trailing dot is ignored.
public struct DomainSet: Sendable {
    private var entries: [String: PoolEntry] = [:]
    /// The last two labels of every entry ("nanopool.org" for "xmr.nanopool.org"): most names
    /// looked up (every DNS question, SNI and Host) share no such tail with any entry, and are
    /// rejected with one hash lookup instead of one per label.
    private var tails: Set<UInt64> = []
    private var hasSingleLabelEntries = false

    public init() {}

    public var count: Int { entries.count }

    /// Adds or replaces an entry. Returns false when `domain` is not a usable name.
    @discardableResult
    public mutating func insert(_ domain: String, _ entry: PoolEntry) -> Bool {
        guard let d = Self.normalise(domain) else { return false }
        entries[d] = entry
        let bytes = Array(d.utf8)
        if let t = Self.tailStart(bytes) {
            tails.insert(Self.tailHash(bytes[t...]))
        } else {
            hasSingleLabelEntries = true
        }
        return true
    }

    /// Whether a name ending in `tail` — its last two labels, as `match` takes them — can fall under
    /// an entry: false means `match` finds nothing for any such name (the test it starts with), true
    /// that only `match` can tell. For callers that see a name's bytes before it is a `String`.
    public func mayMatch(tail: UnsafeRawBufferPointer) -> Bool {
        guard !entries.isEmpty else { return false }
        return hasSingleLabelEntries || tails.contains(Self.tailHash(tail))
    }

    /// The most specific entry that `name` falls under.
    /// - Complexity: O(length of `name`). A name whose last two labels match no entry's
    ///   (nearly every name on a real network) is rejected without allocating.
    public func match(_ name: String) -> PoolMatch? {
        guard !entries.isEmpty else { return nil }
        var utf8 = name.utf8[...]
        if utf8.last == 0x2E { utf8 = utf8.dropLast() }
        guard !utf8.isEmpty, utf8.count <= 253 else { return nil }
        if !hasSingleLabelEntries {
            // Find where the last two labels start, then hash them lower-cased, without copying.
            var dots = 0
            var start = utf8.endIndex
            var i = utf8.endIndex
            while i > utf8.startIndex {
                let j = utf8.index(before: i)
                if utf8[j] == 0x2E {
                    dots += 1
                    if dots == 2 { break }
                }
                start = j
                i = j
            }
            guard dots >= 1, tails.contains(Self.tailHash(utf8[start...])) else { return nil }
        }
        guard let b = Self.canonical(name.utf8) else { return nil }
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

    /// FNV-1a over ASCII-lower-cased bytes: a prefilter only (a collision just means a full lookup).
    static func tailHash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in bytes {
            h ^= UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
            h = h &* 0x100_0000_01b3
        }
        return h
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
        var utf8 = Substring(raw).utf8[...]
        if utf8.starts(with: "*.".utf8) { utf8 = utf8.dropFirst(2) }
        return canonical(utf8).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The one rule for both list entries and looked-up names: trailing dot dropped, ASCII
    /// lower-cased, letters, digits, '-' and '_' in non-empty labels of at most 63 bytes,
    /// 253 bytes in all. Anything else is no name a pool list can mean.
    static func canonical<C: Collection>(_ utf8: C) -> [UInt8]? where C.Element == UInt8 {
        var b = Array(utf8)
        if b.last == 0x2E { b.removeLast() }
        guard !b.isEmpty, b.count <= 253 else { return nil }
        var label = 0
        for i in b.indices {
            let c = b[i]
            if c == 0x2E {
                guard label > 0 else { return nil }
                label = 0
                continue
            }
            if c >= 0x41 && c <= 0x5A {
                b[i] = c | 0x20
            } else {
                guard (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F else { return nil }
            }
            label += 1
            guard label <= 63 else { return nil }
        }
        return label > 0 ? b : nil
    }
}
