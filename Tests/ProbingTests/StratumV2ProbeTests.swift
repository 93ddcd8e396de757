import Digests
import Stratum
import Testing

@testable import Probing

/// The Stratum V2 probe's arithmetic, handshake and reading, each layer on its own: the field and
/// ElligatorSwift against BIP 324's published vectors, the primitives against their RFCs, the
/// handshake against a responder built here from the same specification, frames as pools send them.
@Suite struct StratumV2ProbeTests {
    func field(_ hex: String) -> FieldElement { FieldElement(bytes: ProbeHex.bytes(hex)) }

    @Test func fieldArithmeticHoldsItsIdentities() {
        let a = field("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
        let b = field("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e")  // p − 1
        #expect(a * a.inverse() == .one)
        #expect(b + .one == .zero)
        #expect(b * b == .one)  // (−1)² = 1
        #expect((a - b) + b == a)
        #expect(a.squared().squareRoot().map { $0 == a || $0 == -a } == true)
        // 2²⁵⁶−1 mod p
        #expect(FieldElement(bytes: [UInt8](repeating: 0xFF, count: 32)) == FieldElement(0x1_0000_03D0))
        // The generator is on the curve, and n·G is the point at infinity.
        #expect(CurvePoint.isOnCurve(x: a))
        #expect(CurvePoint.generator.multiplied(by: CurvePoint.order).isInfinity)
    }

    // BIP 324, xswiftec_test_vectors.csv: a u with all eight branches, and one with none.
    @Test func elligatorSwiftMatchesBIP324Vectors() {
        let u = field("0a6361b3a802f55cd5ae06101c88a1e216320fe11cc0cfe1d791eed08a1200fd")
        let x = field("a0223bc98997647daf4d520129bdb66e4937a00d1533af1fa29645fb96fb5bb5")
        let ts = [
            "60a3ed14bd9df0bfb89ada9372a7b5790b123a66bf130f5788237e8cd5225de4",
            "9c4ee4629f10220fda49532d0c859a539dec5148eefc78bf48d93d2828027a9c",
            "fc5e72f042fd1792cbf88728a374a2cc1e03e1f9ec8813fa3692e497cfa7d5e6",
            "cb39fac005f26dc0a383ea64cb9b3b0b26767f20232cae4486f32904df4f04e3",
            "9f5c12eb42620f404765256c8d584a86f4edc59940ecf0a877dc81722add9e4b",
            "63b11b9d60efddf025b6acd2f37a65ac6213aeb711038740b726c2d6d7fd8193",
            "03a18d0fbd02e86d340778d75c8b5d33e1fc1e061377ec05c96d1b6730582649",
            "34c6053ffa0d923f5c7c159b3464c4f4d98980dfdcd351bb790cd6fa20b0f74c"
        ]
        for (branch, t) in ts.enumerated() {
            #expect(ElligatorSwift.inverse(x: x, u: u, branch: branch) == field(t), "branch \(branch)")
            #expect(ElligatorSwift.decode(u: u, t: field(t)) == x, "branch \(branch)")
        }
        let none = field("08da7c45cb204377e7e42249cda5713fa865116ddbb4cb5a1949b2e5b438a6ab")
        let noX = field("e087b707dabf2796b03b2fb4f976c3f2f5abb36110d00ef656432117f2c93f0a")
        for branch in 0..<8 { #expect(ElligatorSwift.inverse(x: noX, u: none, branch: branch) == nil) }
    }

    @Test func keysEncodeTheirPointAndECDHAgrees() {
        var random = SystemRandomNumberGenerator()
        let alice = ElligatorSwift.keyPair(using: &random)
        let bob = ElligatorSwift.keyPair(using: &random)
        #expect(ElligatorSwift.decode(alice.encoded) == CurvePoint.generator.multiplied(by: alice.secret).affineX)
        let one = ElligatorSwift.sharedX(theirs: bob.encoded, secret: alice.secret)
        #expect(one != nil && one == ElligatorSwift.sharedX(theirs: alice.encoded, secret: bob.secret))
        // Any 64 bytes decode to a point: a hostile answer cannot make the arithmetic fail.
        #expect(ElligatorSwift.sharedX(theirs: [UInt8](repeating: 0, count: 64), secret: alice.secret) != nil)
        #expect(ElligatorSwift.sharedX(theirs: [UInt8](repeating: 0xFF, count: 64), secret: alice.secret) != nil)
    }

    @Test func primitivesMatchTheirRFCs() {
        // RFC 4231 test case 2.
        #expect(
            hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)).hexString
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 8439 §2.8.2: the tag of the sunscreen message.
        let key = ProbeHex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = ProbeHex.bytes("070000004041424344454647")
        let aad = ProbeHex.bytes("50515253c0c1c2c3c4c5c6c7")
        let text = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
                .utf8)
        let sealed = ChaChaPoly.seal(key: key, nonce: nonce, aad: aad, text)
        #expect(sealed.suffix(16).hexString == "1ae10b594f09e26a7e902ecbd0600691")
        #expect(ChaChaPoly.open(key: key, nonce: nonce, aad: aad, sealed[...]) == text)
        var tampered = sealed
        tampered[3] ^= 1
        #expect(ChaChaPoly.open(key: key, nonce: nonce, aad: aad, tampered[...]) == nil)
        #expect(ChaChaPoly.open(key: key, nonce: nonce, aad: aad, sealed.prefix(10)) == nil)
    }

    /// The responder's side of the handshake, written out from SV2 §4.5.2.1 for the test.
    func respond(to hello: [UInt8]) -> (answer: [UInt8], toServer: [UInt8], toClient: [UInt8]) {
        var random = SystemRandomNumberGenerator()
        let ephemeral = ElligatorSwift.keyPair(using: &random)
        let server = ElligatorSwift.keyPair(using: &random)
        func ecdh(_ mine: (secret: [UInt8], encoded: [UInt8])) -> [UInt8] {
            let tag = Digest.sha256(Array("bip324_ellswift_xonly_ecdh".utf8))
            return Digest.sha256(
                tag + tag + hello + mine.encoded + ElligatorSwift.sharedX(theirs: hello, secret: mine.secret)!)
        }
        var ck = Digest.sha256(Array(NoiseHandshake.protocolName.utf8))
        var h = Digest.sha256(Digest.sha256(ck) + hello)
        h = Digest.sha256(h)
        h = Digest.sha256(h + ephemeral.encoded)
        var (next, key) = NoiseHandshake.hkdf(ck, ecdh(ephemeral))
        ck = next
        var cipher = NoiseCipher(key: key)
        let sealedStatic = cipher.seal(server.encoded, aad: h)
        h = Digest.sha256(h + sealedStatic)
        (next, key) = NoiseHandshake.hkdf(ck, ecdh(server))
        ck = next
        cipher = NoiseCipher(key: key)
        let certificate: [UInt8] =
            [0, 0] + StratumV2Probe.le32(1_700_000_000) + StratumV2Probe.le32(2_000_000_000)
            + [UInt8](repeating: 7, count: 64)
        let answer = ephemeral.encoded + sealedStatic + cipher.seal(certificate, aad: h)
        let (toServer, toClient) = NoiseHandshake.hkdf(ck, [])
        return (answer, toServer, toClient)
    }

    @Test func theHandshakeSetsUpOneCipherEachWay() throws {
        let handshake = NoiseHandshake()
        #expect(handshake.hello.count == 64)
        let (answer, toServer, toClient) = respond(to: handshake.hello)
        #expect(answer.count == NoiseHandshake.answerSize)
        var session = try handshake.finish(answer).get()
        #expect(
            session.certificate == NoiseCertificate(version: 0, validFrom: 1_700_000_000, notValidAfter: 2_000_000_000))
        #expect(session.serverKey.count == 64)
        // What the probe seals, the server opens; what the server seals, the probe reads as frames.
        let sealed = session.seal(type: 0x00, payload: [1, 2, 3])
        var serverReceive = NoiseCipher(key: toServer)
        #expect(serverReceive.open(sealed.prefix(22)) == [0, 0, 0, 3, 0, 0])
        #expect(serverReceive.open(sealed.dropFirst(22)) == [1, 2, 3])
        var serverSend = NoiseSession(send: NoiseCipher(key: toClient), receive: NoiseCipher(key: toServer))
        let reply =
            serverSend.seal(type: 0x01, payload: [2, 0, 0, 0, 0, 0])
            + serverSend.seal(type: 0x15, payload: [], channelMessage: true)
        #expect(session.open(reply[...]) == .frames([SV2Frame(0x01, [2, 0, 0, 0, 0, 0]), SV2Frame(0x15, [])]))
        // A partial frame waits; a flipped bit breaks the channel.
        #expect(session.open(reply.prefix(30)) == .frames([]))
        var flipped = reply
        flipped[25] ^= 0x40
        guard case .broken = session.open(flipped[...]) else {
            Issue.record("a tampered frame was read")
            return
        }
        // A tampered handshake answer is not an SV2 responder's; a short one says how short.
        var bad = answer
        bad[100] ^= 1
        #expect(throws: NoiseHandshake.Failure.unauthenticated) { try handshake.finish(bad).get() }
        #expect(throws: NoiseHandshake.Failure.short(10)) { try handshake.finish(Array(answer.prefix(10))).get() }
    }

    @Test func aFrameClaimingTooMuchIsRefusedBeforeReading() throws {
        let handshake = NoiseHandshake()
        let (answer, toServer, toClient) = respond(to: handshake.hello)
        let session = try handshake.finish(answer).get()
        var server = NoiseSession(send: NoiseCipher(key: toClient), receive: NoiseCipher(key: toServer))
        let huge = server.seal(type: 0x15, payload: [UInt8](repeating: 0, count: 70_000))
        guard case .broken(let why) = session.open(huge.prefix(22), maxPayload: 64 * 1024) else {
            Issue.record("read past the cap")
            return
        }
        #expect(why.contains("70000"))
        // Within the cap, a payload over one Noise block (65 519 bytes) is read across both blocks.
        #expect(
            session.open(huge[...], maxPayload: 100_000)
                == .frames([SV2Frame(0x15, [UInt8](repeating: 0, count: 70_000))]))
    }

    func frames(_ list: [(UInt8, [UInt8])]) -> [SV2Frame] { list.map { SV2Frame($0.0, $0.1) } }
    var session: NoiseSession {
        NoiseSession(
            send: NoiseCipher(key: [UInt8](repeating: 0, count: 32)),
            receive: NoiseCipher(key: [UInt8](repeating: 0, count: 32)))
    }

    @Test func aChannelWithAJobIsAPoolAndErrorsAreRefusals() {
        // Target 0xFFFF·2²⁰⁸ / 1024, little-endian: difficulty 1024.
        var target = [UInt8](repeating: 0, count: 32)
        target[26] = 0x3F
        target[25] = 0xFF
        target[24] = 0xC0
        let success = StratumV2Probe.le32(1) + StratumV2Probe.le32(7) + target + [0] + StratumV2Probe.le32(0)
        let job =
            StratumV2Probe.le32(7) + StratumV2Probe.le32(41) + [0] + StratumV2Probe.le32(0x2000_0000)
            + [UInt8](repeating: 1, count: 32)
        let opened = frames([
            (StratumV2Session.setupSuccess, [2, 0, 0, 0, 0, 0]), (StratumV2Session.openStandardChannelSuccess, success)
        ])
        #expect(StratumV2Probe.assess(opened, complete: false, session: session) == .needMore)
        guard
            case .pool(let answer) = StratumV2Probe.assess(
                opened + frames([(StratumV2Session.newMiningJob, job)]), complete: false, session: session)
        else {
            Issue.record("a channel and a job are a pool")
            return
        }
        #expect(
            answer.difficulty == 1024 && answer.jobID == "41" && answer.coin == "bitcoin"
                && answer.algorithm == "sha256d")
        let setupError = frames([
            (StratumV2Session.setupError, StratumV2Probe.le32(0) + StratumV2Probe.str0_255("unsupported-protocol"))
        ])
        #expect(
            StratumV2Probe.assess(setupError, complete: false, session: session)
                == .refused("SetupConnection.Error 'unsupported-protocol'"))
        // a length past the end
        let channelError = frames([(StratumV2Session.setupSuccess, []), (0x12, StratumV2Probe.le32(1) + [200])])
        #expect(
            StratumV2Probe.assess(channelError, complete: true, session: session)
                == .refused("OpenMiningChannel.Error without a code"))
        #expect(
            StratumV2Probe.assess(frames([(StratumV2Session.setupSuccess, [])]), complete: true, session: session)
                == .refused("accepted SetupConnection for mining but opened no channel"))
        // Truncated payloads read as far as they go.
        #expect(
            StratumV2Probe.assess(
                frames([(StratumV2Session.openStandardChannelSuccess, [1, 2])]), complete: true, session: session)
                != .needMore)
    }

    @Test func whatAnswersTheHelloInsteadSaysWhatItIs() {
        func kind(_ text: String, _ failure: NoiseHandshake.Failure = .short(0)) -> ServerReply.Kind? {
            guard
                case .other(let reply) = StratumV2Probe.assess(
                    handshakeFailure: failure, answer: Array(text.utf8), closed: false)
            else { return nil }
            return reply.kind
        }
        #expect(kind("HTTP/1.1 400 Bad Request\r\n\r\n") == .http)
        #expect(kind("SSH-2.0-OpenSSH_9.2\r\n") == .ssh)
        #expect(kind("") == .silence)
        #expect(kind("\u{1}\u{2}\u{3}", .short(3)) == .binary)
    }
}
