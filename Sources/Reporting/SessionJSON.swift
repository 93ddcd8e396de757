import Detection
import Foundation
import PacketDecoding
import SafeNumbers
import Stratum

public struct SessionJSON: Codable, Sendable {
    public var role: String
    public var miner: String
    public var pool: String
    /// The flow's Community ID v1 (seed 0): the same connection in Zeek, Suricata or a SIEM. Null only
    /// in stores written before it.
    public var community_id: String?
    public var pool_hostnames: [String]
    public var vlan: UInt16
    public var shape: String
    public var dialect: String?
    public var coin: String?
    public var algorithms: [String]
    public var wallets: [String]
    public var workers: [String]
    public var miner_software: String?
    public var login_accepted: Bool?
    public var jobs_received: Int
    public var shares_submitted: Int
    public var shares_accepted: Int
    public var shares_rejected: Int
    public var difficulty: Double?
    public var hashes_per_share: Double?
    public var estimated_hashrate_hs: Double?
    /// The estimate's 95 % interval from its accepted shares (`RateInterval`).
    public var estimated_hashrate_low_hs: Double?
    public var estimated_hashrate_high_hs: Double?
    public var reported_hashrate_hs: Double?
    /// What both rates count: "H/s", or "Sol/s" for Equihash coins (nil only in stores written before it).
    public var hashrate_unit: String?
    public var first_seen: String?
    public var last_seen: String?
    public var bytes_from_miner: Int
    public var bytes_from_pool: Int
    public var end_reason: String
    public var transport: String
    public var pool_list_match: String?
    /// `{"kind": "socks5", "target": "pool.example.com:3333"}` when the session went through a proxy.
    public var proxy: ProxyRoute?

    public init(_ s: SessionRecord, role: String) {
        let m = s.summary
        self.role = role
        miner = s.minerEndpoint
        pool = s.poolEndpoint
        community_id = s.communityID
        pool_hostnames = m.poolHostnames
        vlan = s.vlanID
        shape = m.shape.rawValue
        dialect = m.dialect?.rawValue
        coin = s.coin
        algorithms = m.algorithms
        wallets = m.wallets
        workers = m.workers
        miner_software = m.software
        login_accepted = m.loginAccepted
        jobs_received = m.jobsReceived
        shares_submitted = m.sharesSubmitted
        shares_accepted = m.sharesAccepted
        shares_rejected = m.sharesRejected
        // Numbers from the wire: anything not finite is null, never a string in a number field.
        difficulty = m.difficulty?.finite.map(Self.round)
        hashes_per_share = m.hashesPerShare?.finite.map(Self.round)
        estimated_hashrate_hs = m.estimatedHashrate?.finite.map(Self.round)
        if let h = m.estimatedHashrate?.finite, let f = RateInterval.factors(shares: m.sharesAccepted) {
            estimated_hashrate_low_hs = Self.round(h * f.low)
            estimated_hashrate_high_hs = Self.round(h * f.high)
        }
        reported_hashrate_hs = m.reportedHashrate?.finite
        hashrate_unit = s.rateKind.unit.rawValue
        first_seen = m.firstSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        last_seen = m.lastSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        bytes_from_miner = s.minerBytes
        bytes_from_pool = s.poolBytes
        end_reason = s.endReason.rawValue
        transport = s.transport.rawValue
        pool_list_match = s.poolList.map { "\($0.matched) (\($0.entry.kind.rawValue), \($0.entry.source))" }
        proxy = s.proxy
    }

    /// Six significant digits: estimates, not measurements.
    static func round(_ v: Double) -> Double {
        guard v.isFinite, v != 0 else { return v }
        // Scale by an exact power of ten on the side that keeps it a whole number: dividing by 1e5
        // rather than multiplying by 1e-5 gives 26939600000, not 26939599999.999996.
        let e = Int(floor(log10(abs(v)))) - 5
        if e >= 0 {
            let scale = pow(10, Double(e))
            return (v / scale).rounded() * scale
        }
        let scale = pow(10, Double(-e))
        return (v * scale).rounded() / scale
    }

    // Encode optionals as null so every documented field is always present.
    enum CodingKeys: String, CodingKey {
        case role, miner, pool, community_id, pool_hostnames, vlan, shape, dialect, coin, algorithms, wallets, workers,
            miner_software,
            login_accepted, jobs_received, shares_submitted, shares_accepted, shares_rejected, difficulty,
            hashes_per_share, estimated_hashrate_hs, estimated_hashrate_low_hs, estimated_hashrate_high_hs,
            reported_hashrate_hs, hashrate_unit, first_seen, last_seen, bytes_from_miner,
            bytes_from_pool, end_reason, transport, pool_list_match, proxy
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(miner, forKey: .miner)
        try c.encode(pool, forKey: .pool)
        try c.encode(community_id, forKey: .community_id)
        try c.encode(pool_hostnames, forKey: .pool_hostnames)
        try c.encode(vlan, forKey: .vlan)
        try c.encode(shape, forKey: .shape)
        try c.encode(dialect, forKey: .dialect)
        try c.encode(coin, forKey: .coin)
        try c.encode(algorithms, forKey: .algorithms)
        try c.encode(wallets, forKey: .wallets)
        try c.encode(workers, forKey: .workers)
        try c.encode(miner_software, forKey: .miner_software)
        try c.encode(login_accepted, forKey: .login_accepted)
        try c.encode(jobs_received, forKey: .jobs_received)
        try c.encode(shares_submitted, forKey: .shares_submitted)
        try c.encode(shares_accepted, forKey: .shares_accepted)
        try c.encode(shares_rejected, forKey: .shares_rejected)
        try c.encode(difficulty, forKey: .difficulty)
        try c.encode(hashes_per_share, forKey: .hashes_per_share)
        try c.encode(estimated_hashrate_hs, forKey: .estimated_hashrate_hs)
        try c.encode(estimated_hashrate_low_hs, forKey: .estimated_hashrate_low_hs)
        try c.encode(estimated_hashrate_high_hs, forKey: .estimated_hashrate_high_hs)
        try c.encode(reported_hashrate_hs, forKey: .reported_hashrate_hs)
        try c.encode(hashrate_unit, forKey: .hashrate_unit)
        try c.encode(first_seen, forKey: .first_seen)
        try c.encode(last_seen, forKey: .last_seen)
        try c.encode(bytes_from_miner, forKey: .bytes_from_miner)
        try c.encode(bytes_from_pool, forKey: .bytes_from_pool)
        try c.encode(end_reason, forKey: .end_reason)
        try c.encode(transport, forKey: .transport)
        try c.encode(pool_list_match, forKey: .pool_list_match)
        try c.encode(proxy, forKey: .proxy)
    }
}
