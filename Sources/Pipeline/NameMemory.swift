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
/// small on busy links. Bounded, in parts (`init(…, stores:)`): in each, the oldest address goes first
/// — for the lookups that know of the insertion that pushed it out (`lookup`), so that what a full
/// memory forgets, like what it knows, depends on the input and not on the threads.
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
        /// Which part of the memory holds it (`insert(…, store:)`).
        var store: Int
        /// The insertion that pushed it out of its store (the store was full, or the address had too
        /// many names): from then on it is gone — for a lookup that knows of that insertion
        /// (`lookup`'s rule); until every lookup does, it is kept (`purge`).
        var gone: InputPoint?
    }
    /// Versions kept per address and store, so that a lookup as of an earlier point finds the name it had then.
    static let versionsPerAddress = 16
    private struct Store {
        /// Addresses with a name here, in the order they came (a renewed address keeps its place).
        var order = Deque<IPAddress>()
        /// Names pushed out and not yet purged, in the order they went.
        var gone = Deque<(address: IPAddress, at: InputPoint)>()
        var capacity: Int
    }
    private struct State {
        var versions: [IPAddress: [Entry]] = [:]
        var stores: [Store]
        var evictions = 0
    }
    private let state: Locked<State>
    private let stored = Atomic<Int>(0)
    /// Names pushed out and not yet purged: most runs have none, and `purge` is then not even a lock.
    private let pushedOut = Atomic<Int>(0)
    public let capacity: Int
    /// Nanoseconds of packet time before a name learned by a worker is seen by lookups.
    let delayNanos: Int64
    /// Packets before a name learned by a worker is seen by lookups.
    let delayPackets: Int

    /// Off for live workers: their packets have no common numbering, and a name is meant to be seen
    /// as soon as any worker learned it; every lookup then sees the latest name stored.
    public let inInputOrder: Bool

    /// - Parameter stores: parts with a share of `capacity` each, every part filled in input order by
    ///   one inserter, so that what a full part forgets is decided by the input, not by the threads:
    ///   store 0 is the reader's (DNS answers learned at once: half the capacity), stores 1… the
    ///   shards' (names learned inside flows: the other half, split evenly). One store: all of it.
    public init(
        capacity: Int, delay: Double, delayPackets: Int = Limits().learnedNamePackets, inInputOrder: Bool = true,
        stores: Int = 1
    ) {
        self.capacity = max(1, capacity)
        delayNanos = max(Int64(saturating: delay * 1e9), 1_000)
        self.delayPackets = max(delayPackets, 1)
        self.inInputOrder = inInputOrder
        let total = max(1, capacity)
        let parts = max(1, stores)
        let shares =
            parts == 1
            ? [total]
            : [max(1, total / 2)] + Array(repeating: max(1, (total - total / 2) / (parts - 1)), count: parts - 1)
        state = Locked(State(stores: shares.map { Store(capacity: $0) }))
    }

    /// Addresses dropped to stay within `capacity`.
    public var evictions: Int { state.withLock { $0.evictions } }

    /// Nothing learned yet: the common case on links without mining, decided without the lock.
    var isEmpty: Bool { stored.load(ordering: .acquiring) == 0 }

    /// Remembers that `address` goes by `name` from `point` on (see the type's rules), in `store`.
    /// - Complexity: O(1) amortised.
    func insert(
        _ address: IPAddress, name: String, match: PoolMatch?, source: NameSource, ttl: Double, at point: InputPoint,
        atOnce: Bool, store: Int = 0
    ) {
        state.withLock { s in
            let x = min(max(store, 0), s.stores.count - 1)
            let entry = Entry(
                name: name, source: source, expires: point.clock.adding(seconds: max(ttl, 1)), match: match,
                learned: point, atOnce: atOnce, store: x)
            // The address's versions changed in place (taken out and put back, a list would be copied).
            if s.versions[address] == nil { s.versions[address] = [] }
            let k = s.versions.index(forKey: address)!
            let (isNew, pushed) = Self.add(entry, to: &s.versions.values[k], inInputOrder: inInputOrder)
            if pushed {
                s.stores[x].gone.append((address, point))
                pushedOut.add(1, ordering: .relaxed)
            }
            if isNew {
                if s.stores[x].order.count >= s.stores[x].capacity, let victim = s.stores[x].order.popFirst() {
                    s.evictions += 1
                    if let v = s.versions.index(forKey: victim) {
                        for j in s.versions.values[v].indices
                        where s.versions.values[v][j].store == x && s.versions.values[v][j].gone == nil {
                            s.versions.values[v][j].gone = point
                            s.stores[x].gone.append((victim, point))
                            pushedOut.add(1, ordering: .relaxed)
                        }
                    }
                }
                s.stores[x].order.append(address)
            }
            if !inInputOrder { purge(&s, all: true) }
            stored.store(s.versions.count, ordering: .releasing)
        }
    }

    /// Puts `entry` among an address's versions, in input order; returns whether its store had no
    /// name for the address yet, and whether one of the store's versions was pushed out (more than
    /// `versionsPerAddress`; marked gone at `entry.learned`). Names pushed out and still kept for
    /// lookups that do not know yet are at most as many again (an address renamed that often within
    /// a second is a flood): beyond, the oldest goes at once.
    private static func add(_ entry: Entry, to list: inout [Entry], inInputOrder: Bool) -> (isNew: Bool, pushed: Bool) {
        let x = entry.store
        let isNew = !list.contains { $0.store == x && $0.gone == nil }
        let i = inInputOrder ? list.firstIndex { $0.learned.seq > entry.learned.seq } ?? list.count : list.count
        list.insert(entry, at: i)
        var live = 0
        var oldest: Int?
        var gone = 0
        var oldestGone: Int?
        for j in list.indices where list[j].store == x {
            if list[j].gone == nil {
                live += 1
                if oldest == nil { oldest = j }
            } else {
                gone += 1
                if oldestGone == nil { oldestGone = j }
            }
        }
        var pushed = false
        if live > versionsPerAddress, let j = oldest {
            list[j].gone = entry.learned
            pushed = true
        }
        if gone >= versionsPerAddress, let j = oldestGone { list.remove(at: j) }
        return (isNew, pushed)
    }

    /// Whether lookups at `now` know of what store `x` did at `point`: the reader's store, of what it
    /// did at any earlier packet (it does it before handing the packet on); a shard's, of what it did
    /// far enough back (`settled`): the same rule as for the names themselves.
    @inline(__always)
    private func known(_ point: InputPoint, store x: Int, at now: InputPoint) -> Bool {
        x == 0 ? point.seq < now.seq : settled(point, asOf: now)
    }

    /// Drops for good the names every lookup from now on knows are gone: lookups are made at
    /// `lowWater` or later (the oldest packet a worker may still be processing).
    func purge(lowWater: @autoclosure () -> InputPoint) {
        guard pushedOut.load(ordering: .relaxed) > 0 else { return }
        let low = lowWater()  // worked out only when something may go
        state.withLock { s in
            purge(&s, lowWater: low)
            stored.store(s.versions.count, ordering: .releasing)
        }
    }

    private func purge(_ s: inout State, lowWater: InputPoint? = nil, all: Bool = false) {
        for x in s.stores.indices {
            while let (address, at) = s.stores[x].gone.first {
                if !all, let low = lowWater, !known(at, store: x, at: low) { break }
                s.stores[x].gone.removeFirst()
                pushedOut.subtract(1, ordering: .relaxed)
                guard let k = s.versions.index(forKey: address) else { continue }
                if let j = s.versions.values[k].firstIndex(where: { $0.store == x && $0.gone == at }) {
                    s.versions.values[k].remove(at: j)
                }
                if s.versions.values[k].isEmpty { s.versions.remove(at: k) }
            }
        }
    }

    @inline(__always)
    private func visible(_ v: Entry, asOf point: InputPoint, at now: InputPoint) -> Bool {
        guard inInputOrder else { return v.gone == nil }
        guard v.learned.seq < point.seq && (v.atOnce || settled(v.learned, asOf: point)) else { return false }
        guard let gone = v.gone else { return true }
        return !known(gone, store: v.store, at: now)
    }

    /// Whether what happened at `point` is at least both delays before `now`: the one rule both the
    /// lookups and the reader's hold-back use (the same saturating arithmetic, even at absurd times).
    @inline(__always)
    func settled(_ point: InputPoint, asOf now: InputPoint) -> Bool {
        point.seq <= now.seq.subtractingSaturated(delayPackets)
            && point.clock.nanoseconds <= now.clock.nanoseconds.subtractingSaturated(delayNanos)
    }

    /// The name `address` went by as of `point` — looked up at `now` (the packet being processed,
    /// `point` itself unless a flow ends later than its last packet): a name pushed out by an
    /// insertion the lookup knows of is gone, whatever the threads have done since. Nil when its TTL
    /// ran out before `time`.
    func lookup(_ address: IPAddress, asOf point: InputPoint, now time: Timestamp, at now: InputPoint? = nil) -> Entry?
    {
        guard !isEmpty else { return nil }
        let now = now ?? point
        let latest: Entry? = state.withLock { s in
            guard let i = s.versions.index(forKey: address) else { return nil }
            return s.versions.values[i].withUnsafeBufferPointer { list in
                // In input order: skip at once the versions learned at or after `point` (a reader far
                // ahead of this worker may have added many).
                var end = list.count
                if inInputOrder {
                    var low = 0
                    while low < end {
                        let mid = (low + end) / 2
                        if list[mid].learned.seq < point.seq { low = mid + 1 } else { end = mid }
                    }
                }
                for j in (0..<end).reversed() where visible(list[j], asOf: point, at: now) { return list[j] }
                return nil
            }
        }
        guard let e = latest, e.expires >= time else { return nil }
        return e
    }
}
