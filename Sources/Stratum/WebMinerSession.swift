import JSON
import PacketDecoding

/// Browser-miner messages carried in WebSocket text frames, in the Coinhive
/// protocol that most web miners and their proxies copied:
///
///     client → {"type":"auth","params":{"site_key":"…","type":"anonymous","user":null}}
///     server ← {"type":"authed","params":{"token":"","hashes":0}}
///     server ← {"type":"job","params":{"job_id":"…","blob":"…","target":"…"}}
///     client → {"type":"submit","params":{"job_id":"…","nonce":"…","result":"…"}}
///     server ← {"type":"hash_accepted","params":{"hashes":256}}
///
/// and in the protocol of the open-source webminerpool server (notgiven688/webminerpool) that many
/// browser-miner services run, with the fields at the top level and an `identifier` for the type:
///
///     client → {"identifier":"handshake","pool":"…","login":"<wallet>","password":"…","userid":"…","version":7}
///     server ← {"identifier":"job","job_id":"…","blob":"…","target":"…","algo":"cn","variant":2}
///     client → {"identifier":"solved","job_id":"…","nonce":"…","result":"…"}
///     server ← {"identifier":"hashsolved"}          ← {"identifier":"error","param":"…"}
///
/// A site key (Coinhive `site_key`) is reported as the wallet — it is whom the hashes pay; a
/// webminerpool handshake's `login` is the wallet itself, its `userid` the worker, its `pool` the
/// upstream pool's name.
///
/// Stratum JSON-RPC inside WebSocket (web-miner proxies) goes to `StratumSession` instead.
public struct WebMinerSession {
    public private(set) var summary = StratumSummary()
    /// Side that sent auth / submit.
    private var clientSide: Side?
    public private(set) var messages = 0

    public init() {
        summary.dialect = .webMiner
    }

    /// Handles one text message. Returns false when it is not a web-miner message.
    @discardableResult
    public mutating func handle(_ text: [UInt8], from side: Side, time: Timestamp) -> Bool {
        guard text.first == UInt8(ascii: "{"),
            let value = text.withUnsafeBytes({ try? JSONParser.parse($0, maxDepth: 16) }),
            let m = value.object, let (type, params) = Self.message(m)
        else { return false }
        switch type {
        case "auth", "login", "handshake":
            guard clientSide == nil || clientSide == side else { return false }
            clientSide = side
            for field in ["site_key", "login"] {
                if let key = params?[field]?.string, !key.isEmpty { summary.wallets.appendUnique(key, cap: 16) }
            }
            for field in ["user", "userid"] {
                if let user = params?[field]?.string, !user.isEmpty { summary.workers.appendUnique(user, cap: 16) }
            }
            if let pool = params?["pool"]?.string, !pool.isEmpty { summary.poolHostnames.appendUnique(pool, cap: 16) }
            if !summary.minerMethods.contains(type) { summary.minerMethods.append(type) }
        case "authed":
            guard let c = clientSide, c != side else { return false }
            summary.loginAccepted = true
            if let h = params?["hashes"]?.double, h > 0, h <= StratumSummary.maxPlausibleHashes {
                summary.acceptedHashes = max(summary.acceptedHashes, h)
            }
        case "job":
            guard let p = params, p["blob"]?.string != nil, p["job_id"]?.string != nil else { return false }
            if clientSide == nil { clientSide = side.other }
            guard side != clientSide else { return false }
            summary.jobsReceived += 1
            if let t = p["target"]?.string, let d = StratumSession.cryptonoteDifficulty(t) {
                summary.hashesPerShare = d
            }
            if let algo = p["algo"]?.string { summary.algorithms.appendUnique(algo, cap: 16) }
            if let v = p["variant"]?.integer(in: 0...99) { summary.algorithms.appendUnique("cn variant \(v)", cap: 16) }
        case "submit", "solved":
            guard params?["nonce"] != nil || params?["result"] != nil else { return false }
            if clientSide == nil { clientSide = side }
            guard side == clientSide else { return false }
            summary.sharesSubmitted += 1
        case "hash_accepted", "hashsolved":
            guard let c = clientSide, c != side else { return false }
            summary.sharesAccepted += 1
            if let h = params?["hashes"]?.double, h > 0, h <= StratumSummary.maxPlausibleHashes {
                summary.acceptedHashes = max(summary.acceptedHashes, h)
            }
        case "error", "banned":
            guard let c = clientSide, c != side else { return false }
            if summary.loginAccepted == nil { summary.loginAccepted = false } else { summary.sharesRejected += 1 }
        default:
            return false
        }
        messages += 1
        summary.messages += 1
        if summary.firstSeen == nil { summary.firstSeen = time }
        summary.lastSeen = time
        summary.minerSide = clientSide
        let poolSpoke = summary.jobsReceived > 0 || summary.loginAccepted != nil || summary.sharesAccepted > 0
        summary.shape =
            poolSpoke
            ? (clientSide != nil && (summary.sharesSubmitted > 0 || !summary.minerMethods.isEmpty)
                ? .twoSided : .poolPushOnly) : .minerOnly
        // Coinhive-style jobs are CryptoNight/RandomX
        if summary.coin == nil, summary.jobsReceived > 0 { summary.coin = "monero" }
        return true
    }

    /// The message type and its fields: Coinhive's `{"type", "params": {…}}` or webminerpool's
    /// `{"identifier", …fields…}`; nil for any other JSON.
    static func message(_ m: JSONObject) -> (String, JSONObject?)? {
        if let type = m["type"]?.string { return (type, m["params"]?.object) }
        if let identifier = m["identifier"]?.string { return (identifier, m) }
        return nil
    }
}
