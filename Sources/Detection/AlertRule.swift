import PacketDecoding

/// Which verdict changes are news — an alert to the events file, syslog and the webhook: a host
/// newly flagged `mining` or `likely-mining`, or upgraded from `likely-mining` to `mining`. Anything
/// else (a pool, a node, a downgrade, the same verdict again) is not. Remembers each host's last verdict.
public struct AlertRule: Sendable {
    /// At most this many alerts per commit: a flood of forged sessions must not become an alert storm
    /// (the store has every host; the rest are counted in one `alerts_suppressed` line).
    public static let maxPerCommit = 50

    public struct Alert: Sendable {
        public var report: HostReport
        public var previous: Verdict?
    }

    private var last: [IPAddress: Verdict] = [:]

    public init() {}

    public static func isNews(_ verdict: Verdict, previous: Verdict?) -> Bool {
        switch verdict {
        case .mining: previous != .mining
        case .likelyMining: previous != .mining && previous != .likelyMining
        default: false
        }
    }

    /// Takes one commit's reports: the alerts to send, mining before likely-mining and most confident
    /// first, at most `maxPerCommit`, and how many more there were.
    public mutating func review(_ reports: [HostReport]) -> (alerts: [Alert], suppressed: Int) {
        var news: [Alert] = []
        for r in reports {
            let previous = last[r.host]
            last[r.host] = r.verdict
            if Self.isNews(r.verdict, previous: previous) { news.append(Alert(report: r, previous: previous)) }
        }
        news.sort {
            (HostVerdicts.rank($0.report.verdict), -$0.report.confidence) < (
                HostVerdicts.rank($1.report.verdict), -$1.report.confidence
            )
        }
        return (Array(news.prefix(Self.maxPerCommit)), max(news.count - Self.maxPerCommit, 0))
    }

    /// Hosts come and go under a spoofed flood: past `limit` remembered, keep only those still `held`.
    public mutating func forget(beyond limit: Int, keeping held: (IPAddress) -> Bool) {
        if last.count > limit { last = last.filter { held($0.key) } }
    }

    /// Hosts per last verdict, among those still `held` (metrics).
    public func verdictCounts(held: (IPAddress) -> Bool) -> [Verdict: Int] {
        var counts: [Verdict: Int] = [:]
        for (host, v) in last where held(host) { counts[v, default: 0] += 1 }
        return counts
    }

    /// Hosts whose last verdict counts as flagged (`Verdict.isFlagged`), among those still `held`.
    public func flaggedCount(held: (IPAddress) -> Bool) -> Int {
        last.reduce(0) { n, v in n + (v.value.isFlagged && held(v.key) ? 1 : 0) }
    }
}
