/// What a listed name or address is.
public enum PoolKind: String, Sendable, Codable, CaseIterable {
    /// A mining pool: miners connect to it and submit shares.
    case pool
    /// A browser-mining service: a web page's script mines through it.
    case webMiner = "web-miner"
    /// A hashrate marketplace or rental service (NiceHash, MiningRigRentals).
    case marketplace
}

/// One list entry: the kind, the coins it serves, and where it was written.
public struct PoolEntry: Sendable, Equatable, Codable {
    public var kind: PoolKind
    /// Lower-case coin names ("monero", "bitcoin"); empty when unknown.
    public var coins: [String]
    /// "built-in" or "FILE:LINE", so a verdict can say which list matched.
    public var source: String

    public init(kind: PoolKind, coins: [String] = [], source: String) {
        self.kind = kind
        self.coins = coins
        self.source = source
    }

    /// The coin when the entry names exactly one.
    public var singleCoin: String? { coins.count == 1 ? coins[0] : nil }
}

/// A successful lookup: the list key that matched and its entry.
public struct PoolMatch: Sendable, Equatable, Codable {
    /// The name that was looked up (normalised), e.g. "xmr-eu1.nanopool.org".
    public var name: String
    /// The list key it matched, e.g. "nanopool.org" (or a CIDR for address matches).
    public var matched: String
    public var entry: PoolEntry
}
