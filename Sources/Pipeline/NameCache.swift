import DequeModule
import Detection
import PacketDecoding
import PoolIntel

/// Which listed pool name an address was last seen under, and how we know: a DNS answer
/// (expiring by its TTL, in packet time), a TLS SNI or an HTTP Host header. Only names on
/// a pool list or the allow list are kept — that is all attribution needs, and it keeps the cache
/// (and the lookup every new flow makes) small on busy links. Bounded: oldest insertions go first.
struct NameCache {
    struct Entry {
        var name: String
        var source: NameSource
        var expires: Timestamp
        /// Nil for an allow-listed name: mining at this address is sanctioned.
        var match: PoolMatch?
    }
    let capacity: Int
    private var entries: [IPAddress: Entry] = [:]
    /// Insertion order, oldest first (a renewed entry keeps its place).
    private var order = Deque<IPAddress>()
    private(set) var evictions = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var isEmpty: Bool { entries.isEmpty }

    /// - Complexity: O(1) amortised.
    mutating func insert(_ address: IPAddress, name: String, match: PoolMatch?, source: NameSource, ttl: Double, now: Timestamp) {
        let expires = now.adding(seconds: max(ttl, 1))
        if entries[address] == nil {
            while entries.count >= capacity, let victim = order.popFirst() {
                if entries.removeValue(forKey: victim) != nil { evictions += 1 }
            }
            order.append(address)
        }
        entries[address] = Entry(name: name, source: source, expires: expires, match: match)
    }

    /// The name for `address` unless its TTL ran out before `now`.
    func lookup(_ address: IPAddress, now: Timestamp) -> Entry? {
        guard let e = entries[address], e.expires >= now else { return nil }
        return e
    }
}
