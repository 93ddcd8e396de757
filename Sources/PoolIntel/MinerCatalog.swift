/// Known mining software, recognised in Stratum agents, HTTP User-Agents and
/// WebSocket messages, with the coins each is typically used for.
public enum MinerCatalog {
    public struct Software: Sendable, Equatable {
        /// Canonical name, e.g. "XMRig".
        public var name: String
        /// Version text when the agent carries one ("6.21.0").
        public var version: String?
        public var typicalCoins: [String]
        public var display: String { version.map { "\(name)/\($0)" } ?? name }
    }

    /// (token matched case-insensitively at the start of a word, canonical name, coins).
    /// Longer tokens first where one is a prefix of another.
    static let known: [(String, String, [String])] = [
        ("xmrig-proxy", "xmrig-proxy", ["monero"]), ("xmrig-nvidia", "XMRig", ["monero"]),
        ("xmrig-amd", "XMRig", ["monero"]),
        ("xmrig", "XMRig", ["monero"]), ("xmr-stak-cpu", "xmr-stak", ["monero"]), ("xmr-stak", "xmr-stak", ["monero"]),
        ("xmr-node-proxy", "xmr-node-proxy", ["monero"]), ("cpuminer-multi", "cpuminer-multi", []),
        ("cpuminer-opt", "cpuminer-opt", []), ("cpuminer", "cpuminer", []), ("minerd", "cpuminer", []),
        ("cgminer", "cgminer", ["bitcoin"]), ("bfgminer", "bfgminer", ["bitcoin"]), ("bmminer", "bmminer", ["bitcoin"]),
        ("poclbm", "poclbm", ["bitcoin"]), ("diablominer", "DiabloMiner", ["bitcoin"]),
        ("phoenixminer", "PhoenixMiner", ["ethereum"]),
        ("ethminer", "ethminer", ["ethereum"]), ("claymore", "Claymore", ["ethereum"]), ("ewbf", "EWBF", ["zcash"]),
        ("t-rex", "T-Rex", []), ("trex", "T-Rex", []), ("lolminer", "lolMiner", []), ("nbminer", "NBMiner", []),
        ("gminer", "GMiner", []), ("teamredminer", "TeamRedMiner", []), ("srbminer-multi", "SRBMiner", []),
        ("srbminer", "SRBMiner", []), ("nicehash", "NiceHash", []), ("nhm", "NiceHash", []),
        ("excavator", "NiceHash Excavator", []),
        ("ccminer", "ccminer", []), ("sgminer", "sgminer", []), ("bminer", "Bminer", []), ("wildrig", "WildRig", []),
        ("nanominer", "nanominer", []), ("kawpowminer", "kawpowminer", ["ravencoin"]), ("z-enemy", "z-enemy", []),
        ("cryptodredge", "CryptoDredge", []), ("miniz", "miniZ", []), ("rigel", "Rigel", []),
        ("bzminer", "BzMiner", []),
        ("onezerominer", "OneZeroMiner", []), ("xmrigcc", "XMRigCC", ["monero"]),
        ("ethdcrminer64", "Claymore", ["ethereum"]),
        ("dstm", "dstm", ["zcash"]), ("optiminer", "Optiminer", []), ("coinhive", "Coinhive", ["monero"]),
        ("cryptonight", "CryptoNight miner", ["monero"])
    ]

    /// Identifies mining software in an agent string such as "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2".
    /// Tokens must start a word, so "bigcpuminerdemo" does not match.
    /// - Complexity: O(agent length × known tokens), agents are short.
    public static func identify(_ agent: String) -> Software? {
        var bytes = Array(agent.utf8.prefix(512))
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] |= 0x20 }
        for i in bytes.indices where i == 0 || !isWordByte(bytes[i - 1]) {
            // Only word starts whose first letter begins some token are tried.
            for k in tokensByFirstByte[Int(bytes[i])] {
                let (t, name, coins) = tokens[k]
                let end = i + t.count
                guard end <= bytes.count, bytes[i..<end].elementsEqual(t) else { continue }
                // "XMRig/6.21.0", "EWBF's CUDA Zcash Miner 0.3.4b", "cgminer 4.10.0" — but not "xmrigfan".
                if end < bytes.count && isWordByte(bytes[end]) && bytes[end] != 0x2D { continue }
                return Software(name: name, version: version(after: end, in: agent), typicalCoins: coins)
            }
        }
        return nil
    }

    private static let tokens: [([UInt8], String, [String])] = known.map { (Array($0.0.utf8), $0.1, $0.2) }
    /// Token indices by first byte, in list order (longer tokens listed first win).
    /// (A table of 256, not a dictionary: it is consulted at every word start of every agent.)
    private static let tokensByFirstByte: [[Int]] = {
        var table = [[Int]](repeating: [], count: 256)
        for k in tokens.indices { table[Int(tokens[k].0[0])].append(k) }
        return table
    }()

    private static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A)
    }

    /// The first version-looking token ("6.21.0", "v0.3.4b") after the name.
    private static func version(after offset: Int, in agent: String) -> String? {
        let tail = agent.utf8.dropFirst(offset).prefix(64)
        let text = String(decoding: tail, as: UTF8.self)
        for word in text.split(whereSeparator: {
            $0 == " " || $0 == "/" || $0 == "(" || $0 == ")" || $0 == ";" || $0 == ","
        }).prefix(6) {
            var w = Substring(word)
            if w.first == "v" || w.first == "V" { w = w.dropFirst() }
            if let f = w.first, f.isNumber, w.contains("."), w.count <= 24 { return String(w) }
        }
        return nil
    }
}
