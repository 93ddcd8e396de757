import Digests
import Stratum

/// Noise's CipherState with SV2's nonce: 4 zero bytes, then the counter little-endian.
struct NoiseCipher: Sendable {
    var key: [UInt8]
    var nonce: UInt64 = 0

    init(key: [UInt8]) { self.key = key }

    private var nonceBytes: [UInt8] {
        [0, 0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: nonce >> (8 * UInt64($0))) }
    }

    mutating func seal(_ plaintext: [UInt8], aad: [UInt8] = []) -> [UInt8] {
        defer { nonce &+= 1 }
        return ChaChaPoly.seal(key: key, nonce: nonceBytes, aad: aad, plaintext)
    }

    /// The plaintext, or nil when it does not authenticate (the nonce then stays, as Noise says).
    mutating func open(_ sealed: ArraySlice<UInt8>, aad: [UInt8] = []) -> [UInt8]? {
        guard let plain = ChaChaPoly.open(key: key, nonce: nonceBytes, aad: aad, sealed) else { return nil }
        nonce &+= 1
        return plain
    }
}

/// The initiator's side of SV2's `Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256` (SV2 specification
/// §4.5): send an ephemeral key, read the responder's ephemeral key, its static key and its
/// certificate, and come out with one cipher for each direction.
public struct NoiseHandshake: Sendable {
    static let protocolName = "Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256"
    /// The responder's whole answer: its ephemeral key (64), its static key sealed (64 + 16) and the
    /// certificate's signed part sealed (74 + 16).
    public static let answerSize = 64 + 80 + 90

    private var chainingKey: [UInt8]
    private var hash: [UInt8]
    private let secret: [UInt8]
    /// What the probe sends first: its ephemeral key, 64 bytes that look random.
    public let hello: [UInt8]

    public init() {
        var random = SystemRandomNumberGenerator()
        self.init(using: &random)
    }

    init(using random: inout some RandomNumberGenerator) {
        let initial = Digest.sha256(Array(Self.protocolName.utf8))
        chainingKey = initial
        hash = Digest.sha256(initial)  // the empty prologue mixed in
        (secret, hello) = ElligatorSwift.keyPair(using: &random)
        mixHash(hello)
        mixHash([])  // the empty payload after `e`
    }

    private mutating func mixHash(_ data: [UInt8]) { hash = Digest.sha256(hash + data) }

    /// HKDF with an empty info, two outputs (SV2 §4.4.2).
    static func hkdf(_ chainingKey: [UInt8], _ material: [UInt8]) -> ([UInt8], [UInt8]) {
        let temp = hmacSHA256(key: chainingKey, material)
        let first = hmacSHA256(key: temp, [1])
        return (first, hmacSHA256(key: temp, first + [2]))
    }

    /// BIP 324's x-only ECDH hashed with both encodings, the initiator's first.
    private func ecdh(_ theirs: [UInt8]) -> [UInt8]? {
        guard let x = ElligatorSwift.sharedX(theirs: theirs, secret: secret) else { return nil }
        let tag = Digest.sha256(Array("bip324_ellswift_xonly_ecdh".utf8))
        return Digest.sha256(tag + tag + hello + theirs + x)
    }

    public enum Failure: Error, Equatable {
        /// Fewer than `answerSize` bytes.
        case short(Int)
        /// The sealed static key or certificate did not authenticate: not an SV2 responder (or not this handshake).
        case unauthenticated
    }

    /// Reads the responder's answer: the transport ciphers and the certificate it showed.
    public func finish(_ answer: [UInt8]) -> Result<NoiseSession, Failure> {
        guard answer.count >= Self.answerSize else { return .failure(.short(answer.count)) }
        var state = self
        let ephemeral = Array(answer[0..<64])
        state.mixHash(ephemeral)
        guard let ee = state.ecdh(ephemeral) else { return .failure(.unauthenticated) }
        var (chaining, key) = Self.hkdf(state.chainingKey, ee)
        state.chainingKey = chaining
        var cipher = NoiseCipher(key: key)
        let sealedStatic = answer[64..<144]
        guard let staticKey = cipher.open(sealedStatic, aad: state.hash) else { return .failure(.unauthenticated) }
        state.mixHash(Array(sealedStatic))
        guard let es = state.ecdh(staticKey) else { return .failure(.unauthenticated) }
        (chaining, key) = Self.hkdf(state.chainingKey, es)
        state.chainingKey = chaining
        cipher = NoiseCipher(key: key)
        let sealedCertificate = answer[144..<234]
        guard let certificate = cipher.open(sealedCertificate, aad: state.hash) else {
            return .failure(.unauthenticated)
        }
        let (toServer, toClient) = Self.hkdf(state.chainingKey, [])
        var session = NoiseSession(send: NoiseCipher(key: toServer), receive: NoiseCipher(key: toClient))
        session.serverKey = ElligatorSwift.decode(staticKey).bytes.hexString
        var cursor = certificate[...]
        session.certificate = NoiseCertificate(
            version: cursor.leU16(), validFrom: cursor.leU32() ?? 0, notValidAfter: cursor.leU32() ?? 0)
        return .success(session)
    }
}

/// The signed part of the pool's certificate: its validity window (the signature needs the pool's
/// authority key, which only its miners know; the probe reports the window, it cannot check it).
public struct NoiseCertificate: Equatable, Sendable {
    public var version: UInt16
    public var validFrom: UInt32
    public var notValidAfter: UInt32
}

/// The encrypted channel after the handshake: frames sealed header and payload separately (SV2 §4.6).
public struct NoiseSession: Sendable {
    var send: NoiseCipher
    var receive: NoiseCipher
    /// The responder's static key, x-only hex: the same key on another address is the same pool.
    public var serverKey = ""
    public var certificate: NoiseCertificate?

    /// Both ends of one channel under fixed keys, for the fuzz harness to seal what it then reads.
    public static func fuzzing(serverSide: Bool) -> NoiseSession {
        let a = NoiseCipher(key: [UInt8](repeating: 1, count: 32))
        let b = NoiseCipher(key: [UInt8](repeating: 2, count: 32))
        return serverSide ? NoiseSession(send: b, receive: a) : NoiseSession(send: a, receive: b)
    }

    static let headerSize = 6
    static let maxSealed = 65535
    static let maxPlain = maxSealed - ChaChaPoly.tagSize

    /// One frame (extension type 0) sealed for the wire.
    public mutating func seal(type: UInt8, payload: [UInt8], channelMessage: Bool = false) -> [UInt8] {
        let length = payload.count
        let header: [UInt8] = [
            0, channelMessage ? 0x80 : 0, type, UInt8(truncatingIfNeeded: length),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length >> 16)
        ]
        var out = send.seal(header)
        var start = 0
        repeat {
            let end = min(start + Self.maxPlain, length)
            out += send.seal(Array(payload[start..<end]))
            start = end
        } while start < length
        return out
    }

    /// Sealed bytes a payload of `length` plain bytes takes (a tag per 65 519-byte block).
    static func sealedLength(_ length: Int) -> Int {
        length / maxPlain * maxSealed + (length % maxPlain > 0 ? length % maxPlain + ChaChaPoly.tagSize : 0)
    }

    public enum Frames: Equatable {
        case frames([SV2Frame])
        /// A frame failed to authenticate or claimed more than `maxPayload`: the stream is not ours to read.
        case broken(String)
    }

    /// Every whole frame in `received` (from the start of the server's transport messages), decrypted;
    /// a partial frame at the end waits. Lengths are checked before anything is read or allocated.
    public func open(_ received: ArraySlice<UInt8>, maxPayload: Int = 64 * 1024) -> Frames {
        var cipher = receive
        var frames: [SV2Frame] = []
        var at = received.startIndex
        while received.endIndex - at >= Self.headerSize + ChaChaPoly.tagSize {
            let sealedHeader = received[at..<(at + Self.headerSize + ChaChaPoly.tagSize)]
            var peek = cipher
            guard let header = peek.open(sealedHeader) else { return .broken("a frame header did not authenticate") }
            let length = Int(header[3]) | Int(header[4]) << 8 | Int(header[5]) << 16
            guard length <= maxPayload else { return .broken("a frame of \(length) bytes, more than \(maxPayload)") }
            let sealed = Self.sealedLength(length)
            let bodyStart = at + sealedHeader.count
            guard received.endIndex - bodyStart >= sealed else { break }
            cipher = peek
            var payload: [UInt8] = []
            var block = bodyStart
            while block < bodyStart + sealed {
                let end = min(block + Self.maxSealed, bodyStart + sealed)
                guard let plain = cipher.open(received[block..<end]) else {
                    return .broken("a frame body did not authenticate")
                }
                payload += plain
                block = end
            }
            frames.append(SV2Frame(header[2], payload))
            at = bodyStart + sealed
        }
        return .frames(frames)
    }
}

/// One Stratum V2 frame, decrypted: its message type and payload (the extension type and the
/// channel bit are not needed by the probe).
public struct SV2Frame: Equatable, Sendable {
    public var type: UInt8
    public var payload: [UInt8]

    public init(_ type: UInt8, _ payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }
}

/// What the probe says in Stratum V2 once the channel is up, and how it reads the answers.
public enum StratumV2Probe {
    static let openMiningChannelError: UInt8 = 0x12
    static let setNewPrevHash: UInt8 = 0x20
    static let setTarget: UInt8 = 0x21

    /// SetupConnection for the mining protocol (version 2, standard jobs), then OpenStandardMiningChannel
    /// with the throwaway Bitcoin address and a small nominal hash rate — a channel is a request for work;
    /// nothing is ever submitted on it.
    public static func requests(host: String, port: UInt16) -> [SV2Frame] {
        var setup: [UInt8] = [0]  // protocol 0: mining
        setup += le16(2) + le16(2)  // min and max version
        setup += le32(1)  // REQUIRES_STANDARD_JOBS: the probe opens a standard channel
        setup += str0_255(host) + le16(port)
        setup += str0_255(ProbeIdentity.agent) + str0_255("probe") + str0_255("1.0") + str0_255("never-mines")
        var open = le32(1)  // request id
        open += str0_255(ProbeIdentity.bitcoinAddress + ".probe")
        open += le32(Float(1e6).bitPattern)  // nominal hash rate, 1 MH/s
        open += [UInt8](repeating: 0xFF, count: 32)  // max target: any
        return [SV2Frame(StratumV2Session.setupConnection, setup), SV2Frame(StratumV2Session.openStandardChannel, open)]
    }

    /// What `requests` holds, in words (`probe --requests`): the frames are sealed, so their fields are listed.
    public static var describedRequests: [String] {
        [
            "  64 bytes: a fresh ephemeral key, ElligatorSwift-encoded (Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256, act 1)",
            "  then, sealed on the channel the handshake sets up:",
            "  SetupConnection protocol=0 (mining) min_version=2 max_version=2 flags=1 (standard jobs) endpoint=HOST:PORT"
                + " vendor=\"\(ProbeIdentity.agent)\" hardware=\"probe\" firmware=\"1.0\" device=\"never-mines\"",
            "  OpenStandardMiningChannel request_id=1 user=\"\(ProbeIdentity.bitcoinAddress).probe\" nominal_hash_rate=1e6 max_target=ff…ff"
        ]
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
    static func str0_255(_ s: String) -> [UInt8] {
        let bytes = Array(s.utf8.prefix(255))
        return [UInt8(bytes.count)] + bytes
    }

    /// Reads decrypted frames: a channel opened with a target and a job is a pool; an error to the
    /// setup or the channel is a refusal (it spoke SV2 mining, but gave no work).
    public static func assess(_ frames: [SV2Frame], complete: Bool, session: NoiseSession)
        -> ProbeAssessment
    {
        var answer = PoolAnswer(dialect: .stratumV2)
        answer.algorithm = "sha256d"
        answer.coin = "bitcoin"  // SV2 mines Bitcoin only (SHA-256d block headers)
        answer.serverKey = session.serverKey
        var setupAccepted = false
        var channelOpened = false
        var jobSeen = false
        for frame in frames {
            var cursor = frame.payload[...]
            switch frame.type {
            case StratumV2Session.setupSuccess:
                setupAccepted = true
            case StratumV2Session.setupError:
                _ = cursor.leU32()
                return .refused("SetupConnection.Error " + (cursor.str0_255().map { "'\($0)'" } ?? "without a code"))
            case StratumV2Session.openStandardChannelSuccess:
                _ = cursor.leU32()
                _ = cursor.leU32()
                if let target = cursor.take(32) { answer.difficulty = difficulty(target: target) }
                channelOpened = true
                answer.loginAccepted = true
            case openMiningChannelError:
                _ = cursor.leU32()
                return .refused("OpenMiningChannel.Error " + (cursor.str0_255().map { "'\($0)'" } ?? "without a code"))
            case StratumV2Session.newMiningJob:
                _ = cursor.leU32()
                if let id = cursor.leU32() { answer.jobID = String(id) }
                answer.job = "Stratum V2 standard job (header-only mining)"
                jobSeen = true
            case setTarget:
                _ = cursor.leU32()
                if let target = cursor.take(32) { answer.difficulty = difficulty(target: target) }
            default:
                break
            }
        }
        if channelOpened && (jobSeen || complete) { return .pool(answer) }
        if setupAccepted && complete {
            return .refused("accepted SetupConnection for mining but opened no channel")
        }
        return complete
            ? .other(ServerReply(.binary, "a Stratum V2 Noise channel that sent no mining answer")) : .needMore
    }

    /// What answered the 64-byte hello when it was not a Noise responder: the answer itself says what it is.
    public static func assess(handshakeFailure failure: NoiseHandshake.Failure, answer: [UInt8], closed: Bool)
        -> ProbeAssessment
    {
        if answer.isEmpty { return .other(ServerReply(closed ? .closed : .silence)) }
        if let reply = ServerReply.recognise(answer[...], complete: true), reply.kind != .binary {
            return .other(reply)
        }
        switch failure {
        case .short(let n):
            return .other(
                ServerReply(.binary, "\(n) bytes to a Noise handshake that takes \(NoiseHandshake.answerSize)"))
        case .unauthenticated:
            return .other(ServerReply(.binary, "\(answer.count) bytes that are not a Stratum V2 Noise handshake"))
        }
    }

    /// Bitcoin difficulty of a 256-bit little-endian target: 0xFFFF·2²⁰⁸ / target.
    static func difficulty(target: ArraySlice<UInt8>) -> Double? {
        var value = 0.0
        for byte in target.reversed() { value = value * 256 + Double(byte) }
        guard value > 0 else { return nil }
        return 65535 * 0x1p208 / value
    }
}

extension ArraySlice where Element == UInt8 {
    mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, count >= n else { return nil }
        defer { self = dropFirst(n) }
        return prefix(n)
    }

    mutating func leU16() -> UInt16 {
        guard let b = take(2) else { return 0 }
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }

    mutating func leU32() -> UInt32? {
        guard let b = take(4) else { return nil }
        return b.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func str0_255() -> String? {
        guard let n = take(1)?.first, let b = take(Int(n)) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }
}
