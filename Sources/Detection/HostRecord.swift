import PacketDecoding
import SafeNumbers

/// What a host's verdict was judged from — its sessions, its other evidence, the policy — as a value
/// the store keeps beside the report (docs/store-and-fleet.md "Many sensors"). A fleet report joins the records of the
/// sensors that saw one host and judges them together, the same function a single sensor uses.
public struct HostRecord: Sendable, Codable {
    public var host: IPAddress
    public var miner: [SessionRecord]
    public var pool: [SessionRecord]
    public var evidence: [Evidence]
    public var policy: ScoringPolicy
    /// Sessions let go of from memory (counted in the reasons), and the earliest time the host was seen.
    public var retired: Int
    public var firstSeen: Timestamp?

    public init(_ r: HostReport) {
        host = r.host
        miner = r.minerSessions
        pool = r.poolSessions
        evidence = r.evidence
        policy = r.policy
        retired = r.reasons.reduce(0) { n, reason in
            if case .retiredSessions(let k) = reason { n.addingSaturated(k) } else { n }
        }
        firstSeen = r.firstSeen
    }

    /// Whether two flows between the same endpoints, seen by two taps, are one: they started within
    /// 2 s of each other (taps' clocks and capture delays differ by that much, reconnects by more).
    /// Flow starts in ns; the fleet report lists such a session once for the same reason.
    public static func sameFlow(startedAt a: Int64, _ b: Int64) -> Bool {
        a.subtractingSaturated(b).magnitude <= 2_000_000_000
    }

    /// The records of one host as several sensors saw it, as one. A session two taps both saw (same
    /// endpoints, flows starting within 2 s) counts once — the longer view of it; evidence of one kind,
    /// name and peer counts once too (two taps see the same lookup), its span the union of theirs.
    public static func joined(_ records: [HostRecord]) -> HostRecord? {
        guard var out = records.first else { return nil }
        func union(_ lists: [[SessionRecord]]) -> [SessionRecord] {
            var kept: [SessionRecord] = []
            for s in lists.joined() {
                if let i = kept.firstIndex(where: { k in
                    k.miner == s.miner && k.minerPort == s.minerPort && k.pool == s.pool && k.poolPort == s.poolPort
                        && sameFlow(startedAt: k.flowFirstSeen.nanoseconds, s.flowFirstSeen.nanoseconds)
                }) {
                    if s.flowLastSeen.since(s.flowFirstSeen) > kept[i].flowLastSeen.since(kept[i].flowFirstSeen) {
                        kept[i] = s
                    }
                } else {
                    kept.append(s)
                }
            }
            return kept.sorted { ($0.flowFirstSeen, $0.origin) < ($1.flowFirstSeen, $1.origin) }
        }
        out.miner = union(records.map(\.miner))
        out.pool = union(records.map(\.pool))
        var byKey: [String: Evidence] = [:]
        var order: [String] = []
        for e in records.flatMap(\.evidence) {
            guard var kept = byKey[e.mergeKey] else {
                byKey[e.mergeKey] = e
                order.append(e.mergeKey)
                continue
            }
            if e.count > kept.count {
                let (f, l) = (min(kept.first, e.first), max(kept.last, e.last))
                kept = e
                kept.first = f
                kept.last = l
            } else {
                kept.first = min(kept.first, e.first)
                kept.last = max(kept.last, e.last)
            }
            byKey[e.mergeKey] = kept
        }
        out.evidence = order.compactMap { byKey[$0] }.sorted { $0.orderKey < $1.orderKey }
        out.retired = records.map(\.retired).max() ?? 0
        out.firstSeen = records.compactMap(\.firstSeen).min()
        return out
    }

    /// The host judged from this record: the function `HostVerdicts.reports` uses.
    public func judged() -> HostReport {
        var r = HostVerdicts.judge(host: host, miner: miner, pool: pool, evidence: evidence, policy: policy)
        if retired > 0 {
            r.reasons.append(.retiredSessions(retired))
            if let f = firstSeen, r.firstSeen.map({ f < $0 }) ?? true { r.firstSeen = f }
        }
        return r
    }
}
