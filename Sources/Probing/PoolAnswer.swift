import Detection
import Foundation
import HTTP
import JSON
import Stratum

/// What a pool gave away in its answer: enough to name the coin where the traffic could not.
public struct PoolAnswer: Equatable, Sendable, Codable {
    public var dialect: ProbeDialect
    /// As the pool wrote it ("rx/0"), or the family its job's shape belongs to ("ethash").
    public var algorithm: String?
    public var coin: String?
    /// Share difficulty the pool set for us.
    public var difficulty: Double?
    public var jobID: String?
    public var height: Int?
    /// "CryptoNote job", "Bitcoin-style block template", ... : what the job looked like.
    public var job: String?
    /// The pool accepted the throwaway wallet (false: refused it, yet answered as a pool).
    public var loginAccepted: Bool?
    /// Stratum V2: the pool's static Noise key (x-only hex) — the same key behind another address is the same pool.
    public var serverKey: String?

    public init(dialect: ProbeDialect) { self.dialect = dialect }
}
