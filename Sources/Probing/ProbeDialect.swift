import CryptoP2P
import Digests

/// A way miners log in to a pool, and what the probe sends to find out whether a server is one.
/// Cheapest first: one line each for CryptoNote, two for the others. Every request is exactly what
/// `requestLines` returns (docs/probing.md "Probing" quotes them); nothing is ever submitted.
public enum ProbeDialect: String, CaseIterable, Sendable, Codable {
    /// XMRig's CryptoNote `login` (Monero and every RandomX / CryptoNight coin; the pool answers with a job).
    case cryptonote
    /// Stratum V1 `mining.subscribe` + `mining.authorize` (Bitcoin-family, KawPow, Equihash pools).
    case stratumV1 = "stratum-v1"
    /// NiceHash's EthereumStratum/1.0.0: a subscribe naming the protocol, then authorize.
    case ethereumStratum = "ethereumstratum"
    /// eth-proxy (Claymore, ethminer's `stratum1+tcp`): `eth_submitLogin` then `eth_getWork`.
    case ethProxy = "eth-proxy"
    /// Stratum V2 (Bitcoin): the Noise handshake, then SetupConnection and OpenStandardMiningChannel
    /// sealed on the channel it sets up. Tried where a JSON line met a binary answer (an SV2 pool
    /// answers any 64 bytes with its handshake).
    case stratumV2 = "stratum-v2"
    /// A browser miner's proxy, Coinhive's protocol: over a WebSocket, `auth`, answered `authed` and a job.
    case webMiner = "webminer"
    /// webminerpool (the open-source browser-mining server): over a WebSocket, a `handshake` with the wallet.
    case webMinerPool = "webminerpool"

    /// Spoken inside a WebSocket (an HTTP upgrade first); the others are JSON lines on the connection.
    public var overWebSocket: Bool { self == .webMiner || self == .webMinerPool }

    /// How the report names it.
    public var label: String {
        switch self {
        case .cryptonote: "CryptoNote login (XMRig)"
        case .stratumV1: "Stratum V1 subscribe"
        case .ethereumStratum: "EthereumStratum/1.0"
        case .ethProxy: "eth-proxy login"
        case .stratumV2: "Stratum V2 Noise handshake + OpenStandardMiningChannel"
        case .webMiner: "web-miner auth (Coinhive-style WebSocket)"
        case .webMinerPool: "webminerpool handshake (WebSocket)"
        }
    }

    /// A binary dialect: its own exchange (`NoiseHandshake`, `StratumV2Probe`), no JSON lines.
    public var isBinary: Bool { self == .stratumV2 }

    /// The newline-terminated JSON-RPC lines sent, in order, all at once (pools read pipelined lines);
    /// none for the binary dialect.
    public var requestLines: [String] {
        let agent = ProbeIdentity.agent
        switch self {
        case .cryptonote:
            return [
                #"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"\#(ProbeIdentity.moneroWallet)","pass":"x","#
                    + #""agent":"\#(agent)","algo":["rx/0","cn/r","cn/2","cn/half","cn-lite/1","cn-heavy/xhv","rx/wow","rx/arq","argon2/chukwav2","#
                    + #""ghostrider","kawpow"]}}"#
            ]
        case .stratumV1:
            return [
                #"{"id":1,"method":"mining.subscribe","params":["\#(agent)"]}"#,
                #"{"id":2,"method":"mining.authorize","params":["\#(ProbeIdentity.bitcoinAddress).probe","x"]}"#
            ]
        case .ethereumStratum:
            return [
                #"{"id":1,"method":"mining.subscribe","params":["\#(agent)","EthereumStratum/1.0.0"]}"#,
                #"{"id":2,"method":"mining.authorize","params":["\#(ProbeIdentity.ethereumAddress).probe","x"]}"#
            ]
        case .ethProxy:
            return [
                #"{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["\#(ProbeIdentity.ethereumAddress)","x"],"worker":"probe"}"#,
                #"{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}"#
            ]
        case .stratumV2:
            return []
        case .webMiner:
            return [
                #"{"type":"auth","params":{"site_key":"StratumSniffProbeNeverMines000000","type":"anonymous","user":null,"goal":0}}"#
            ]
        case .webMinerPool:
            return [
                #"{"identifier":"handshake","pool":"","login":"\#(ProbeIdentity.moneroWallet)","password":"x","userid":"probe","version":7}"#
            ]
        }
    }

    /// The bytes put on the wire: JSON lines; for a WebSocket dialect, each line one masked text frame
    /// (after `upgradeRequest`).
    public var request: [UInt8] {
        overWebSocket
            ? requestLines.flatMap { WebSocketFrame.text($0) } : Array(requestLines.map { $0 + "\n" }.joined().utf8)
    }

    /// The WebSocket upgrade a WebSocket dialect starts with (the path browsers' miners use: `/`).
    public static func upgradeRequest(host: String) -> [UInt8] {
        Array(
            ("GET / HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(WebSocketFrame.key)\r\nSec-WebSocket-Version: 13\r\nUser-Agent: \(ProbeIdentity.agent)\r\n\r\n")
                .utf8)
    }
}

/// A client's WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, masked with a fixed key — masking
/// is there against cache poisoning by intermediaries, not secrecy).
public enum WebSocketFrame {
    /// Base64 of the 16 bytes "StratumSniff-prb".
    public static let key = "U3RyYXR1bVNuaWZmLXByYg=="
    static let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    public static func text(_ s: String) -> [UInt8] {
        let payload = Array(s.utf8)
        var out: [UInt8] = [0x81]
        if payload.count < 126 {
            out.append(0x80 | UInt8(payload.count))
        } else {
            // The probe's messages are well under 64 KiB.
            out += [0x80 | 126, UInt8(truncatingIfNeeded: payload.count >> 8), UInt8(truncatingIfNeeded: payload.count)]
        }
        out += mask
        for (i, b) in payload.enumerated() { out.append(b ^ mask[i & 3]) }
        return out
    }
}

/// Who the probe says it is: an agent string that names it, and wallets that are well formed
/// (checksums right, so a pool's address check passes) but belong to nobody — derived from a fixed
/// phrase, so every sensor sends the same ones and an operator can recognise them in a pool's log.
public enum ProbeIdentity {
    /// Pools log the agent; this one tells a pool's operator who asked.
    public static let agent = "StratumSniff-probe/1.0 (pool check; never mines)"

    /// A Monero main-net standard address (network byte 18, two 32-byte keys, Keccak-256 checksum,
    /// CryptoNote base58): 95 characters starting with 4.
    public static let moneroWallet: String = {
        var data: [UInt8] = [18]
        data += Keccak256.hash(Array("StratumSniff probe: spend key".utf8))
        data += Keccak256.hash(Array("StratumSniff probe: view key".utf8))
        data += Keccak256.hash(data).prefix(4)
        return CryptoNoteBase58.encode(data)
    }()

    /// A Bitcoin P2PKH address (version 0, a 20-byte hash, double SHA-256 checksum, base58).
    public static let bitcoinAddress: String = {
        var data: [UInt8] = [0]
        data += Digest.sha256(Array("StratumSniff probe: key hash".utf8)).prefix(20)
        data += Digest.sha256(Digest.sha256(data)).prefix(4)
        return Base58.encode(data)
    }()

    /// An Ethereum address: 0x and 20 bytes in hex.
    public static let ethereumAddress: String =
        "0x" + Keccak256.hash(Array("StratumSniff probe: account".utf8)).suffix(20).hexString
}

/// Bitcoin's base58 (leading zero bytes become '1').
enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

    static func encode(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []  // base 58, least significant first
        for byte in bytes {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let zeros = bytes.prefix(while: { $0 == 0 }).count
        return String(repeating: "1", count: zeros) + String(digits.reversed().map { alphabet[Int($0)] })
    }
}

/// CryptoNote's base58: 8-byte blocks to 11 characters each, a last short block to the fixed
/// length for its size, so every address of one kind has one length.
enum CryptoNoteBase58 {
    static let encodedSizes = [0, 2, 3, 5, 6, 7, 9, 10, 11]

    static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        var start = 0
        while start < bytes.count {
            let block = bytes[start..<min(start + 8, bytes.count)]
            var value: UInt64 = 0
            for b in block { value = value << 8 | UInt64(b) }
            var chars = [Character](repeating: "1", count: encodedSizes[block.count])
            var i = chars.count - 1
            while value > 0 && i >= 0 {
                chars[i] = Base58.alphabet[Int(value % 58)]
                value /= 58
                i -= 1
            }
            out += String(chars)
            start += 8
        }
        return out
    }
}
