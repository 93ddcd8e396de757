import DequeModule
import PacketDecoding
import PoolIntel

// What the host table says: every host judged into a report, and the most serious few picked for a
// live snapshot.
extension HostVerdicts {
    /// One report per host with evidence, most serious first.
    /// - Parameter localNets: when given, only hosts inside these blocks are reported (`--local-net`).
    /// - Parameter unflagged: also the hosts whose evidence supports no verdict (measured flows that
    ///   did not behave like mining), for `--all-hosts`.
    public func reports(localNets: AddressSet? = nil, unflagged: Bool = false) -> [HostReport] {
        // Relays first: hosts that serve work and mine upstream, with where they mine.
        var relays: [IPAddress: [String]] = [:]
        for (host, e) in byHost where !e.pool.isEmpty && e.miner.contains(where: { Self.score($0).0.isMiner }) {
            var upstream: [String] = []
            for s in e.miner where !upstream.contains(s.poolDisplay) && upstream.count < 4 {
                upstream.append(s.poolDisplay)
            }
            relays[host] = upstream
        }
        return byHost.filter { host, _ in localNets.map { $0.match(host) != nil } ?? true }
            .map { host, e in
                // In input order, not arrival order: flows end (and workers report) in any order.
                var r = Self.judge(
                    host: host, miner: Self.inOrder(e.miner), pool: Self.inOrder(e.pool),
                    evidence: Self.inOrder(e.other),
                    policy: policy, relays: relays, local: host.isPrivateOrLocal || localNets?.match(host) != nil)
                if e.retired > 0 {
                    r.reasons.append(.retiredSessions(e.retired))
                    if let f = e.retiredFirstSeen, r.firstSeen.map({ f < $0 }) ?? true { r.firstSeen = f }
                }
                return r
            }
            .filter { unflagged || $0.verdict != .none }
            .sorted {
                (Self.rank($0.verdict), -$0.confidence, $0.host) < (Self.rank($1.verdict), -$1.confidence, $1.host)
            }
    }

    /// Sessions and evidence in input order (first time, then the flow's place; evidence of one
    /// flow by kind and name), whatever order flows ended and workers reported in.
    static func inOrder(_ sessions: Deque<SessionRecord>) -> [SessionRecord] {
        sessions.sorted { ($0.flowFirstSeen, $0.origin) < ($1.flowFirstSeen, $1.origin) }
    }

    static func inOrder(_ evidence: [Evidence]) -> [Evidence] {
        evidence.sorted { ($0.orderKey, $0.mergeKey) < ($1.orderKey, $1.mergeKey) }
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

    /// Reports for `hosts`, judged `chunk` hosts at a time by `judge`, at most `limit` of them kept —
    /// the most serious first (verdict, then confidence, then address, so the choice does not depend
    /// on set order); the hosts not kept are returned to be judged again later.
    /// - Complexity: O(|hosts| log limit) besides judging; memory O(limit + chunk) reports.
    /// With `maxBytes`, the reports kept also hold at most that many bytes of sessions and evidence
    /// (`HostReport.memoryCost`; always at least one report): a snapshot waits in memory for the
    /// store's writer, and 1 024 hosts of 512 sessions each would hold hundreds of megabytes.
    public static func mostSerious(
        _ hosts: Set<IPAddress>, limit: Int, maxBytes: Int = .max, chunk: Int = 256,
        judge: ([IPAddress]) -> [HostReport]
    ) -> (reports: [HostReport], deferred: [IPAddress]) {
        let (found, deferred) = mostSerious(hosts, limit: limit, chunk: chunk, judge: judge)
        var costed = found.map { (report: $0, cost: $0.memoryCost) }
        guard costed.reduce(0, { $0.addingSaturated($1.cost) }) > maxBytes else { return (found, deferred) }
        costed.sort { before($0.report, $1.report) }
        var bytes = 0
        var n = 0
        while n < costed.count, n == 0 || bytes.addingSaturated(costed[n].cost) <= maxBytes {
            bytes = bytes.addingSaturated(costed[n].cost)
            n += 1
        }
        return (costed[..<n].map(\.report), deferred + costed[n...].map(\.report.host))
    }

    /// Most serious first: verdict, then confidence, then address (an order that does not depend on set order).
    private static func before(_ a: HostReport, _ b: HostReport) -> Bool {
        (rank(a.verdict), -a.confidence) != (rank(b.verdict), -b.confidence)
            ? (rank(a.verdict), -a.confidence) < (rank(b.verdict), -b.confidence) : a.host < b.host
    }

    private static func mostSerious(
        _ hosts: Set<IPAddress>, limit: Int, chunk: Int,
        judge: ([IPAddress]) -> [HostReport]
    ) -> (reports: [HostReport], deferred: [IPAddress]) {
        let all = Array(hosts)
        guard all.count > limit else { return (judge(all), []) }
        var kept: [HostReport] = []
        var deferred: [IPAddress] = []
        var start = 0
        while start < all.count {
            let part = Array(all[start..<min(start + chunk, all.count)])
            start += part.count
            // A host with nothing left to judge (no longer held, no open flow) has no report: it is gone.
            kept += judge(part)
            if kept.count > limit {
                kept.sort(by: before)
                deferred += kept[limit...].map(\.host)
                kept.removeSubrange(limit...)
            }
        }
        return (kept, deferred)
    }
}
