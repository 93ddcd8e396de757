/// Everything the program knows about coins, in one table: the name every output spells, the labels
/// its pools' host names carry, the algorithms that are its own, the shape of its wallet addresses,
/// and the unit its hashrate is counted in. Parsing (a wallet's coin), detection (a session's coin),
/// reporting (units and totals) and the probe (which job is whose) all read it; nothing else names
/// coins. (Pool lists and the miner catalogue say which coins a pool or a program serves: that is
/// what they know about pools and programs, not about coins.)
public struct Coin: Sendable, Hashable {
    /// As every output spells it: "monero", "ethereum-classic".
    public let name: String
    /// Host-name labels that name it ("eu1-zcash.flypool.org" → zcash), in the order they are tried.
    public let hostKeywords: [String]
    /// Algorithm names — XMRig's, and the pools' for GPU algorithms — that belong to this coin alone.
    public let algorithms: [String]
    /// What its hashrate counts: hashes, or Equihash solutions.
    public let unit: HashrateUnit

    init(_ name: String, keywords: [String] = [], algorithms: [String] = [], unit: HashrateUnit = .hashes) {
        self.name = name
        hostKeywords = keywords
        self.algorithms = algorithms
        self.unit = unit
    }
}

/// What a hashrate counts. Equihash pools set targets per solution: its rates are solutions per second.
public enum HashrateUnit: String, Sendable, Codable {
    case hashes = "H/s"
    case solutions = "Sol/s"
}

public enum Coins {
    /// Every coin the program names, and what it knows of each.
    public static let all: [Coin] = [
        Coin("zcash", keywords: ["zcash", "zec"], unit: .solutions),
        Coin("monero", keywords: ["monero", "xmr"]),
        Coin("ethereum-classic", keywords: ["etc"], algorithms: ["etchash"]),
        Coin("ethereum", keywords: ["eth"]),
        Coin("ravencoin", keywords: ["ravencoin", "rvn"], algorithms: ["kawpow"]),
        Coin("litecoin", keywords: ["litecoin", "ltc"]),
        Coin("bitcoin", keywords: ["bitcoin", "btc"]),
        Coin("wownero", algorithms: ["rx/wow"]), Coin("arqma", algorithms: ["rx/arq"]),
        Coin("graft", algorithms: ["rx/graft"]), Coin("safex", algorithms: ["rx/sfx"]),
        Coin("kevacoin", algorithms: ["rx/keva"]), Coin("haven", algorithms: ["cn-heavy/xhv"]),
        Coin("masari", algorithms: ["cn/half"]), Coin("aeon", algorithms: ["cn-lite/1"]),
        Coin("talleo", algorithms: ["cn-pico/tlo"]),
        Coin("turtlecoin", algorithms: ["argon2/chukwa", "argon2/chukwav2"]),
        Coin("ninjacoin", algorithms: ["argon2/ninja"]), Coin("raptoreum", algorithms: ["ghostrider"]),
        Coin("ergo", algorithms: ["autolykos2"]), Coin("kaspa", algorithms: ["kheavyhash"]),
        // Equihash chains besides Zcash: rates in solutions.
        Coin("zclassic", unit: .solutions), Coin("horizen", unit: .solutions), Coin("zencash", unit: .solutions),
        Coin("bitcoin-gold", unit: .solutions), Coin("komodo", unit: .solutions), Coin("flux", unit: .solutions),
        Coin("zelcash", unit: .solutions), Coin("beam", unit: .solutions), Coin("aion", unit: .solutions)
    ]

    private static let byName: [String: Coin] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    private static let byAlgorithm: [String: String] = Dictionary(
        all.flatMap { coin in coin.algorithms.map { ($0, coin.name) } }, uniquingKeysWith: { a, _ in a })
    /// Keywords in the table's order: the first that matches a label wins ("etc" before "eth").
    private static let keywords: [(String, String)] = all.flatMap { coin in coin.hostKeywords.map { ($0, coin.name) } }

    public static func named(_ name: String) -> Coin? { byName[name] }

    /// The unit a coin's hashrate is counted in (hashes for a coin the table does not know).
    public static func unit(of name: String?) -> HashrateUnit { name.flatMap { byName[$0]?.unit } ?? .hashes }

    /// The coin an algorithm name points to; RandomX and CryptoNight names no other coin claims are Monero's.
    public static func coin(forAlgorithm name: String) -> String? {
        let n = name.lowercased()
        if let coin = byAlgorithm[n] { return coin }
        if n.hasPrefix("rx/") || n.hasPrefix("cn") || n == "randomx" { return "monero" }
        return nil
    }

    /// Matches keywords against the labels of a host name ("eu1-zcash.flypool.org" → zcash; "zec2" too).
    public static func coin(forHostname host: String) -> String? {
        let labels = host.lowercased().split(whereSeparator: { $0 == "." || $0 == "-" || $0 == ":" })
        for (keyword, coin) in keywords
        where labels.contains(where: {
            $0 == keyword || ($0.hasPrefix(keyword) && $0.dropFirst(keyword.count).allSatisfy(\.isNumber))
        }) {
            return coin
        }
        return nil
    }

    /// The coin a wallet address's shape points to, when it is distinctive.
    public static func coin(forWallet w: String) -> String? {
        let n = w.count
        let base58 = w.utf8.allSatisfy { c in
            (c >= 49 && c <= 57) || (c >= 65 && c <= 90 && c != 73 && c != 79) || (c >= 97 && c <= 122 && c != 108)
        }
        let hex = w.utf8.dropFirst(2).allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70)
        }
        if w.hasPrefix("0x") && n == 42 && hex { return "ethereum" }
        if (w.hasPrefix("4") || w.hasPrefix("8")) && (n == 95 || n == 106) && base58 { return "monero" }
        if (w.hasPrefix("t1") || w.hasPrefix("t3")) && n == 35 && base58 { return "zcash" }
        if w.hasPrefix("bc1") && n >= 42 && n <= 62 { return "bitcoin" }
        if (w.hasPrefix("1") || w.hasPrefix("3")) && n >= 26 && n <= 35 && base58 { return "bitcoin" }
        if (w.hasPrefix("L") || w.hasPrefix("M")) && n == 34 && base58 { return "litecoin" }
        if w.hasPrefix("ltc1") { return "litecoin" }
        if w.hasPrefix("R") && n == 34 && base58 { return "ravencoin" }
        return nil
    }

    /// The coin a dialect mines when nothing else says: CryptoNote's is Monero, the Ethereum dialects'
    /// Ethereum (their names as `StratumDialect` spells them).
    public static func coin(forDialect dialect: String) -> String? {
        switch dialect {
        case "cryptonote": "monero"
        case "eth-proxy", "ethereum-stratum-1.0", "ethereum-stratum-2.0": "ethereum"
        default: nil
        }
    }

    /// A network difficulty (from a block header's nBits) no SHA-256d or scrypt chain but Bitcoin has
    /// reached: Bitcoin passed it in 2019 and has not fallen back; Bitcoin Cash has never been above 10¹².
    public static let bitcoinOnlyDifficulty = 1e13
}
