import PacketDecoding
import Testing
import TrafficGen

@testable import Stratum

/// A conversation: (side, line) pairs, fed as one stream per side.
typealias Script = [(Side, String)]

let xmrStak: Script = [
    (
        .a,
        #"{"method":"login","params":{"login":"4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm.cb2b73415c4faf214035a73b9d947c202342f3bf3bdf632132bd6d7af98cb257.ryzen","pass":"x","agent":"xmr-stak-cpu/1.3.0-1.5.0"},"id":1}"#
    ),
    (
        .b,
        #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"479059546883218","job":{"blob":"0606e89883d205a65d8ee78991838a1cf3ec2ebbc5fb1fa43dec5fa1cd2bee4069212a549cd731000000005a88235653097aa3e97ef2ceef4aee610751a828f9be1a0758a78365fb0a4c8c05","job_id":"722134174127131","target":"dc460300"},"status":"OK"}}"#
    ),
    (
        .a,
        #"{"method":"submit","params":{"id":"479059546883218","job_id":"722134174127131","nonce":"98024001","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"},"id":1}"#
    ),
    (.b, #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}"#),
    (
        .b,
        #"{"jsonrpc":"2.0","method":"job","params":{"blob":"06069c99","job_id":"652010620664805","target":"dc460300"}}"#
    ),
    (
        .a,
        #"{"method":"submit","params":{"id":"479059546883218","job_id":"652010620664805","nonce":"600a0000","result":"34906d85"},"id":1}"#
    ),
    (.b, #"{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Low difficulty share"}}"#)
]

let ewbf: Script = [
    (.a, #"{"id":1,"method":"mining.subscribe","params":["EWBF 0.3.4b",null,"eu1-zcash.flypool.org","3333"]}"#),
    (.b, #"{"id":1,"result":["04d567b212", "04d567b212"], "error": null}"#),
    (.a, #"{"id":2,"method":"mining.authorize","params":["t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4","x"]}"#),
    (.b, #"{"id":2,"result":true, "error": null}"#),
    (
        .b,
        #"{"id":null,"method":"mining.set_target","params":["0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a"]}"#
    ),
    (.b, #"{"id":null,"method":"mining.notify","params":["1","04000000","b4e1","ab12","0000","5a40cd4c",true]}"#),
    (
        .a,
        #"{"id":100,"method":"mining.submit","params":["t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4","8c6f2d4c6d2c7014fb26","a9cc405a","3e27","fd40"]}"#
    ),
    (.b, #"{"id":100,"result":true}"#)
]

let ethProxy: Script = [
    (
        .a,
        #"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b/tester.worker1/vvesely@mailinator", "x"], "id": 2, "method": "eth_submitLogin"}"#
    ),
    (.b, #"{"jsonrpc":"2.0","id":2,"result":true}"#),
    (
        .b,
        #"{"jsonrpc":"2.0","id":0,"result":["0x415559c31768833f25b6dbfbb39be72e71375e14a3a711e589696850bc9431ec","0x71a56feffb6f10ea9d76e1a9464eb0abd86e4349ae98fb794923a65b650282a3","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}"#
    ),
    (
        .a,
        #"{"id":6,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1d08a61", "0x0000000000000000000000000000000000000000000000000000000002df91be"]}"#
    ),
    (
        .a,
        #"{"id":4,"method":"eth_submitWork","params":["0x07a05fa4133e5126","0x41f3161ce643ebcf25d34dde1ac0d3e695edcbf136eed96680bac4cf1a82e417","0x44e9206e9c830706f60e0129bdd117a2718d6553f3405b477541994df3583d4b"]}"#
    ),
    (.b, #"{"jsonrpc":"2.0","id":4,"result":true}"#)
]

let ethStratum1: Script = [
    (.a, #"{"id": 1, "method": "mining.subscribe", "params": ["ethminer 0.19.0", "EthereumStratum/1.0.0"]}"#),
    (
        .b,
        #"{"id": 1, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "080c"], "error": null}"#
    ),
    (
        .a,
        #"{"id": 2, "method": "mining.authorize", "params": ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b.rig", "x"]}"#
    ),
    (.b, #"{"id": 2, "result": true, "error": null}"#),
    (.b, #"{"id": null, "method": "mining.set_difficulty", "params": [2]}"#),
    (.b, #"{"id": null, "method": "mining.notify", "params": ["bf0488aa", "abcd", "6d3a", true]}"#),
    (
        .a,
        #"{"id": 4, "method": "mining.submit", "params": ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b.rig", "bf0488aa", "6a909d9bbc0f"]}"#
    ),
    (.b, #"{"id": 4, "result": true, "error": null}"#)
]

let ethStratum2: Script = [
    (
        .a,
        #"{"id":1,"method":"mining.hello","params":{"agent":"ethminer-0.19.0","host":"eu1.ethermine.org","port":"4444","proto":"EthereumStratum/2.0.0"}}"#
    ),
    (
        .b,
        #"{"id":1,"result":{"proto":"EthereumStratum/2.0.0","encoding":"plain","resume":1,"timeout":30,"maxerrors":5,"node":"geth"}}"#
    ),
    (.b, #"{"method":"mining.notify","params":["a1","b2","c3",true]}"#)
]

/// Feeds a script to a session, cutting each side's stream with `cut`.
func run(_ script: Script, cut: (Int) -> [Int] = { [$0] }, limits: StratumLimits = StratumLimits()) -> StratumSession {
    var s = StratumSession(limits: limits)
    var t: Int64 = 1_000_000_000
    for (side, line) in script {
        let bytes = Array((line + "\r\n").utf8)
        var off = 0
        for n in cut(bytes.count) where off < bytes.count {
            let end = min(bytes.count, off + n)
            _ = Array(bytes[off..<end]).withUnsafeBytes { s.feed($0, from: side, time: Timestamp(nanoseconds: t)) }
            off = end
        }
        if off < bytes.count {
            _ = Array(bytes[off...]).withUnsafeBytes { s.feed($0, from: side, time: Timestamp(nanoseconds: t)) }
        }
        t += 10_000_000_000
    }
    return s
}

@Suite struct StratumDialectTests {
    @Test func cryptonoteXmrStak() {
        let m = run(xmrStak).summary
        #expect(m.dialect == .cryptonote && m.shape == .twoSided && m.minerSide == .a)
        #expect(m.software == "xmr-stak-cpu/1.3.0-1.5.0")
        #expect(
            m.wallets == [
                "4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm"
            ])
        #expect(m.workers == ["ryzen"])
        #expect(m.coin == "monero")
        #expect(m.loginAccepted == true)
        #expect(m.sharesSubmitted == 2 && m.sharesAccepted == 1 && m.sharesRejected == 1)
        #expect(m.jobsReceived == 2)
        // "dc460300" little-endian = 0x000346dc = 214748 → (2^32-1)/214748 ≈ 20000
        #expect(abs((m.difficulty ?? 0) - 20000) < 1)
        #expect(abs(m.acceptedHashes - 20000) < 1)
    }

    @Test func stratumV1EWBF() {
        let m = run(ewbf).summary
        #expect(m.dialect == .stratumV1 && m.shape == .twoSided)
        #expect(m.software == "EWBF 0.3.4b")
        #expect(m.poolHostnames == ["eu1-zcash.flypool.org:3333"])
        #expect(m.wallets == ["t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd"] && m.workers == ["rig4"])
        #expect(m.coin == "zcash")
        #expect(m.sharesAccepted == 1 && m.jobsReceived == 1)
        #expect(m.hashesPerShare != nil)
    }

    @Test func ethProxyDialect() {
        let m = run(ethProxy).summary
        #expect(m.dialect == .ethProxy && m.shape == .twoSided)
        #expect(m.wallets == ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b"])
        #expect(m.workers.contains("eth1.0") && m.workers.contains("tester.worker1"))
        #expect(m.reportedHashrate == Double(0x1d08a61))
        #expect(m.sharesAccepted == 1)
        // boundary 0x00000000dbe6fece... → 2^256/boundary = 2^64/0xdbe6fece ≈ 5.0e9 hashes per share (a 5 GH pool difficulty)
        #expect(abs((m.hashesPerShare ?? 0) / 5.0e9 - 1) < 0.001)
    }

    @Test func ethereumStratum1() {
        let m = run(ethStratum1).summary
        #expect(m.dialect == .ethereumStratum1 && m.software == "ethminer 0.19.0")
        #expect(m.sharesAccepted == 1)
        #expect(m.acceptedHashes == 2 * 4_294_967_296)
    }

    @Test func ethereumStratum2() {
        let m = run(ethStratum2).summary
        #expect(m.dialect == .ethereumStratum2 && m.shape == .twoSided)
        #expect(m.poolHostnames == ["eu1.ethermine.org:4444"])
    }

    /// Whole, byte by byte and random chunks must give the same summary.
    @Test(arguments: [0, 1, 2, 3, 4])
    func segmentationDoesNotMatter(seed: Int) {
        for script in [xmrStak, ewbf, ethProxy, ethStratum1] {
            let whole = run(script).summary
            let bytewise = run(script, cut: { Array(repeating: 1, count: $0) }).summary
            var rng = SplitMix(seed: UInt64(seed))
            let random = run(script, cut: { n in (0..<n).map { _ in Int(rng.next() % 17) + 1 } }).summary
            #expect(whole == bytewise)
            #expect(whole == random)
        }
    }

    @Test func eventsWaitForIdentification() {
        var s = run(xmrStak)
        let events = s.drainEvents()
        #expect(events.first == .sessionIdentified)
        #expect(
            events.contains(
                .login(
                    accepted: true,
                    user: xmrStak[0].1.isEmpty
                        ? nil
                        : "4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm.cb2b73415c4faf214035a73b9d947c202342f3bf3bdf632132bd6d7af98cb257.ryzen"
                )))
        #expect(events.filter { if case .share = $0 { true } else { false } }.count == 2)
    }
}

@Suite struct NotMiningTests {
    @Test func web3IsNotMining() {
        let s = run([
            (.a, #"{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}"#),
            (.b, #"{"jsonrpc":"2.0","id":1,"result":"0x10d4f"}"#)
        ])
        #expect(s.summary.shape == .none)
    }

    @Test func echoServiceIsARoleConflict() {
        let line = #"{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10.0"]}"#
        let s = run([(.a, line), (.b, line), (.a, line), (.b, line)])
        #expect(s.summary.shape == .none && s.summary.roleConflict)
    }

    @Test func textThatMentionsMethodsIsNotMining() {
        let s = run([
            (.a, #"{"id":7,"query":"mining.subscribe"}"#),
            (.b, #"{"id":7,"rows":[{"body":"mining.authorize login submit"}]}"#)
        ])
        #expect(s.summary.shape == .none)
    }

    @Test func genericLoginWithoutMiningShapeIsNotMining() {
        let s = run([
            (.a, #"{"id":1,"method":"login","params":["bob","hunter2"]}"#), (.b, #"{"id":1,"result":{"token":"abc"}}"#)
        ])
        #expect(s.summary.shape == .none)
    }

    @Test func nonJSONStreamIsGivenUpAtOnce() {
        var s = StratumSession()
        let keep = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8).withUnsafeBytes { s.feed($0, from: .a, time: .zero) }
        #expect(!keep)
    }

    @Test func binaryWithoutNewlinesIsGivenUp() {
        var s = StratumSession(midStream: (true, true))
        let blob = [UInt8](repeating: 0x41, count: 20_000)
        let keep = blob.withUnsafeBytes { s.feed($0, from: .a, time: .zero) }
        #expect(!keep)
    }

    @Test func overlongLinesAreDroppedAndCounted() {
        var limits = StratumLimits()
        limits.maxLineLength = 150
        let long = #"{"id":9,"method":"mining.notify","params":[""# + String(repeating: "a", count: 300) + #""]}"#
        let s = run([(.a, ewbf[0].1), (.b, long), (.b, ewbf[1].1)], limits: limits)
        #expect(s.overlongLines == 1)
        #expect(s.summary.shape == .twoSided)
    }
}

@Suite struct NumbersTests {
    @Test(arguments: [("dc460300", 20000.0), ("ffffffff", 1.0), ("b7d10000", 80000.0)])
    func cryptonoteTargets(target: String, difficulty: Double) {
        let d = StratumSession.cryptonoteDifficulty(target)!
        #expect(abs(d / difficulty - 1) < 0.01)
    }

    @Test func eightByteTarget() {
        // 0x0000_0000_0000_ffff little-endian in 8 bytes → (2^64-1)/0xffff... reversed bytes "ffff000000000000"
        let d = StratumSession.cryptonoteDifficulty("ffff000000000000")!
        #expect(abs(d - Double(UInt64.max) / 65535) < 1e6)
    }

    @Test func badTargetsAreNil() {
        #expect(StratumSession.cryptonoteDifficulty("zz460300") == nil)
        #expect(StratumSession.cryptonoteDifficulty("00000000") == nil)
        #expect(StratumSession.hashesFor256BitTarget("0x") == nil)
    }

    @Test(
        arguments: [
            ("t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4", "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd", "rig4"),
            ("0xabc/worker1/me@example.com", "0xabc", "worker1"),
            ("4Wallet+50000.rig", "4Wallet", "rig"),
            ("plainwallet", "plainwallet", nil)
        ] as [(String, String, String?)])
    func walletSplitting(user: String, wallet: String, worker: String?) {
        let r = WalletParsing.split(user)
        #expect(r.wallet == wallet && r.worker == worker)
    }
}

@Suite struct StratumV2Tests {
    func feed(_ s: inout StratumV2Session, _ bytes: [UInt8], _ side: Side, byteByByte: Bool) {
        if byteByByte {
            for b in bytes { [b].withUnsafeBytes { s.feed($0, from: side, time: Timestamp(nanoseconds: 1)) } }
        } else {
            bytes.withUnsafeBytes { s.feed($0, from: side, time: Timestamp(nanoseconds: 1)) }
        }
    }

    @Test(arguments: [false, true])
    func clearTextSessionWithRolesFromBehaviour(byteByByte: Bool) {
        var s = StratumV2Session()
        let setup = Wire.sv2SetupConnection(
            host: "pool.lan", port: 3336, vendor: "Bitmain", hardware: "S19", firmware: "fw 1", device: "dev-1")
        setup.withUnsafeBytes { #expect(StratumV2Session.probe($0)) }
        // A job before any setup, and a channel opened from the wrong side, mean nothing.
        feed(&s, Wire.sv2NewMiningJob(9), .b, byteByByte: byteByByte)
        feed(&s, setup, .a, byteByByte: byteByByte)
        feed(&s, Wire.sv2SetupSuccess(), .b, byteByByte: byteByByte)
        feed(&s, Wire.sv2OpenStandardChannel(user: "wrong.side"), .b, byteByByte: byteByByte)
        feed(&s, Wire.sv2OpenStandardChannel(user: "\(Messages.btcWallet).rig1"), .a, byteByByte: byteByByte)
        feed(&s, Wire.sv2NewMiningJob(1), .b, byteByByte: byteByByte)
        for i in 0..<3 {
            feed(&s, Wire.sv2SubmitShares(seq: i, job: 1), .a, byteByByte: byteByByte)
            feed(&s, Wire.sv2SubmitSuccess(seq: i), .b, byteByByte: byteByByte)
        }
        #expect(!s.invalid)
        #expect(s.summary.minerSide == .a && s.summary.shape == .twoSided && s.summary.dialect == .stratumV2)
        #expect(s.summary.software == "Bitmain S19 fw 1" && s.summary.poolHostnames == ["pool.lan:3336"])
        #expect(s.summary.wallets == [Messages.btcWallet] && s.summary.workers == ["dev-1", "rig1"])
        #expect(s.summary.jobsReceived == 1 && s.summary.sharesSubmitted == 3 && s.summary.sharesAccepted == 3)
        #expect(s.summary.coin == "bitcoin" && s.summary.loginAccepted == true)
    }
}

/// Wire strings kept in a session are cut by bytes: what a stored session document can grow to
/// follows from it (docs/store-and-fleet.md "Store").
@Suite struct WireStringCutTests {
    @Test func aCharacterOfManyCombiningMarksIsCutByBytes() {
        var list: [String] = []
        // One character: "e" and 5000 combining acute accents (10 001 bytes).
        list.appendUnique("e" + String(repeating: "\u{301}", count: 5000), cap: 16)
        #expect(list[0].utf8.count <= 256)
        #expect(list[0].unicodeScalars.first == "e")
    }

    @Test func theCutEndsOnAScalarBoundary() {
        // 3-byte scalars: 256 bytes hold 85 of them (255 bytes), never half of the 86th.
        let cut = String(repeating: "€", count: 200).utf8Prefix(256)
        #expect(cut == String(repeating: "€", count: 85))
        #expect("short".utf8Prefix(256) == "short")
        #expect("".utf8Prefix(0) == "")
    }
}
