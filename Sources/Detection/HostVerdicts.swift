import DequeModule
import PacketDecoding
import PoolIntel
import SafeNumbers
import Stratum

/// A host's verdict with its confidence, reasons and evidence.
public struct HostReport: Sendable {
    public var host: IPAddress
    public var verdict: Verdict
    /// 0–100.
    public var confidence: Int
    /// Human-readable explanations, strongest first. May contain wire strings: escape when printing.
    public var reasons: [String]
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    /// Sessions in which this host was the miner.
    public var minerSessions: [SessionRecord]
    /// Sessions in which this host served work.
    public var poolSessions: [SessionRecord]
    /// Other evidence (TLS/WebSocket/HTTP to pool names, DNS lookups, node traffic), merged per kind and name.
    public var evidence: [Evidence] = []

    /// A host seen in traffic with no mining evidence (`--all-hosts`).
    public static func noEvidence(_ host: IPAddress, firstSeen: Timestamp? = nil, lastSeen: Timestamp? = nil) -> HostReport {
        HostReport(host: host, verdict: .none, confidence: 0, reasons: ["no mining evidence"], firstSeen: firstSeen,
                   lastSeen: lastSeen, minerSessions: [], poolSessions: [])
    }
}

/// Memory caps of the host table (README "Caps"): a spoofed-source flood must not grow it without bound.
public struct HostLimits: Sendable, Equatable {
    /// Hosts with evidence held at once. When full, a newcomer takes the place of the least recently
    /// active host of a lower tier (weak < likely-mining < mining/pool); a likely-mining or mining
    /// newcomer may also take the place of the least recently active host of its own tier; a weak
    /// newcomer (suspicious, crypto-node) is refused.
    public var maxHosts = 16_384
    /// Sessions kept in memory across all hosts; beyond it the oldest are retired (counted in their
    /// host's reasons, first-seen kept), never a host's last one in a role.
    public var maxSessions = 32_768
    /// Distinct evidence records across all hosts; beyond it new ones are dropped (repeats still merge).
    public var maxEvidence = 65_536
    public init() {}
}

/// Turns mining sessions into per-host verdicts (the scoring model in README).
public struct HostVerdicts {
    private struct HostEvidence {
        var miner: Deque<SessionRecord> = []
        var pool: Deque<SessionRecord> = []
        var other: [Evidence] = []
        var otherIndex: [String: Int] = [:]
        /// Sessions let go of to bound memory on a long-running sensor (the store keeps them all).
        var retired = 0
        var retiredFirstSeen: Timestamp?
        /// How much the host's evidence is worth keeping (see `Tier`).
        var tier = Tier.weak
        /// Bumped on every update; an entry in `activity` is current only with the latest one.
        var seq = 0
    }
    /// Sessions kept in memory per host and role; older ones are retired (counted, first-seen kept).
    public static let maxSessionsPerHost = 512
    public private(set) var sessionsRetired = 0
    private var byHost: [IPAddress: HostEvidence] = [:]
    public var policy: ScoringPolicy
    public let limits: HostLimits
    /// Distinct evidence records kept per host; more are merged into nothing and counted.
    public static let maxEvidencePerHost = 256
    public private(set) var evidenceDropped = 0
    /// New hosts refused because the table was full of hosts with at least as strong claims.
    public private(set) var hostsDropped = 0
    /// Hosts let go of (least recently active, lowest tier first) to make room for a newcomer.
    public private(set) var hostsEvicted = 0
    /// What a host's evidence is worth when the table is full (README "Caps").
    enum Tier: Int, Comparable {
        /// Suspicious or crypto-node only: a spoofed DNS query makes one.
        case weak
        /// Likely mining (one-sided sessions with a miner's name, encrypted sessions to pool names).
        case likely
        /// Mining or serving mining work: a two-sided session.
        case mining
        static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }
    }
    /// Hosts per tier, least recently active first; an entry is stale unless its `seq` is the host's latest.
    private var activity: [Deque<(host: IPAddress, seq: Int)>] = [[], [], []]
    private var nextSeq = 0
    /// Which host and role each kept session went to, oldest first (for the global session cap).
    private var sessionOrder: Deque<(host: IPAddress, asPool: Bool)> = []
    private var sessionsHeld = 0
    private var evidenceHeld = 0
    /// With a store attached: sessions let go of from memory wait here until the caller stores them
    /// (`drainRetired`), so every session reaches the store although memory keeps only the latest.
    public var collectRetired = false
    private var retiredPending: [SessionRecord] = []
    /// Retired sessions that could not wait for the store (more than `maxRetiredPending` between drains).
    public private(set) var retiredLost = 0
    public static let maxRetiredPending = 65_536

    /// Takes the sessions retired since the last call (for the store).
    public mutating func drainRetired() -> [SessionRecord] {
        defer { retiredPending = [] }
        return retiredPending
    }

    private mutating func keepForStore(_ s: SessionRecord) {
        guard collectRetired else { return }
        if retiredPending.count < Self.maxRetiredPending { retiredPending.append(s) } else { retiredLost += 1 }
    }

    public init(policy: ScoringPolicy = ScoringPolicy(), limits: HostLimits = HostLimits()) {
        self.policy = policy
        self.limits = limits
    }

    /// Number of hosts with evidence held now.
    public var hostCount: Int { byHost.count }

    /// Whether `host` is held now.
    public func holds(_ host: IPAddress) -> Bool { byHost[host] != nil }

    /// Hosts whose evidence changed since the last `takeChanged()` (a live sensor re-judges only these).
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
                let candidates = Array(0..<claimed.rawValue) + (claimed == .weak ? [] : [claimed.rawValue])
                guard candidates.contains(where: { evictLeastRecent(tier: $0) }) else { hostsDropped += 1; return false }
            }
            byHost[host] = HostEvidence()
            tier = claimed
        }
        nextSeq += 1
        byHost[host]!.tier = tier
        byHost[host]!.seq = nextSeq
        activity[tier.rawValue].append((host, nextSeq))
        compactActivity(tier)
        return true
    }

    /// Forgets the least recently active host of `tier`, if there is one.
    private mutating func evictLeastRecent(tier: Int) -> Bool {
        while let (victim, seq) = activity[tier].popFirst() {
            guard let v = byHost[victim], v.seq == seq, v.tier.rawValue == tier else { continue }   // stale entry
            evidenceHeld -= v.other.count
            sessionsHeld -= v.miner.count + v.pool.count
            // Not queued for the store: it has this host as of the last commit, and a flood that
            // churns the table would otherwise turn every forged session into a stored row.
            byHost[victim] = nil
            hostsEvicted += 1
            return true
        }
        return false
    }

    /// Drops stale entries when a queue has grown well past the hosts it can refer to.
    private mutating func compactActivity(_ tier: Tier) {
        let i = tier.rawValue
        guard activity[i].count > 4 * limits.maxHosts + 1024 else { return }
        activity[i] = Deque(activity[i].filter { e in byHost[e.host].map { $0.seq == e.seq && $0.tier == tier } ?? false })
    }

    static func tier(_ v: Verdict) -> Tier {
        switch v {
        case .mining, .pool: .mining
        case .likelyMining: .likely
        case .suspicious, .cryptoNode, .none: .weak
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
        guard admit(e.host, tier: Self.tier(v)) else { return .refused }
        changed.insert(e.host)
        // Mutated in place through the dictionary (a copy out and back would copy its arrays every time).
        if let i = byHost[e.host]!.otherIndex[e.mergeKey] {
            byHost[e.host]!.other[i].merge(e)
            return .merged(occurrences: byHost[e.host]!.other[i].occurrences)
        } else if byHost[e.host]!.other.count < Self.maxEvidencePerHost && evidenceHeld < limits.maxEvidence {
            byHost[e.host]!.otherIndex[e.mergeKey] = byHost[e.host]!.other.count
            byHost[e.host]!.other.append(e)
            evidenceHeld += 1
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
        if asPool { byHost[host]!.pool.append(s) } else { byHost[host]!.miner.append(s) }
        changed.insert(host)
        sessionsHeld += 1
        sessionOrder.append((host, asPool))
        if (asPool ? byHost[host]!.pool.count : byHost[host]!.miner.count) > Self.maxSessionsPerHost { retireOldest(of: host, asPool: asPool) }
        // Over the global cap: retire the oldest sessions anywhere, keeping each host's last one per role.
        var budget = 4
        while sessionsHeld > limits.maxSessions, budget > 0, let (h, pool) = sessionOrder.popFirst() {
            budget -= 1
            retireOldest(of: h, asPool: pool)
        }
        if sessionOrder.count > 4 * limits.maxSessions + 1024 { sessionOrder.removeFirst(sessionOrder.count - 2 * limits.maxSessions) }
    }

    private mutating func retireOldest(of host: IPAddress, asPool: Bool) {
        guard let h = byHost[host], (asPool ? h.pool.count : h.miner.count) > 1 else { return }
        let old = asPool ? byHost[host]!.pool.removeFirst() : byHost[host]!.miner.removeFirst()
        keepForStore(old)
        byHost[host]!.retired += 1
        sessionsRetired += 1
        sessionsHeld -= 1
        if byHost[host]!.retiredFirstSeen.map({ old.flowFirstSeen < $0 }) ?? true { byHost[host]!.retiredFirstSeen = old.flowFirstSeen }
    }

    public var sessionCount: Int { byHost.values.reduce(0) { $0.addingSaturated($1.miner.count) } }

    /// One report per host with evidence, most serious first.
    /// - Parameter localNets: when given, only hosts inside these blocks are reported (`--local-net`).
    public func reports(localNets: AddressSet? = nil) -> [HostReport] {
        byHost.filter { host, _ in localNets.map { $0.match(host) != nil } ?? true }
            .map { host, e in
                var r = Self.judge(host: host, miner: Array(e.miner), pool: Array(e.pool), evidence: e.other, policy: policy)
                if e.retired > 0 {
                    r.reasons.append("and \(e.retired) earlier session\(e.retired == 1 ? "" : "s") (kept in the store, not in memory)")
                    if let f = e.retiredFirstSeen, r.firstSeen.map({ f < $0 }) ?? true { r.firstSeen = f }
                }
                return r
            }
            .filter { $0.verdict != .none }
            .sorted { (Self.rank($0.verdict), -$0.confidence, $0.host) < (Self.rank($1.verdict), -$1.confidence, $1.host) }
    }

    public static func rank(_ v: Verdict) -> Int {
        switch v {
        case .mining: 0
        case .likelyMining: 1
        case .pool: 2
        case .suspicious: 3
        case .cryptoNode: 4
        case .none: 5
        }
    }

    static func judge(host: IPAddress, miner: [SessionRecord], pool: [SessionRecord], evidence: [Evidence] = [],
                      policy: ScoringPolicy = ScoringPolicy()) -> HostReport {
        let all = miner + pool
        let first = (all.map { $0.summary.firstSeen.map(Timestamp.init(nanoseconds:)) ?? $0.flowFirstSeen } + evidence.map(\.first)).min()
        let last = (all.map { $0.summary.lastSeen.map(Timestamp.init(nanoseconds:)) ?? $0.flowLastSeen } + evidence.map(\.last)).max()
        var verdict = Verdict.none
        var confidence = 0
        var reasons: [String] = []
        let sortedMiner = miner.sorted { $0.flowFirstSeen < $1.flowFirstSeen }
        // A host that serves work to others is a pool or an internal proxy, even if it also mines upstream.
        if !pool.isEmpty {
            verdict = .pool
            let clients = Set(pool.map(\.miner)).count
            let jobs = pool.reduce(0) { $0.addingSaturated($1.summary.jobsReceived) }
            let shares = pool.reduce(0) { $0.addingSaturated($1.summary.sharesAccepted) }
            confidence = pool.contains { $0.summary.shape == .twoSided } ? 90 : 70
            let ports = Set(pool.map(\.poolPort)).sorted().map(String.init).joined(separator: ", ")
            reasons.append("served mining work on port \(ports) to \(Format.count(clients, "miner")) (\(Format.count(pool.count, "session")), \(Format.count(jobs, "job")), \(Format.count(shares, "share")) accepted)")
            for line in describeAll(sortedMiner) { reasons.append("also mines upstream: " + line) }
        } else {
            for s in sortedMiner {
                let (v, c) = score(s)
                if rank(v) < rank(verdict) || (v == verdict && c > confidence) { verdict = v; confidence = c }
            }
            reasons += describeAll(sortedMiner)
        }
        // Fuse the other evidence: the strongest verdict wins; each further independent kind
        // of evidence that points the same way adds confidence (README "Scoring").
        // Each piece scored once, then ordered strongest first (ties: earliest first).
        let scored = evidence.map { (e: $0, score: score($0, policy)) }
            .sorted { (rank($0.score.0), $0.e.first) < (rank($1.score.0), $1.e.first) }
        var kinds = Set<String>()
        if !miner.isEmpty { kinds.insert("session") }
        var extra: [String] = []
        for (e, (v, c)) in scored {
            extra.append(describe(e, policy))
            if v != .cryptoNode { kinds.insert(e.kind.rawValue) }
            if verdict == .pool { continue }   // a pool stays a pool; its other evidence is context
            if rank(v) < rank(verdict) || (v == verdict && c > confidence) { verdict = v; confidence = c }
        }
        reasons += extra
        if verdict != .pool && verdict != .cryptoNode && kinds.count > 1 { confidence = min(99, confidence + 5 * (kinds.count - 1)) }
        var report = HostReport(host: host, verdict: verdict, confidence: confidence, reasons: reasons,
                                firstSeen: first, lastSeen: last, minerSessions: sortedMiner,
                                poolSessions: pool.sorted { $0.flowFirstSeen < $1.flowFirstSeen })
        report.evidence = scored.map(\.e)
        return report
    }

    /// Verdict and confidence one piece of evidence supports on its own.
    public static func score(_ e: Evidence, _ p: ScoringPolicy) -> (Verdict, Int) {
        let long = e.duration >= p.longLivedSeconds
        switch e.kind {
        case .tlsToPool, .webSocketToPool:
            guard long else { return (.suspicious, 40) }
            return (.likelyMining, isPeriodic(e, p) ? 80 : 70)
        case .connectionToPool:
            return long ? (.likelyMining, 60) : (.suspicious, 35)
        case .stratumV2Encrypted:
            return long ? (.likelyMining, 70) : (.suspicious, 45)
        case .minerUserAgent:
            return (.likelyMining, 60)
        case .httpToPool:
            return (.suspicious, 35)
        case .dnsPoolLookup:
            return (.suspicious, e.count > 1 ? 35 : 30)
        case .peerToPeer:
            return (.cryptoNode, 80)
        }
    }

    /// Mining keeps a connection open for hours with small messages both ways (jobs, shares).
    static func isPeriodic(_ e: Evidence, _ p: ScoringPolicy) -> Bool {
        guard e.packetsOut >= p.periodicMinPackets, e.packetsIn >= p.periodicMinPackets else { return false }
        return (e.bytesOut + e.bytesIn) / (e.packetsOut + e.packetsIn) <= p.periodicMaxAveragePayload
    }

    /// One sentence per piece of evidence.
    public static func describe(_ e: Evidence, _ p: ScoringPolicy = ScoringPolicy()) -> String {
        let name = e.name ?? e.peer?.description ?? "?"
        let port = e.peerPort
        var listed = ""
        if let m = e.pool {
            let coins = m.entry.coins.isEmpty ? "" : ", " + m.entry.coins.joined(separator: "/")
            listed = " (listed: \(m.matched), \(m.entry.kind.rawValue)\(coins), \(m.entry.source))"
        }
        let times = e.count > 1 ? " over \(e.count) connections" : ""
        let at = e.peer.map { " [\($0)]" } ?? ""
        switch e.kind {
        case .tlsToPool, .webSocketToPool, .connectionToPool, .stratumV2Encrypted:
            let what = switch e.kind {
            case .tlsToPool: e.detail("no_sni") != nil ? "TLS without SNI" : "TLS"
            case .webSocketToPool: "WebSocket"
            case .stratumV2Encrypted: "encrypted Stratum V2 (Noise handshake shape)"
            default: "a connection"
            }
            var t = "\(what) to \(name):\(port)\(at)\(listed) for \(Format.duration(e.duration))\(times)"
            if let kind = e.detail("proxy"), let target = e.detail("proxy_target") {
                // The name the flow revealed, when the request gave only an address.
                let dest = e.name.map { target.hasPrefix($0 + ":") ? target : "\($0) (\(target))" } ?? target
                t = "\(what) to \(dest) via \(kind.uppercased()) proxy \(e.peerEndpoint ?? "?")\(listed) for \(Format.duration(e.duration))\(times)"
                if e.detail("proxy_refused") != nil { t += " (the proxy refused it)" }
            }
            if let via = e.detail("name_from") { t += ", name from \(via)" }
            t += ", \(e.packetsOut + e.packetsIn) packets"
            if isPeriodic(e, p) { t += ", periodic small messages" }
            if let ja4 = e.detail("ja4") { t += ", JA4 \(ja4)" }
            return t
        case .httpToPool:
            var t = "HTTP to \(name):\(port)\(listed)"
            if let r = e.detail("request") { t += ": \(r)" }
            return t + times
        case .minerUserAgent:
            return "miner software \(e.software ?? "?") in HTTP User-Agent to \(name):\(port)\(times)"
        case .dnsPoolLookup:
            var t = "looked up pool name \(name)\(listed)"
            if e.count > 1 { t += " \(e.count) times" }
            if let a = e.detail("answers") { t += " → \(a)" }
            return t
        case .peerToPeer:
            var t = "\(e.coin ?? "cryptocurrency") node traffic (\(e.detail("message") ?? "p2p")) with \(e.peerEndpoint ?? "?")\(times)"
            if let ua = e.software { t += ", node software \(ua)" }
            return t + " — a node, not mining"
        }
    }

    /// Verdict and confidence one session supports for its miner.
    public static func score(_ s: SessionRecord) -> (Verdict, Int) {
        let m = s.summary
        switch m.shape {
        case .twoSided:
            var c = 90
            if m.loginAccepted == true { c += 5 }
            if m.sharesAccepted > 0 { c += 4 }
            return (.mining, min(c, 99))
        case .poolPushOnly:
            return (.mining, m.jobsReceived >= 5 ? 80 : 75)
        case .minerOnly:
            let strong = Set(m.minerMethods).count >= 2 || m.software != nil || !m.wallets.isEmpty
            return strong ? (.likelyMining, m.software != nil ? 70 : 60) : (.suspicious, 35)
        case .none:
            return (.none, 0)
        }
    }

    /// One sentence per distinct session, in order of first appearance; sessions that say the same
    /// apart from their times (a miner reconnecting and being refused, again and again) share one:
    /// "8 sessions between 2026-11-27 10:02:11 and 10:02:49, each: … (login rejected), monero".
    static func describeAll(_ sessions: [SessionRecord]) -> [String] {
        var order: [String] = []
        var groups: [String: (first: Int64, last: Int64, sessions: [SessionRecord])] = [:]
        for s in sessions {
            let key = describe(s, withDuration: false)
            let a = s.summary.firstSeen ?? s.flowFirstSeen.nanoseconds, b = s.summary.lastSeen ?? s.flowLastSeen.nanoseconds
            if var g = groups[key] {
                g.first = min(g.first, a); g.last = max(g.last, b); g.sessions.append(s)
                groups[key] = g
            } else {
                order.append(key)
                groups[key] = (a, b, [s])
            }
        }
        return order.map { key in
            let g = groups[key]!
            guard g.sessions.count > 1 else { return describe(g.sessions[0]) }
            let from = TimeFormat.short(g.first), to = TimeFormat.short(g.last)
            // The second time without its date when both fall on one day.
            let until = from.prefix(10) == to.prefix(10) ? String(to.dropFirst(11)) : to
            return "\(g.sessions.count) sessions between \(from) and \(until), each: \(key)"
        }
    }

    /// One sentence per session: who, where, as whom, how much.
    public static func describe(_ s: SessionRecord, withDuration: Bool = true) -> String {
        let m = s.summary
        var where_ = s.poolDisplay
        if let l = s.poolList { where_ += " (listed: \(l.matched), \(l.entry.kind.rawValue), \(l.entry.source))" }
        var parts: [String] = []
        let who = m.software ?? "a miner"
        var dialect = m.dialect?.rawValue ?? "stratum"
        if s.transport != "tcp" { dialect += " over " + (s.transport == "http" ? "HTTP" : "WebSocket") }
        switch m.shape {
        case .twoSided:
            var login = "\(who) mined via \(dialect) at \(where_)"
            if let w = m.wallets.first { login += " as \(Format.shortWallet(w))" }
            if let ok = m.loginAccepted { login += ok ? " (login accepted)" : " (login rejected)" }
            parts.append(login)
        case .poolPushOnly:
            parts.append("received \(Format.count(m.jobsReceived, "mining job")) from \(where_) via \(dialect) (session picked up mid-way)")
        case .minerOnly:
            var t = "\(who) sent \(m.minerMethods.joined(separator: ", ")) to \(where_) with no pool answer seen"
            if let w = m.wallets.first { t += " as \(Format.shortWallet(w))" }
            parts.append(t)
        case .none:
            parts.append("stratum traffic with \(where_)")
        }
        if let coin = s.coin { parts.append(coin) }
        let seconds = (m.lastSeen ?? 0).difference(from: m.firstSeen ?? 0) / 1e9
        if m.sharesSubmitted > 0 || m.sharesAccepted > 0 {
            parts.append("\(Format.count(m.sharesAccepted, "share")) accepted, \(m.sharesRejected) rejected of \(m.sharesSubmitted) submitted"
                         + (withDuration ? " in \(Format.duration(seconds))" : ""))
        } else if m.jobsReceived > 0 && m.shape != .poolPushOnly {
            parts.append(Format.count(m.jobsReceived, "job") + (withDuration ? " in \(Format.duration(seconds))" : ""))
        }
        let unit = s.rateKind.unit
        if withDuration, let h = m.estimatedHashrate { parts.append("~\(Format.hashrate(h, unit)) from accepted shares") }
        if let r = m.reportedHashrate { parts.append("reports \(Format.hashrate(r, unit))") }
        return parts.joined(separator: ", ")
    }
}

/// Human formatting shared by reasons and the table.
public enum Format {
    /// "12.3 kH/s". Any Double is safe here: rates come from wire numbers (a `set_difficulty 1e300`,
    /// an `eth_submitHashrate 0xfff…`); beyond the units, scientific notation; not finite: "?".
    public static func hashrate(_ h: Double, _ unit: HashrateUnit = .hashes) -> String {
        let base = unit.rawValue
        guard h.isFinite else { return "? \(base)" }
        let prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"]
        var v = max(h, 0), i = 0
        while v >= 1000 && i < prefixes.count - 1 { v /= 1000; i += 1 }
        if v >= 1000 { return "\(h) \(base)" }
        let rounded = v >= 100 ? String(Int(v.rounded())) : String(Double(Int(v * 10)) / 10)
        return "\(rounded) \(prefixes[i])\(base)"
    }

    /// "42 s", "5 min", "1.5 h", "3.2 d"; saturates for absurd spans, "?" when not finite.
    public static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        if s < 60 { return "\(Int(saturating: s.rounded())) s" }
        if s < 3600 { return "\(Int((s / 60).rounded())) min" }
        if s < 86400 { return String(Double(Int(s / 360)) / 10) + " h" }
        return String(Double(Int(saturating: s / 8640)) / 10) + " d"
    }

    /// "1 share", "5 shares".
    public static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

    /// "4BCeEPhodg…CvCDm" for long wallets.
    public static func shortWallet(_ w: String) -> String {
        w.count > 20 ? "\(w.prefix(10))…\(w.suffix(5))" : w
    }
}
