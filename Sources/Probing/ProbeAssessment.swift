import Coins
import Detection
import Foundation
import HTTP
import JSON
import Stratum

/// How one attempt's answer reads so far.
public enum ProbeAssessment: Equatable, Sendable {
    /// Not enough yet: keep reading until the deadline.
    case needMore
    /// Answered the way only a pool does (a job, or a subscription with an extranonce).
    case pool(PoolAnswer)
    /// Spoke the dialect (knew the method) but refused us and gave no work: neither confirms nor clears.
    case refused(String)
    /// Something else answered.
    case other(ServerReply)

    /// Reads what a server sent in answer to `dialect`'s requests.
    /// - Parameters:
    ///   - received: every byte so far (the caller stops reading at its cap).
    ///   - complete: no more bytes will come (closed, timed out or capped): decide with what there is.
    ///   - closed: the server closed the connection (tells silence from a hang-up).
    public static func assess(_ dialect: ProbeDialect, received: [UInt8], complete: Bool, closed: Bool = false)
        -> ProbeAssessment
    {
        // The binary dialect's answers are read through its handshake (`NoiseHandshake`, in the prober);
        // without one, an answer to its hello is whatever it looks like.
        if dialect.isBinary {
            guard complete || received.count >= NoiseHandshake.answerSize else { return .needMore }
            let failure: NoiseHandshake.Failure =
                received.count < NoiseHandshake.answerSize ? .short(received.count) : .unauthenticated
            return StratumV2Probe.assess(handshakeFailure: failure, answer: received, closed: closed)
        }
        // Whitespace before a JSON line is skipped — but an MQTT CONNACK starts with 0x20, a space.
        let connack = received.count >= 2 && received[0] == 0x20 && received[1] == 2
        let start =
            connack
            ? 0 : received.firstIndex(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) ?? received.endIndex
        let body = received[start...]
        guard let first = body.first else {
            return complete ? .other(ServerReply(closed ? .closed : .silence)) : .needMore
        }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return ServerReply.recognise(body, complete: complete).map(ProbeAssessment.other) ?? .needMore
        }
        var reading = AnswerReading(dialect: dialect)
        var lines = body.split(separator: 10, omittingEmptySubsequences: true)
        // The last piece is a whole line only when a newline ends it (or nothing more will come).
        if received.last != 10 && !complete, !lines.isEmpty { lines.removeLast() }
        for line in lines {
            let message: JSONValue
            do {
                message = try line.withUnsafeBytes { try JSONParser.parse($0) }
            } catch {
                return .other(
                    ServerReply(.text, "JSON that does not parse: " + (ServerReply.text(line.prefix(80)) ?? "binary")))
            }
            if let decided = reading.read(message) { return decided }
        }
        return reading.conclusion(complete: complete)
    }
}

/// What a WebSocket server sent after its 101 answer: its text messages as lines (for `assess`),
/// and whether it sent a close frame. Frames are read with the traffic decoder's `WebSocketReader`
/// (lengths checked, messages bounded).
public enum WebSocketAnswer {
    public static func lines(_ raw: ArraySlice<UInt8>) -> (bytes: [UInt8], closed: Bool) {
        var reader = WebSocketReader(maxMessage: 64 * 1024)
        var out: [UInt8] = []
        var closed = false
        Array(raw).withUnsafeBytes { buffer in
            reader.feed(buffer) { opcode, payload in
                switch opcode {
                case .text, .binary: out += payload + [10]
                case .close: closed = true
                default: break
                }
            }
        }
        return (out, closed || reader.invalid)
    }

    /// Where the HTTP answer's header ends (the index after its blank line), if it has.
    public static func headerEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

/// Reads JSON-RPC answers line by line, keeping what the pool said so far.
struct AnswerReading {
    let dialect: ProbeDialect
    var answer: PoolAnswer
    /// A Stratum subscription was answered with an extranonce: a pool, waiting for its job.
    var subscribed = false
    /// eth-proxy: the login was answered (true or an error) and work is awaited.
    var loggedIn = false
    var errors: [String] = []
    var answered = 0

    init(dialect: ProbeDialect) {
        self.dialect = dialect
        answer = PoolAnswer(dialect: dialect)
    }

    /// A decision from this message, or nil to read on.
    mutating func read(_ message: JSONValue) -> ProbeAssessment? {
        guard let object = message.object else {
            return .other(ServerReply(.jsonRPC, "a JSON array, not a JSON-RPC message"))
        }
        if dialect.overWebSocket { return webMiner(object) }
        let method = object["method"]?.string
        let params = object["params"]
        if let method {
            return push(method, params)
        }
        guard object["result"] != nil || object["error"] != nil else {
            return .other(ServerReply(.jsonRPC, "JSON without method, result or error"))
        }
        answered += 1
        let id = object["id"]?.integer(in: 0...1_000_000)
        let error = object["error"].flatMap { $0.isNull ? nil : $0 }
        if let error {
            errors.append(Self.errorText(error))
        }
        let result = object["result"]
        switch (dialect, id) {
        case (.cryptonote, 1):
            if let job = result?["job"]?.object, read(job: job) {
                answer.loginAccepted = true
                return .pool(answer)
            }
        case (.stratumV1, 1), (.ethereumStratum, 1):
            if Self.subscriptionExtranonce(result, dialect: dialect) != nil {
                subscribed = true
                // The pool's answer names its protocol when it is NiceHash's EthereumStratum.
                if result?[0]?.array?.contains(.string("EthereumStratum/1.0.0")) == true {
                    answer.dialect = .ethereumStratum
                }
            }
        case (.stratumV1, 2), (.ethereumStratum, 2):
            if subscribed { answer.loginAccepted = error == nil && result != .bool(false) }
        case (.ethProxy, 1):
            loggedIn = error == nil && result == .bool(true)
            answer.loginAccepted = loggedIn
        case (.ethProxy, 2), (.ethProxy, 0):
            if let work = result?.array, read(ethWork: work) { return .pool(answer) }
        default:
            // eth-proxy pools push new work as an answer with id 0 (handled above) or none.
            if dialect == .ethProxy, let work = result?.array, read(ethWork: work) { return .pool(answer) }
        }
        return nil
    }

    /// A pool's push: a job (CryptoNote), a job or difficulty (Stratum).
    mutating func push(_ method: String, _ params: JSONValue?) -> ProbeAssessment? {
        switch (dialect, method) {
        case (.cryptonote, "job"):
            if let job = params?.object, read(job: job) { return .pool(answer) }
        case (.stratumV1, "mining.set_difficulty"), (.ethereumStratum, "mining.set_difficulty"):
            if let d = params?[0]?.double, d > 0, d.isFinite { answer.difficulty = d }
        case (.stratumV1, "mining.set_target"), (.ethereumStratum, "mining.set_target"):
            if let t = params?[0]?.string, let d = StratumSession.hashesFor256BitTarget(t) {
                answer.difficulty = d / 4_294_967_296
            }
        case (.stratumV1, "mining.notify"), (.ethereumStratum, "mining.notify"):
            if subscribed, let job = params?.array, read(notify: job) { return .pool(answer) }
        default:
            break
        }
        return nil
    }

    /// A browser-miner server's message: Coinhive-style `{"type", "params"}` or webminerpool's
    /// `{"identifier", …fields…}`. A job decides; `authed` marks a pool that has not sent one yet.
    mutating func webMiner(_ o: JSONObject) -> ProbeAssessment? {
        let type = dialect == .webMiner ? o["type"]?.string : o["identifier"]?.string
        let fields = dialect == .webMiner ? o["params"]?.object : o
        answered += 1
        switch type {
        case "job"?:
            if let job = fields, read(job: job) {
                if answer.algorithm == nil, let algo = job["algo"]?.string, !algo.isEmpty {
                    answer.algorithm = ServerReply.cut(algo)
                }
                answer.loginAccepted = answer.loginAccepted ?? true
                return .pool(answer)
            }
            return .other(ServerReply(.jsonRPC, "a job that is not one (no blob, job id or target)"))
        case "authed"?:
            subscribed = true
            answer.loginAccepted = true
        case "error"?, "banned"?:
            let text = (fields?["error"] ?? fields?["param"] ?? o["error"] ?? o["param"])?.string ?? type ?? "error"
            errors.append(ServerReply.cut("error: " + text))
        default:
            return .other(ServerReply(.jsonRPC, "WebSocket messages that are not a web miner's"))
        }
        return nil
    }

    /// What the answers add up to when no single message decided.
    func conclusion(complete: Bool) -> ProbeAssessment {
        let requests = dialect.requestLines.count
        if subscribed {
            // The subscription is the pool's own shape; the job may come later than we wait.
            if complete { return .pool(answerWithoutJob) }
            return .needMore
        }
        if dialect.overWebSocket, let refusal = errors.first {
            // A web-miner server's own error message to its own handshake: it speaks the protocol.
            return complete || answered >= dialect.requestLines.count ? .refused(refusal) : .needMore
        }
        if let refusal = errors.first(where: Self.soundsLikeAPool) {
            if complete || answered >= requests { return .refused(refusal) }
            return .needMore
        }
        if answered >= requests || (complete && answered > 0) {
            let said = errors.first.map { "answered " + $0 } ?? "answered without work"
            return .other(ServerReply(.jsonRPC, ServerReply.cut(said)))
        }
        if complete {
            return .other(
                ServerReply(.jsonRPC, answered == 0 ? "JSON but no answer to our requests" : "incomplete answers"))
        }
        return .needMore
    }

    var answerWithoutJob: PoolAnswer {
        var a = answer
        if a.job == nil { a.job = "no job before the answer timeout" }
        return a
    }

    /// A CryptoNote job object; false when it lacks what every pool sends.
    mutating func read(job: JSONObject) -> Bool {
        guard let blob = job["blob"]?.string, blob.utf8.count >= 32, StratumSession.isHex(blob),
            let jobID = job["job_id"]?.string, let target = job["target"]?.string, StratumSession.isHex(target)
        else { return false }
        answer.jobID = ServerReply.cut(jobID)
        answer.job = "CryptoNote job (\(blob.utf8.count / 2)-byte block blob)"
        if let algo = job["algo"]?.string { answer.algorithm = ServerReply.cut(algo) }
        answer.height = job["height"]?.integer(in: 0...Int(Int32.max))
        answer.difficulty = StratumSession.cryptonoteDifficulty(target)
        answer.coin =
            answer.algorithm.flatMap(Coins.coin(forAlgorithm:)) ?? (answer.algorithm == nil ? "monero" : nil)
        return true
    }

    /// Stratum `mining.notify` params; the job's shape tells the algorithm family.
    mutating func read(notify p: [JSONValue]) -> Bool {
        guard let jobID = p.first?.string else { return false }
        func hex(_ i: Int, _ digits: Int? = nil) -> Bool {
            guard i < p.count, let s = p[i].string, StratumSession.isHex(s) else { return false }
            return digits.map { s.utf8.count == $0 || s.utf8.count == $0 + 2 } ?? true
        }
        answer.jobID = ServerReply.cut(jobID)
        if p.count >= 9, hex(1, 64), hex(2), hex(3), p[4].array != nil, hex(5, 8), hex(6, 8), hex(7, 8) {
            answer.job = "Bitcoin-style block template"
            answer.algorithm = "sha256d/scrypt family"
            answer.height = p[2].string.flatMap(Self.coinbaseHeight)
            // The chain's own difficulty (nBits) names the coin where one chain stands alone: only
            // Bitcoin's SHA-256d difficulty is in the tens of trillions (Bitcoin Cash's and BSV's are
            // hundreds of times lower; scrypt chains millions of times).
            if let bits = p[6].string.flatMap({ UInt32($0, radix: 16) }),
                let network = Self.networkDifficulty(bits: bits)
            {
                answer.job = "Bitcoin-style block template, network difficulty " + ProbeText.number(network.rounded())
                if network >= Coins.bitcoinOnlyDifficulty {
                    answer.algorithm = "sha256d"
                    answer.coin = "bitcoin"
                }
            }
        } else if p.count >= 8, hex(1, 8), hex(2, 64), hex(3, 64), hex(4, 64), hex(5, 8), hex(6, 8) {
            answer.job = "Equihash block header"
            answer.algorithm = "equihash"
        } else if p.count >= 6, hex(1, 64), hex(2, 64), hex(3, 64) {
            answer.job = "KawPow header, seed and target"
            answer.algorithm = "kawpow"
            answer.coin = "ravencoin"
            answer.height = p[5].integer(in: 0...Int(Int32.max))
        } else if p.count >= 3, hex(1, 64), hex(2, 64) {
            answer.job = "Ethash seed and header"
            answer.algorithm = "ethash"
        } else {
            return false
        }
        return true
    }

    /// Network difficulty from a header's compact target (nBits): 0xFFFF·2²⁰⁸ / target.
    static func networkDifficulty(bits: UInt32) -> Double? {
        let exponent = Int(bits >> 24)
        let mantissa = Double(bits & 0x7F_FFFF)
        guard mantissa > 0, bits & 0x80_0000 == 0, (3...34).contains(exponent) else { return nil }
        let target = mantissa * pow(256, Double(exponent - 3))
        return 65535 * 0x1p208 / target
    }

    /// The block height a coinbase's first part states (BIP 34: the script signature starts with it).
    /// coinb1 = version (4) · input count (1) · previous output (36) · script length (1) · height push.
    static func coinbaseHeight(_ coinb1: String) -> Int? {
        // The height's push ends by byte 46: 94 digits are all that is read.
        guard let b = ProbeHex.decode(coinb1.utf8.prefix(94)), b.count > 42, b[4] == 1 else { return nil }
        let push = Int(b[42])
        if (0x51...0x60).contains(push) { return push - 0x50 }  // OP_1 … OP_16
        guard (1...4).contains(push), b.count > 42 + push else { return nil }
        return b[43...(42 + push)].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    /// eth-proxy work: [header hash, seed hash, boundary (, block number)].
    mutating func read(ethWork w: [JSONValue]) -> Bool {
        guard w.count >= 3,
            w.prefix(3).allSatisfy({ StratumSession.isHex($0.string) && ($0.string?.utf8.count ?? 0) >= 34 })
        else { return false }
        answer.job = "Ethash work (header, seed, boundary)"
        answer.algorithm = "ethash"
        if let boundary = w[2].string, let hashes = StratumSession.hashesFor256BitTarget(boundary) {
            answer.difficulty = hashes
        }
        if w.count >= 4, let n = w[3].string, n.hasPrefix("0x"), let height = Int(n.dropFirst(2).prefix(12), radix: 16)
        {
            answer.height = height
        }
        return true
    }

    /// The extranonce of a subscription answer: V1 `[[subscriptions], extranonce1, size]`, ES1 `[[...], extranonce]`.
    static func subscriptionExtranonce(_ result: JSONValue?, dialect: ProbeDialect) -> String? {
        guard let r = result?.array, r.count >= 2, r[0].array != nil || r[0].isNull, let extranonce = r[1].string,
            StratumSession.isHex(extranonce)
        else { return nil }
        // V1 adds the extranonce2 size; KawPow pools answer [null, extranonce] to either subscribe.
        if dialect == .stratumV1, r.count >= 3 { guard r[2].integer(in: 0...32) != nil else { return nil } }
        return extranonce
    }

    /// "error -32601: Method not found" from a JSON-RPC error (object, array or string).
    static func errorText(_ error: JSONValue) -> String {
        if let message = error["message"]?.string ?? error.string ?? error[1]?.string {
            let code = (error["code"] ?? error[0])?.integer(in: -1_000_000...1_000_000)
            return ServerReply.cut((code.map { "error \($0): " } ?? "error: ") + message)
        }
        return "an error"
    }

    /// A refusal only a pool gives: about wallets, logins, workers, shares or bans — a JSON-RPC
    /// server that is not a pool says the method is unknown instead.
    static func soundsLikeAPool(_ text: String) -> Bool {
        let t = text.lowercased()
        if t.contains("method not found") || t.contains("unknown method") || t.contains("not supported") {
            return false
        }
        return ["wallet", "address", "login", "unauthorized", "unauthenticated", "worker", "banned", "payment", "miner"]
            .contains(where: t.contains)
    }
}
