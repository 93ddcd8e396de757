import Coins
import Detection
import Foundation
import PacketDecoding
import SafeNumbers
import Stratum

public struct HostJSON: Codable, Sendable {
    public var host: String
    public var verdict: String
    /// "relay" for a host that serves mining work and mines upstream (verdict mining); else null.
    public var role: String?
    public var confidence: Int
    public var reasons: [String]
    public var first_seen: String?
    public var last_seen: String?
    public var pools: [String]
    public var wallets: [String]
    public var workers: [String]
    public var miner_software: [String]
    public var shares_accepted: Int
    /// The host's rate when all its rated sessions mine one coin (else null: see `estimated_hashrates`).
    public var estimated_hashrate_hs: Double?
    public var hashrate_unit: String?
    /// One total per coin (or per dialect when the coin is unknown): rates of different coins never add.
    public var estimated_hashrates: [RateJSON]?
    public var sessions: [SessionJSON]
    public var served_sessions: [SessionJSON]
    public var evidence: [EvidenceJSON]

    public init(_ r: HostReport) {
        host = r.host.description
        verdict = r.verdict.rawValue
        role = r.role?.rawValue
        confidence = r.confidence
        reasons = r.reasonTexts
        first_seen = r.firstSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        last_seen = r.lastSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        var pools: [String] = []
        var wallets: [String] = []
        var software: [String] = []
        var workers: [String] = []
        for s in r.minerSessions {
            for w in s.summary.workers where !workers.contains(w) && workers.count < 32 { workers.append(w) }
            let p = s.poolDisplay
            if !pools.contains(p) { pools.append(p) }
            for w in s.summary.wallets where !wallets.contains(w) { wallets.append(w) }
            if let sw = s.summary.software, !software.contains(sw) { software.append(sw) }
        }
        for e in r.evidence where e.kind != .peerToPeer && e.kind != .dnsPoolLookup {
            var p = (e.peerEndpoint ?? "?") + (e.name.map { " (\($0))" } ?? "")
            if let route = e.details.proxy { p = ReasonText.proxied(e, route) }
            if !pools.contains(p) { pools.append(p) }
            if let sw = e.software, !software.contains(sw) { software.append(sw) }
        }
        self.pools = pools
        self.wallets = wallets
        self.workers = workers
        miner_software = software
        shares_accepted = r.minerSessions.reduce(0) { $0.addingSaturated($1.summary.sharesAccepted) }
        var totals: [RateKind: RateJSON.Total] = [:]
        for s in r.minerSessions {
            if let h = s.estimatedHashrate {
                RateJSON.add(h, shares: s.summary.sharesAccepted, kind: s.rateKind, to: &totals)
            }
        }
        let rates = RateJSON.list(totals)
        estimated_hashrates = rates
        estimated_hashrate_hs = rates.count == 1 ? rates[0].estimated : nil
        hashrate_unit = rates.count == 1 ? rates[0].unit : nil
        sessions = r.minerSessions.map { SessionJSON($0, role: "miner") }
        served_sessions = r.poolSessions.map { SessionJSON($0, role: "pool") }
        evidence = r.evidence.map { EvidenceJSON($0, policy: r.policy) }
    }

    enum CodingKeys: String, CodingKey {
        case host, verdict, role, confidence, reasons, first_seen, last_seen, pools, wallets, workers, miner_software,
            shares_accepted, estimated_hashrate_hs, hashrate_unit, estimated_hashrates, sessions, served_sessions,
            evidence
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(role, forKey: .role)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(first_seen, forKey: .first_seen)
        try c.encode(last_seen, forKey: .last_seen)
        try c.encode(pools, forKey: .pools)
        try c.encode(wallets, forKey: .wallets)
        try c.encode(workers, forKey: .workers)
        try c.encode(miner_software, forKey: .miner_software)
        try c.encode(shares_accepted, forKey: .shares_accepted)
        try c.encode(estimated_hashrate_hs, forKey: .estimated_hashrate_hs)
        try c.encode(hashrate_unit, forKey: .hashrate_unit)
        try c.encode(estimated_hashrates ?? [], forKey: .estimated_hashrates)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(served_sessions, forKey: .served_sessions)
        try c.encode(evidence, forKey: .evidence)
    }
}

/// One rate total: `{"coin": "zcash", "dialect": null, "unit": "Sol/s", "estimated": 675.0}`
/// (`coin` null and `dialect` named when the coin could not be told).
public struct RateJSON: Codable, Sendable, Equatable {
    public var coin: String?
    public var dialect: String?
    public var unit: String
    public var estimated: Double
    /// Accepted shares the estimate rests on, and its 95 % interval (`RateInterval`); nil in stores
    /// written before they were recorded.
    public var shares: Int?
    public var low: Double?
    public var high: Double?

    public init(kind: RateKind, estimated: Double, shares: Int? = nil) {
        coin = kind.coin
        dialect = kind.dialect
        unit = kind.unit.rawValue
        self.estimated = estimated
        self.shares = shares
        if let n = shares, let f = RateInterval.factors(shares: n) {
            low = SessionJSON.round(estimated * f.low)
            high = SessionJSON.round(estimated * f.high)
        }
    }

    public var kind: RateKind { RateKind(coin: coin, dialect: dialect) }

    /// A per-kind total: the rates summed, and the shares behind them (nil once any part's are unknown).
    public typealias Total = (rate: Double, shares: Int?)

    /// Adds a rate and its shares to the total of its kind.
    public static func add(_ rate: Double, shares: Int?, kind: RateKind, to totals: inout [RateKind: Total]) {
        let t = totals[kind] ?? (0, 0)
        totals[kind] = (t.rate + rate, t.shares.flatMap { a in shares.map { a.addingSaturated($0) } })
    }

    /// Totals in a stable order (by label), rounded like every estimate; a sum past the finite range is
    /// left out. The interval of a total comes from all the shares behind it (the sessions' difficulties
    /// taken as alike: their sum is then one Poisson count).
    public static func list(_ totals: [RateKind: Total]) -> [RateJSON] {
        totals.filter { $0.value.rate.isFinite && $0.value.rate > 0 }.sorted { $0.key < $1.key }
            .map { RateJSON(kind: $0.key, estimated: SessionJSON.round($0.value.rate), shares: $0.value.shares) }
    }

    /// "675 Sol/s (zcash)".
    public var text: String { Format.hashrate(estimated, HashrateUnit(rawValue: unit) ?? .hashes) + " (\(kind.label))" }

    enum CodingKeys: String, CodingKey { case coin, dialect, unit, estimated, shares, low, high }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(coin, forKey: .coin)
        try c.encode(dialect, forKey: .dialect)
        try c.encode(unit, forKey: .unit)
        try c.encode(estimated, forKey: .estimated)
        try c.encode(shares, forKey: .shares)
        try c.encode(low, forKey: .low)
        try c.encode(high, forKey: .high)
    }
}

extension HostJSON {
    /// The verdict as people read it: "mining (relay)" for a relay.
    public var verdictText: String { role.map { "\(verdict) (\($0))" } ?? verdict }

    /// The per-coin totals; a host stored before they existed has its one total, coin unknown.
    public var rateList: [RateJSON] {
        estimated_hashrates ?? estimated_hashrate_hs.map {
            [RateJSON(kind: RateKind(coin: nil, dialect: nil), estimated: $0)]
        } ?? []
    }

    /// "675 Sol/s", or the first of several coins' rates and how many more: "17.1 MH/s +1".
    public var rateCell: String {
        let rates = rateList
        guard let first = rates.first else { return "-" }
        let one = Format.hashrate(first.estimated, HashrateUnit(rawValue: first.unit) ?? .hashes)
        return rates.count > 1 ? "\(one) +\(rates.count - 1)" : one
    }
}

public struct ReportDocument: Encodable {
    public var summary: RunSummary
    public var hosts: [HostJSON]
    public init(summary: RunSummary, hosts: [HostJSON]) {
        self.summary = summary
        self.hosts = hosts
    }
}
