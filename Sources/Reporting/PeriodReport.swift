import Detection
import Foundation
import PacketDecoding
import SafeNumbers

/// A report over a period, rendered from the store (`stratumsniff report`, `live --report-every`).
/// Field names follow the JSON schema's snake_case; hosts carry the same `HostJSON` as `analyze`.
public struct PeriodReport: Codable, Sendable {
    public struct Host: Codable, Sendable {
        public var host: HostJSON
        /// First and last time this host was ever seen with evidence (the whole history, not just the period).
        public var first_seen: String
        public var last_seen: String
        /// When it was first flagged mining or likely-mining, if ever.
        @NullEncoded public var first_flagged: String?
        /// Flagged for the first time inside this period.
        public var new_in_period: Bool
        /// Mining sessions that overlap the period, for the timeline.
        public var sessions: [Session]
        /// The site the host's address belongs to ("" when sensors name none): the same address at two
        /// sites is two hosts.
        public var site: String
        /// The sensors that saw it (a miner whose traffic crosses two taps is one host seen by both);
        /// `host` is the most serious of their judgements.
        public var sensors: [String]

        public init(
            host: HostJSON, first_seen: String, last_seen: String, first_flagged: String?, new_in_period: Bool,
            sessions: [Session],
            site: String = "", sensors: [String] = []
        ) {
            self.host = host
            self.first_seen = first_seen
            self.last_seen = last_seen
            self.first_flagged = first_flagged
            self.new_in_period = new_in_period
            self.sessions = sessions
            self.site = site
            self.sensors = sensors
        }

        /// The host as a reader names it: its address, and its site where sensors name sites.
        public var label: String { site.isEmpty ? host.host : "\(host.host) @ \(site)" }
    }

    public struct Session: Codable, Sendable {
        public var pool: String
        @NullEncoded public var pool_name: String?
        @NullEncoded public var dialect: String?
        @NullEncoded public var coin: String?
        @NullEncoded public var wallet: String?
        @NullEncoded public var software: String?
        public var first_seen: String
        public var last_seen: String
        /// Nanoseconds, for the timeline.
        public var start_ns: Int64
        public var end_ns: Int64
        public var shares_accepted: Int
        @NullEncoded public var estimated_hashrate_hs: Double?
        @NullEncoded public var hashrate_unit: String?
        /// The sensor that saw it.
        public var sensor: String = ""
        /// The flow's Community ID v1 (null for sessions stored before it was recorded).
        @NullEncoded public var community_id: String?
        public init(
            pool: String, pool_name: String?, dialect: String?, coin: String?, wallet: String?, software: String?,
            first_seen: String, last_seen: String, start_ns: Int64, end_ns: Int64, shares_accepted: Int,
            estimated_hashrate_hs: Double?, hashrate_unit: String? = nil
        ) {
            self.pool = pool
            self.pool_name = pool_name
            self.dialect = dialect
            self.coin = coin
            self.wallet = wallet
            self.software = software
            self.first_seen = first_seen
            self.last_seen = last_seen
            self.start_ns = start_ns
            self.end_ns = end_ns
            self.shares_accepted = shares_accepted
            self.estimated_hashrate_hs = estimated_hashrate_hs
            self.hashrate_unit = hashrate_unit
        }
    }

    public struct Change: Codable, Sendable {
        public var time: String
        public var host: String
        @NullEncoded public var old_verdict: String?
        public var new_verdict: String
        public var confidence: Int
        @NullEncoded public var reason: String?
        /// The sensor whose verdict changed, and its site.
        public var sensor: String
        public var site: String
        public init(
            time: String, host: String, old_verdict: String?, new_verdict: String, confidence: Int, reason: String?,
            sensor: String = "", site: String = ""
        ) {
            self.time = time
            self.host = host
            self.old_verdict = old_verdict
            self.new_verdict = new_verdict
            self.confidence = confidence
            self.reason = reason
            self.sensor = sensor
            self.site = site
        }
    }

    public struct Capture: Codable, Sendable {
        public var runs: Int
        public var packets: Int
        @NullEncoded public var packets_received: Int?
        @NullEncoded public var packets_dropped_by_kernel: Int?
        @NullEncoded public var packets_dropped_by_interface: Int?
        public init(
            runs: Int, packets: Int, packets_received: Int?, packets_dropped_by_kernel: Int?,
            packets_dropped_by_interface: Int?
        ) {
            self.runs = runs
            self.packets = packets
            self.packets_received = packets_received
            self.packets_dropped_by_kernel = packets_dropped_by_kernel
            self.packets_dropped_by_interface = packets_dropped_by_interface
        }
    }

    public var generated: String
    public var from: String
    public var to: String
    public var from_ns: Int64
    public var to_ns: Int64
    public var hosts_mining_now: Int
    public var hosts_new_in_period: Int
    /// Σ estimated hashrate of hosts flagged mining / likely-mining in the period, when they all mine
    /// one coin; null when they mine several (then see `estimated_stolen_hashrates`).
    @NullEncoded public var estimated_stolen_hashrate_hs: Double?
    /// One total per coin (per dialect where the coin is unknown), in each coin's unit.
    public var estimated_stolen_hashrates: [RateJSON]
    public var hosts: [Host]
    /// Hosts in the period beyond the `maxHosts` shown (most serious first); 0 when all are shown.
    public var hosts_omitted: Int
    public var verdict_changes: [Change]
    public var capture: Capture
    /// Earliest and latest packet time of any evidence in the store (null for an empty store): an empty
    /// period says where the data is.
    @NullEncoded public var store_first_seen: String?
    @NullEncoded public var store_last_seen: String?
    /// The sensors whose hosts the report covers.
    public var sensors: [String] = []
    /// What the servers of the period's evidence answered when a sensor asked whether they are pools
    /// (`--probe`): the newest answer per server.
    public struct Probed: Codable, Sendable {
        public var server: String
        public var answer: String
        @NullEncoded public var coin: String?
        @NullEncoded public var algorithm: String?
        public var probed_at: String
        public var sentence: String
        public init(
            server: String, answer: String, coin: String?, algorithm: String?, probed_at: String, sentence: String
        ) {
            self.server = server
            self.answer = answer
            self.coin = coin
            self.algorithm = algorithm
            self.probed_at = probed_at
            self.sentence = sentence
        }
    }
    public var probed_servers: [Probed] = []
    /// Hosts listed in one report at most: a store a flood has filled stays a page a browser opens.
    public static let maxHosts = 2000

    /// - Parameters:
    ///   - totals: counts over every host of the period when `hosts` is only the first `maxHosts`.
    public init(
        generated: String, from: String, to: String, from_ns: Int64, to_ns: Int64, hosts: [Host],
        verdict_changes: [Change], capture: Capture, totals: (mining: Int, new: Int, all: Int)? = nil,
        storeSpan: (Int64, Int64)? = nil
    ) {
        store_first_seen = storeSpan.map { TimeFormat.iso8601($0.0) }
        store_last_seen = storeSpan.map { TimeFormat.iso8601($0.1) }
        self.generated = generated
        self.from = from
        self.to = to
        self.from_ns = from_ns
        self.to_ns = to_ns
        self.hosts = hosts
        self.verdict_changes = verdict_changes
        self.capture = capture
        let miners = hosts.filter { $0.host.verdict == "mining" || $0.host.verdict == "likely-mining" }
        hosts_mining_now = max(totals?.mining ?? 0, miners.count)
        hosts_new_in_period = max(totals?.new ?? 0, hosts.filter(\.new_in_period).count)
        hosts_omitted = max((totals?.all ?? hosts.count) - hosts.count, 0)
        var totals: [RateKind: RateJSON.Total] = [:]
        for m in miners {
            // A total without its shares (a host stored before they were recorded) has no interval.
            for r in m.host.rateList { RateJSON.add(r.estimated, shares: r.shares, kind: r.kind, to: &totals) }
        }
        estimated_stolen_hashrates = RateJSON.list(totals)
        estimated_stolen_hashrate_hs =
            estimated_stolen_hashrates.count == 1 ? estimated_stolen_hashrates[0].estimated : nil
    }

    /// The period holds nothing while the store holds evidence outside it.
    public var dataLiesElsewhere: Bool { hosts.isEmpty && store_first_seen != nil }

    /// Said on an empty period of a store whose evidence lies elsewhere.
    public var whereTheDataIs: String? {
        guard dataLiesElsewhere, let a = store_first_seen, let b = store_last_seen else { return nil }
        return
            "The store holds evidence from \(PeriodRenderer.short(a)) to \(PeriodRenderer.short(b)) UTC: see it with --since all, or --from/--to around it."
    }

    /// The stretch of time the period's sessions cover (within the period), for timelines: a 9-year
    /// period with 20 minutes of mining draws those 20 minutes, not a 1-pixel tick.
    public var activeSpan: (Int64, Int64) { Self.span(of: hosts.flatMap(\.sessions), from: from_ns, to: to_ns) }

    /// The stretch of one host's own sessions (its timeline's axis: a host that mined twenty minutes
    /// of a nine-year report gets twenty minutes, not a tick); the report's when it has none.
    public func activeSpan(of host: Host) -> (Int64, Int64) {
        host.sessions.isEmpty ? activeSpan : Self.span(of: host.sessions, from: from_ns, to: to_ns)
    }

    /// From the first session's start to the last one's end, within the period, with a 2 % margin.
    static func span(of sessions: [Session], from from_ns: Int64, to to_ns: Int64) -> (Int64, Int64) {
        var lo = Int64.max
        var hi = Int64.min
        for s in sessions {
            lo = min(lo, s.start_ns)
            hi = max(hi, s.end_ns)
        }
        guard lo <= hi else { return (from_ns, to_ns) }
        lo = max(lo, from_ns)
        hi = min(hi, to_ns)
        guard lo < hi else { return (from_ns, to_ns) }
        // 2 % margin each side, so the first and last bars do not touch the frame.
        let pad = Int64(saturating: hi.difference(from: lo) * 0.02)
        return (max(lo.subtractingSaturated(pad), from_ns), min(hi.addingSaturated(pad), to_ns))
    }
}
