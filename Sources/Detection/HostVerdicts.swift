import DequeModule
import PacketDecoding
import PoolIntel
import SafeNumbers
import Stratum

/// Turns mining sessions into per-host verdicts (the scoring model in README).
public struct HostVerdicts: Sendable {
    struct HostEvidence {
        var miner: Deque<SessionRecord> = []
        var pool: Deque<SessionRecord> = []
        var other: [Evidence] = []
        var otherIndex: [String: Int] = [:]
        /// Records of `other` that were measurements only when they came (`Evidence.isMeasurementOnly`).
        var measured = 0
        /// Sessions let go of to bound memory on a long-running sensor (the store keeps them all).
        var retired = 0
        var retiredFirstSeen: Timestamp?
        /// How much the host's evidence is worth keeping (see `Tier`).
        var tier = Tier.weak
        /// Bumped on every update; an entry in `activity` is current only with the latest one.
        var seq = 0
        /// What this host's entry holds in memory (`MemoryCost`), its records included.
        var bytes = HostVerdicts.hostCost
    }
    public private(set) var sessionsRetired = 0
    private(set) var byHost: [IPAddress: HostEvidence] = [:]
    public var policy: ScoringPolicy
    public let limits: HostLimits
    public private(set) var evidenceDropped = 0
    /// New hosts refused because the table was full of hosts with at least as strong claims.
    public private(set) var hostsDropped = 0
    /// Hosts let go of (least recently active, lowest tier first) to make room for a newcomer.
    public private(set) var hostsEvicted = 0
    /// What a host's evidence is worth when the table is full (docs/hostile-input.md "Caps").
    enum Tier: Int, Comparable {
        /// Measurements of flows that did not behave like mining, nothing else: context, first to go.
        case measured
        /// Suspicious or crypto-node only: a spoofed DNS query makes one.
        case weak
        /// Likely mining (one-sided sessions with a miner's name, encrypted sessions to pool names).
        case likely
        /// Mining or serving mining work: a two-sided session.
        case mining
        static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }
    }
    /// Hosts per tier, least recently active first; an entry is stale unless its `seq` is the host's latest.
    private var activity: [Deque<(host: IPAddress, seq: Int)>] = [[], [], [], []]
    private var nextSeq = 0
    /// Which host and role each kept session went to, oldest first (for the global session cap).
    private var sessionOrder: Deque<(host: IPAddress, asPool: Bool)> = []
    private var sessionsHeld = 0
    private var evidenceHeld = 0
    /// What the table holds in memory, against `limits.maxBytes` (`MemoryCost`: hosts, sessions, evidence).
    public private(set) var bytesHeld = 0
    /// Times the byte budget retired a session or refused a record (`host_memory_cap`).
    public private(set) var memoryCapHits = 0
    /// Of those, records that came as measurements only: at most a quarter of `maxEvidence`.
    private var measuredHeld = 0
    /// With a store attached: sessions let go of from memory wait here until the caller stores them
    /// (`drainRetired`), so every session reaches the store although memory keeps only the latest.
    public var collectRetired = false
    private var retiredPending: [SessionRecord] = []
    /// What they hold (`cost`), against `limits.maxRetiredBytes`.
    private var retiredPendingBytes = 0
    /// Retired sessions that could not wait for the store (more than `limits.maxRetiredPending` between drains).
    public private(set) var retiredLost = 0

    /// Sessions retired and not yet drained (for the store).
    public var retiredSessions: [SessionRecord] { retiredPending }

    /// Takes the sessions retired since the last call (for the store).
    public mutating func drainRetired() -> [SessionRecord] {
        defer {
            retiredPending = []
            retiredPendingBytes = 0
        }
        return retiredPending
    }

    private mutating func keepForStore(_ s: SessionRecord) {
        guard collectRetired else { return }
        let cost = Self.cost(s)
        if retiredPending.count < limits.maxRetiredPending && retiredPendingBytes + cost <= limits.maxRetiredBytes {
            retiredPending.append(s)
            retiredPendingBytes += cost
        } else {
            retiredLost += 1
        }
    }

    public init(policy: ScoringPolicy = ScoringPolicy(), limits: HostLimits = HostLimits()) {
        self.policy = policy
        self.limits = limits
    }

    /// Number of hosts with evidence held now.
    public var hostCount: Int { byHost.count }

    /// Whether `host` is held now.
    public func holds(_ host: IPAddress) -> Bool { byHost[host] != nil }

    /// Hosts whose evidence changed since the last `takeChanged()` (a live sensor re-judges only
    /// these): always held hosts, so never more than `limits.maxHosts`.
    private var changed: Set<IPAddress> = []

    /// Takes the hosts changed since the last call.
    public mutating func takeChanged() -> Set<IPAddress> {
        defer { changed = [] }
        return changed
    }

    /// A copy holding only `hosts`' records, to re-judge them without copying the whole table.
    /// - Complexity: O(|hosts|).
    public func subset(_ hosts: Set<IPAddress>) -> HostVerdicts {
        var v = HostVerdicts(policy: policy, limits: limits)
        for h in hosts { if let e = byHost[h] { v.byHost[h] = e } }
        return v
    }

    /// Makes sure `host` has an entry and marks it active. When the table is full, a newcomer takes
    /// the place of the least recently active host of a lower tier; failing that, a likely-mining or
    /// mining newcomer takes the place of the least recently active host of its own tier (a flood of
    /// forged sessions cannot keep a real miner out: the flood's hosts go quiet, the miner does not).
    /// A weak newcomer is refused rather than churn the table. Returns false when refused.
    /// - Complexity: amortised O(1) (each activity entry is queued once and dequeued once).
    private mutating func admit(_ host: IPAddress, tier claimed: Tier) -> Bool {
        let tier: Tier
        if let held = byHost[host] {
            tier = max(held.tier, claimed)
        } else {
            if byHost.count >= limits.maxHosts {
                guard evictForNewcomer(claimed) else {
                    hostsDropped += 1
                    return false
                }
            }
            // The byte budget: old sessions go first, then hosts by the same rule as at the count.
            if bytesHeld + Self.hostCost > limits.maxBytes { retireForBytes(until: limits.maxBytes - Self.hostCost) }
            var evictions = 0
            while bytesHeld + Self.hostCost > limits.maxBytes {
                guard evictions < 4, evictForNewcomer(claimed) else {
                    memoryCapHits += 1
                    return false
                }
                evictions += 1
            }
            byHost[host] = HostEvidence()
            bytesHeld += Self.hostCost
            tier = claimed
        }
        nextSeq += 1
        byHost[host]!.tier = tier
        byHost[host]!.seq = nextSeq
        activity[tier.rawValue].append((host, nextSeq))
        compactActivity(tier)
        return true
    }

    /// Makes room for a newcomer claiming `claimed`: the least recently active host of a lower tier
    /// goes, or — for a likely-mining or mining newcomer — of its own.
    private mutating func evictForNewcomer(_ claimed: Tier) -> Bool {
        let candidates = Array(0..<claimed.rawValue) + (claimed <= .weak ? [] : [claimed.rawValue])
        return candidates.contains(where: { evictLeastRecent(tier: $0) })
    }

    /// Forgets the least recently active host of `tier`, if there is one.
    private mutating func evictLeastRecent(tier: Int) -> Bool {
        while let (victim, seq) = activity[tier].popFirst() {
            guard let v = byHost[victim], v.seq == seq, v.tier.rawValue == tier else { continue }  // stale entry
            evidenceHeld -= v.other.count
            measuredHeld -= v.measured
            sessionsHeld -= v.miner.count + v.pool.count
            bytesHeld -= v.bytes
            // Not queued for the store: it has this host as of the last commit, and a flood that
            // churns the table would otherwise turn every forged session into a stored row.
            byHost[victim] = nil
            // Nor left among the changed hosts: an offline run never takes them, and a flood that
            // churns the table would grow the set by every host it ever admitted (19 MB in a mixed
            // flood of 1.1 GB). A host that is not held has nothing to re-judge.
            changed.remove(victim)
            hostsEvicted += 1
            return true
        }
        return false
    }

    /// Drops stale entries when a queue has grown well past the hosts it can refer to.
    private mutating func compactActivity(_ tier: Tier) {
        let i = tier.rawValue
        guard activity[i].count > 4 * limits.maxHosts + 1024 else { return }
        activity[i] = Deque(
            activity[i].filter { e in byHost[e.host].map { $0.seq == e.seq && $0.tier == tier } ?? false })
    }

    static func tier(_ v: Verdict) -> Tier {
        switch v {
        case .mining, .pool: .mining
        case .likelyMining: .likely
        case .suspicious, .cryptoNode: .weak
        case .none: .measured
        }
    }

    /// What became of a piece of evidence.
    public enum EvidenceOutcome: Equatable, Sendable {
        /// A new record.
        case new
        /// Merged into an earlier record, which has now seen this many occurrences.
        case merged(occurrences: Int)
        /// Refused: the host table or the evidence caps are full.
        case refused
    }

    /// Records a piece of non-session evidence, merging it with an earlier one of the same kind and name.
    /// - Complexity: O(1) amortised.
    @discardableResult
    public mutating func add(_ e: Evidence) -> EvidenceOutcome {
        let (v, _) = Self.score(e, policy)
        // The only evidence that scores nothing on its own (`score`): measurements that are context.
        let measuredOnly = v == .none
        guard admit(e.host, tier: Self.tier(v)) else { return .refused }
        changed.insert(e.host)
        // Mutated in place through the dictionary (a copy out and back would copy its arrays every time).
        if let i = byHost[e.host]!.otherIndex[e.mergeKey] {
            // Only the record's strings and lists can grow (its key, the merge index's, stays).
            let before = byHost[e.host]!.other[i].heapBytes
            byHost[e.host]!.other[i].merge(e)
            let growth = byHost[e.host]!.other[i].heapBytes - before
            byHost[e.host]!.bytes += growth
            bytesHeld += growth
            // Measurements that add up to mining raise the host's tier.
            let merged = Self.score(byHost[e.host]!.other[i], policy).0
            if merged != v { _ = admit(e.host, tier: Self.tier(merged)) }
            return .merged(occurrences: byHost[e.host]!.other[i].occurrences)
        } else if measuredOnly
            && (byHost[e.host]!.measured >= limits.maxMeasuredPerHost || measuredHeld >= limits.maxEvidence / 4)
        {
            // Context only: never at the cost of evidence.
            return .refused
        } else if byHost[e.host]!.other.count < limits.maxEvidencePerHost && evidenceHeld < limits.maxEvidence {
            let cost = Self.cost(e)
            // Over the byte budget, the oldest sessions go first (a store has them); a record that
            // still does not fit is refused like one past the count.
            if bytesHeld + cost > limits.maxBytes {
                retireForBytes(until: limits.maxBytes - cost)
                if bytesHeld + cost > limits.maxBytes {
                    memoryCapHits += 1
                    evidenceDropped += 1
                    return .refused
                }
            }
            byHost[e.host]!.otherIndex[e.mergeKey] = byHost[e.host]!.other.count
            byHost[e.host]!.other.append(e)
            byHost[e.host]!.bytes += cost
            bytesHeld += cost
            evidenceHeld += 1
            if measuredOnly {
                byHost[e.host]!.measured += 1
                measuredHeld += 1
            }
            return .new
        } else {
            evidenceDropped += 1
            return .refused
        }
    }

    /// Records a finished (or still-open, at end of input) session.
    /// - Complexity: O(1) amortised.
    public mutating func add(_ s: SessionRecord) {
        guard s.summary.shape != .none else { return }
        append(s, to: s.miner, asPool: false)
        // Only a pool that actually answered or pushed work is evidence against its host — and a
        // proxy that carried the session is not the pool (the pool is its target, elsewhere).
        if s.proxy == nil && (s.summary.shape == .twoSided || s.summary.shape == .poolPushOnly) {
            append(s, to: s.pool, asPool: true)
        }
    }

    private mutating func append(_ s: SessionRecord, to host: IPAddress, asPool: Bool) {
        let (v, _) = Self.score(s)
        guard admit(host, tier: asPool ? .mining : Self.tier(v)) else { return }
        if asPool {
            Self.insertInOrder(s, into: &byHost[host]!.pool)
        } else {
            Self.insertInOrder(s, into: &byHost[host]!.miner)
        }
        changed.insert(host)
        sessionsHeld += 1
        let cost = Self.cost(s)
        byHost[host]!.bytes += cost
        bytesHeld += cost
        sessionOrder.append((host, asPool))
        if (asPool ? byHost[host]!.pool.count : byHost[host]!.miner.count) > limits.maxSessionsPerHost {
            retireOldest(of: host, asPool: asPool)
        }
        // Over the global cap: retire the oldest sessions anywhere, keeping each host's last one per role.
        var budget = 4
        while sessionsHeld > limits.maxSessions, budget > 0, let (h, pool) = sessionOrder.popFirst() {
            budget -= 1
            retireOldest(of: h, asPool: pool)
        }
        if bytesHeld > limits.maxBytes { retireForBytes(until: limits.maxBytes) }
        if sessionOrder.count > 4 * limits.maxSessions + 1024 {
            sessionOrder.removeFirst(sessionOrder.count - 2 * limits.maxSessions)
        }
    }

    /// Keeps a host's sessions in input order (first time, then the flow's place) as they arrive —
    /// flows end in another order, and workers hand theirs over at the end — so the one retired
    /// past the cap is always the oldest by that order, and the sessions a host keeps are its latest
    /// 512 whatever the number of workers (each worker's latest 512 hold the latest 512 of all).
    /// - Complexity: O(1) for a session that starts after the ones held (the usual), O(distance) otherwise.
    static func insertInOrder(_ s: SessionRecord, into list: inout Deque<SessionRecord>) {
        var i = list.endIndex
        while i > list.startIndex, (s.flowFirstSeen, s.origin) < (list[i - 1].flowFirstSeen, list[i - 1].origin) {
            i -= 1
        }
        if i == list.endIndex { list.append(s) } else { list.insert(s, at: i) }
    }

    /// Retires the oldest sessions anywhere (each host's last one per role stays) until the table
    /// holds at most `target` bytes, or 16 were looked at: a bounded step per addition, as at the count cap.
    private mutating func retireForBytes(until target: Int) {
        var budget = 16
        while bytesHeld > target, budget > 0, let (h, pool) = sessionOrder.popFirst() {
            budget -= 1
            if retireOldest(of: h, asPool: pool) { memoryCapHits += 1 }
        }
    }

    @discardableResult
    private mutating func retireOldest(of host: IPAddress, asPool: Bool) -> Bool {
        guard let h = byHost[host], (asPool ? h.pool.count : h.miner.count) > 1 else { return false }
        let old = asPool ? byHost[host]!.pool.removeFirst() : byHost[host]!.miner.removeFirst()
        let cost = Self.cost(old)
        byHost[host]!.bytes -= cost
        bytesHeld -= cost
        keepForStore(old)
        byHost[host]!.retired += 1
        sessionsRetired += 1
        sessionsHeld -= 1
        if byHost[host]!.retiredFirstSeen.map({ old.flowFirstSeen < $0 }) ?? true {
            byHost[host]!.retiredFirstSeen = old.flowFirstSeen
        }
        return true
    }

    /// A host's entry without its records: the entry, its dictionary slot, its activity and changed
    /// entries, the lists' headers (about 256 bytes: `HostEvidence` is ~130, the rest measured with heaptrack).
    static let hostCost = 256
    /// A kept session: its place in a deque and its strings.
    static func cost(_ s: SessionRecord) -> Int { MemoryLayout<SessionRecord>.stride + s.heapBytes }
    /// A kept record: its place in the list, its strings, and its entry in the merge index.
    static func cost(_ e: Evidence) -> Int {
        MemoryLayout<Evidence>.stride + e.heapBytes + 48 + MemoryCost.of(e.mergeKey)
    }

    public var sessionCount: Int { byHost.values.reduce(0) { $0.addingSaturated($1.miner.count) } }

    /// Takes in another table's hosts (another worker's): the same table one worker would have built
    /// from the same findings, whatever the order (reports list in input order; evidence merges are
    /// order-free). Caps apply as to any addition.
    public mutating func merge(_ other: HostVerdicts) {
        for host in other.byHost.keys.sorted() {
            let o = other.byHost[host]!
            for s in Self.inOrder(o.miner) { append(s, to: host, asPool: false) }
            for s in Self.inOrder(o.pool) { append(s, to: host, asPool: true) }
            for e in Self.inOrder(o.other) { add(e) }
            guard byHost[host] != nil else { continue }
            if o.retired > 0 {
                byHost[host]!.retired += o.retired
                if let f = o.retiredFirstSeen, byHost[host]!.retiredFirstSeen.map({ f < $0 }) ?? true {
                    byHost[host]!.retiredFirstSeen = f
                }
            }
        }
        sessionsRetired += other.sessionsRetired
        evidenceDropped += other.evidenceDropped
        memoryCapHits += other.memoryCapHits
        hostsDropped += other.hostsDropped
        hostsEvicted += other.hostsEvicted
        retiredLost += other.retiredLost
        retiredPending += other.retiredPending
        retiredPendingBytes += other.retiredPendingBytes
    }
}
