import DequeModule
import Detection
import Locking
import PacketDecoding
import PoolIntel
import SafeNumbers
import Synchronization

/// A place in the input: the packet's position (1, 2, 3 … across every file of a run) and the
/// analysis clock at that packet. Every worker sees the same point for the same packet.
public struct InputPoint: Sendable, Equatable {
    public var seq: Int
    public var clock: Timestamp
    public init(seq: Int, clock: Timestamp) {
        self.seq = seq
        self.clock = clock
    }
    public static let start = InputPoint(seq: 0, clock: .distantPast)
}

/// Which listed pool name an address goes by, and how we know: a DNS answer (expiring by its TTL, in
/// packet time), a TLS SNI or an HTTP Host header. Only names on a pool list or the allow list are
/// kept — that is all attribution needs, and it keeps the memory (and the lookup every new flow makes)
/// small on busy links. Bounded: the oldest addresses go first.
///
/// Shared by every worker (docs/architecture.md "Workers"), and deterministic whatever their pace: each name is
/// stamped with the point it was learned at, and a lookup asks "as of" a point, seeing only:
/// - names from DNS answers in one unfragmented UDP datagram — learned by the reader before it hands
///   the packet on — from the packets before the lookup's (`atOnce`): a miner connects milliseconds
///   after its lookup;
/// - every other name (SNI, Host, DNS over TCP or in fragments, learned by whichever worker has that
///   flow) learned both `delay` seconds of packet time and `delayPackets` packets before the lookup.
///   The reader never hands out a packet until every worker has finished every packet that far
///   behind it, so such a name is always there when a lookup may see it, and never seen earlier
///   than with one worker. Both, not either: the packet distance is what lets workers run apart
///   (a sparse capture's second holds a few hundred packets, and a rule in time alone made the
///   reader wait for every worker every second), the time is what keeps a name from being seen
///   sooner than a second after it was learned on a dense link.
public final class NameMemory: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var source: NameSource
        public var expires: Timestamp
        /// Nil for an allow-listed name: mining at this address is sanctioned.
        public var match: PoolMatch?
        var learned: InputPoint
        var atOnce: Bool
    }
    /// Versions kept per address, so that a lookup as of an earlier point finds the name it had then.
    /// (A version newer than a lookup's point can push out one it needed: with workers at different
    /// places, that makes a difference only where one address changed names this often in that span.)
    static let versionsPerAddress = 16
    private struct State {
        var versions: [IPAddress: [Entry]] = [:]
        /// Insertion order of addresses, oldest first (a renewed address keeps its place).
        var order = Deque<IPAddress>()
        var evictions = 0
    }
    private let state = Locked(State())
    private let stored = Atomic<Int>(0)
    public let capacity: Int
    /// Nanoseconds of packet time before a name learned by a worker is seen by lookups.
    let delayNanos: Int64
    /// Packets before a name learned by a worker is seen by lookups.
    let delayPackets: Int

    /// Off for live workers: their packets have no common numbering, and a name is meant to be seen
    /// as soon as any worker learned it; every lookup then sees the latest name stored.
    public let inInputOrder: Bool

    public init(
        capacity: Int, delay: Double, delayPackets: Int = Limits().learnedNamePackets, inInputOrder: Bool = true
    ) {
        self.capacity = max(1, capacity)
        delayNanos = max(Int64(saturating: delay * 1e9), 1_000)
        self.delayPackets = max(delayPackets, 1)
        self.inInputOrder = inInputOrder
    }

    /// Addresses dropped to stay within `capacity`.
    public var evictions: Int { state.withLock { $0.evictions } }

    /// Nothing learned yet: the common case on links without mining, decided without the lock.
    var isEmpty: Bool { stored.load(ordering: .acquiring) == 0 }

    /// Remembers that `address` goes by `name` from `point` on (see the type's rules).
    /// - Complexity: O(1) amortised.
    func insert(
        _ address: IPAddress, name: String, match: PoolMatch?, source: NameSource, ttl: Double, at point: InputPoint,
        atOnce: Bool
    ) {
        let entry = Entry(
            name: name, source: source, expires: point.clock.adding(seconds: max(ttl, 1)), match: match,
            learned: point, atOnce: atOnce)
        state.withLock { s in
            if var list = s.versions[address] {
                // Workers learn out of order: keep the versions in input order.
                let i = inInputOrder ? list.firstIndex { $0.learned.seq > point.seq } ?? list.count : list.count
                list.insert(entry, at: i)
                if list.count > Self.versionsPerAddress { list.removeFirst() }
                s.versions[address] = list
                return
            }
            while s.versions.count >= capacity, let victim = s.order.popFirst() {
                if s.versions.removeValue(forKey: victim) != nil { s.evictions += 1 }
            }
            s.order.append(address)
            s.versions[address] = [entry]
            stored.store(s.versions.count, ordering: .releasing)
        }
    }

    /// Whether what happened at `point` is at least both delays before `now`: the one rule both the
    /// lookups and the reader's hold-back use (the same saturating arithmetic, even at absurd times).
    @inline(__always)
    func settled(_ point: InputPoint, asOf now: InputPoint) -> Bool {
        point.seq <= now.seq.subtractingSaturated(delayPackets)
            && point.clock.nanoseconds <= now.clock.nanoseconds.subtractingSaturated(delayNanos)
    }

    /// The name `address` went by as of `point`, unless its TTL ran out before `now`.
    func lookup(_ address: IPAddress, asOf point: InputPoint, now: Timestamp) -> Entry? {
        guard !isEmpty else { return nil }
        let latest: Entry? = state.withLock { s in
            s.versions[address]?.last { v in
                !inInputOrder || v.learned.seq < point.seq && (v.atOnce || settled(v.learned, asOf: point))
            }
        }
        guard let e = latest, e.expires >= now else { return nil }
        return e
    }
}
