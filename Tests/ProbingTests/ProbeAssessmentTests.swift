import Testing

@testable import Probing

/// Answers as servers send them, read the way the probe reads them.
@Suite struct ProbeAssessmentTests {
    func assess(_ dialect: ProbeDialect, _ text: String, complete: Bool = true, closed: Bool = false) -> ProbeAssessment
    {
        ProbeAssessment.assess(dialect, received: Array(text.utf8), complete: complete, closed: closed)
    }

    @Test func cryptoNoteLoginWithAJobIsAPool() {
        let answer =
            #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"84a0f1c9","job":{"blob":"1010c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5","job_id":"Y2zJ","target":"b88d0600","algo":"rx/0","height":3290119},"status":"OK"}}"#
            + "\n"
        guard case .pool(let a) = assess(.cryptonote, answer, complete: false) else {
            Issue.record("not a pool: \(assess(.cryptonote, answer))")
            return
        }
        #expect(a.algorithm == "rx/0")
        #expect(a.coin == "monero")
        #expect(a.height == 3_290_119)
        #expect(a.jobID == "Y2zJ")
        #expect(a.difficulty.map { Int($0) } == 10_000)
        #expect(a.loginAccepted == true)
    }

    @Test func otherAlgorithmsNameTheirCoin() {
        let answer =
            #"{"id":1,"result":{"id":"1","job":{"blob":"0e0ea1b2c3d4e5f60718293a4b5c6d7e8f90","job_id":"7","target":"ffff0000","algo":"rx/wow"}}}"#
        guard case .pool(let a) = assess(.cryptonote, answer) else {
            Issue.record("not a pool")
            return
        }
        #expect(a.coin == "wownero")
    }

    @Test func aPartLineWaitsForItsEnd() {
        let answer = #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"84a0f1c9","job":{"blob":"1010c5c5"#
        #expect(assess(.cryptonote, answer, complete: false) == .needMore)
        #expect(assess(.cryptonote, "", complete: false) == .needMore)
    }

    @Test func stratumSubscriptionThenJob() {
        let subscribed =
            #"{"id":1,"result":[[["mining.set_difficulty","1"],["mining.notify","1"]],"08000002",4],"error":null}"#
            + "\n"
        // The subscription alone is a pool's shape, but the job is worth waiting for.
        #expect(assess(.stratumV1, subscribed, complete: false) == .needMore)
        guard case .pool(let bare) = assess(.stratumV1, subscribed, complete: true) else {
            Issue.record("subscription not a pool")
            return
        }
        #expect(bare.job == "no job before the answer timeout")
        let job =
            subscribed + #"{"id":2,"result":true,"error":null}"# + "\n"
            + #"{"id":null,"method":"mining.set_difficulty","params":[65536]}"# + "\n"
            + #"{"id":null,"method":"mining.notify","params":["4f2a","\#(String(repeating: "b1", count: 32))","0100","0700",[],"20000000","1703a30c","6577e1c9",true]}"#
            + "\n"
        guard case .pool(let a) = assess(.stratumV1, job, complete: false) else {
            Issue.record("job not read")
            return
        }
        // nBits 1703a30c: a network difficulty of 7.7·10¹³ (Python: 0xffff·2²⁰⁸ / (0x03a30c·256²⁰) = 77 392 982 524 430) — only Bitcoin's is that high.
        #expect(a.job == "Bitcoin-style block template, network difficulty 77 392 982 524 430")
        #expect(a.coin == "bitcoin" && a.algorithm == "sha256d")
        #expect(a.difficulty == 65536)
        #expect(a.loginAccepted == true)
    }

    @Test func theChainsOwnNumbersNameTheCoinOnlyWhereTheyAreUnique() {
        // Bitcoin block 1 (nBits 1d00ffff) has difficulty 1.
        #expect(AnswerReading.networkDifficulty(bits: 0x1D00_FFFF) == 1)
        #expect(AnswerReading.networkDifficulty(bits: 0) == nil)
        #expect(AnswerReading.networkDifficulty(bits: 0xFF80_0001) == nil)
        // A Bitcoin Cash-like difficulty (~10¹²) and a scrypt one (~10⁷) name no coin.
        let coinb1 = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff3503d0300e"
        for bits in ["18030000", "1a0a0000"] {
            let text =
                #"{"id":1,"result":[[],"08000002",4],"error":null}"# + "\n"
                + #"{"id":null,"method":"mining.notify","params":["1","\#(String(repeating: "b1", count: 32))","\#(coinb1)","07",[],"20000000","\#(bits)","6577e1c9",true]}"#
                + "\n"
            guard case .pool(let a) = assess(.stratumV1, text, complete: false) else {
                Issue.record("not a pool")
                continue
            }
            #expect(a.coin == nil && a.algorithm == "sha256d/scrypt family", "\(bits)")
            // BIP 34: the coinbase states the height (930 000 here).
            #expect(a.height == 930_000)
        }
        #expect(AnswerReading.coinbaseHeight("0100000001" + String(repeating: "00", count: 36) + "0451") == 1)  // OP_1
        // a push past the end
        #expect(AnswerReading.coinbaseHeight("0100000001" + String(repeating: "00", count: 36) + "0409ff") == nil)
        #expect(AnswerReading.coinbaseHeight("zz") == nil)
    }

    @Test func notifyWithoutSubscriptionIsNotEnough() {
        // A JSON-RPC service can echo method names; without the subscription's extranonce it is not a pool.
        let text =
            #"{"id":null,"method":"mining.notify","params":["1","\#(String(repeating: "ab", count: 32))","\#(String(repeating: "cd", count: 32))",true]}"#
        #expect(assess(.ethereumStratum, text, complete: true) != .pool(PoolAnswer(dialect: .ethereumStratum)))
        if case .pool = assess(.ethereumStratum, text, complete: true) { Issue.record("called a pool") }
    }

    @Test func ethProxyWork() {
        let text =
            #"{"id":1,"jsonrpc":"2.0","result":true}"# + "\n"
            + #"{"id":2,"jsonrpc":"2.0","result":["0x\#(String(repeating: "12", count: 32))","0x\#(String(repeating: "34", count: 32))","0x00000000ffff0000000000000000000000000000000000000000000000000000","0x12d687"]}"#
            + "\n"
        guard case .pool(let a) = assess(.ethProxy, text, complete: false) else {
            Issue.record("not a pool")
            return
        }
        #expect(a.algorithm == "ethash")
        #expect(a.height == 0x12d687)
        #expect(a.loginAccepted == true)
    }

    @Test func jsonRPCServersThatAreNotPools() {
        // An Electrum server, a generic JSON-RPC service, and one that answers with results but no work.
        let electrum =
            #"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "unknown method \"login\""}, "id": 1}"# + "\n"
        #expect(
            assess(.cryptonote, electrum, complete: false)
                == .other(ServerReply(.jsonRPC, #"answered error -32601: unknown method "login""#)))
        let generic =
            #"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"# + "\n"
            + #"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}}"# + "\n"
        #expect(
            assess(.stratumV1, generic, complete: false)
                == .other(ServerReply(.jsonRPC, "answered error -32601: Method not found")))
        let results =
            #"{"jsonrpc":"2.0","id":1,"result":true}"# + "\n" + #"{"jsonrpc":"2.0","id":2,"result":[]}"# + "\n"
        #expect(assess(.ethProxy, results, complete: false) == .other(ServerReply(.jsonRPC, "answered without work")))
    }

    @Test func aPoolsRefusalNeitherConfirmsNorClears() {
        let text = #"{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Invalid payment address provided"}}"# + "\n"
        #expect(assess(.cryptonote, text, complete: false) == .refused("error -1: Invalid payment address provided"))
    }

    @Test func otherProtocolsByTheirFirstLine() {
        let cases: [(String, ServerReply.Kind)] = [
            ("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n", .http),
            ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", .ssh),
            ("220 mail.example.org ESMTP Postfix\r\n", .smtp),
            ("220 (vsFTPd 3.0.3)\r\n", .ftp),
            ("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", .imap),
            ("+OK Dovecot ready.\r\n", .pop3),
            ("-ERR unknown command '{\"id\":1,'\r\n", .redis),
            ("SIP/2.0 400 Bad Request\r\n", .sip),
            ("<?xml version='1.0'?><stream:stream xmlns='jabber:client'>", .xmpp),
            ("<!DOCTYPE HTML>\n<html>", .http),
            ("ERROR\r\n", .text)
        ]
        for (text, kind) in cases {
            guard case .other(let reply) = assess(.cryptonote, text) else {
                Issue.record("\(text): no reply")
                continue
            }
            #expect(reply.kind == kind, "\(text)")
        }
    }

    @Test func binaryAnswers() {
        func other(_ bytes: [UInt8]) -> ServerReply? {
            if case .other(let r) = ProbeAssessment.assess(.cryptonote, received: bytes, complete: true) { return r }
            return nil
        }
        #expect(other([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]) == ServerReply(.tls, "alert: protocol_version"))
        #expect(other([0x16, 0x03, 0x03, 0x00, 0x40])?.kind == .tls)
        #expect(other([0x20, 0x02, 0x00, 0x02])?.kind == .mqtt)
        let pg: [UInt8] = [0x45, 0, 0, 0, 0x1A] + Array("SFATAL\0Mbad startup\0\0".utf8)
        #expect(other(pg) == ServerReply(.postgresql, "error: bad startup"))
        #expect(other([0x00, 0xFF, 0x13])?.kind == .binary)
        #expect(
            ProbeAssessment.assess(.cryptonote, received: [], complete: true, closed: true)
                == .other(ServerReply(.closed)))
        #expect(ProbeAssessment.assess(.cryptonote, received: [], complete: true) == .other(ServerReply(.silence)))
    }

    @Test func hostileAnswersNeverTrap() {
        // Lengths that lie, unterminated structures, control characters, huge numbers and ids.
        let samples: [[UInt8]] = [
            [0x45, 0xFF, 0xFF, 0xFF, 0xFF, 0x4D], [0x45, 0, 0, 0, 4, 0], [0x15, 0x03], [0x16],
            Array(#"{"id":1e999,"result":{"job":{"blob":"","job_id":1,"target":"00000000"}}}"#.utf8),
            Array(
                #"{"id":1,"result":{"job":{"blob":"\#(String(repeating: "a", count: 64))","job_id":"x","target":"0000000000000000","height":1e300}}}"#
                    .utf8),
            Array(#"{"id":2,"result":["0x1","0x2","0x0"]}"#.utf8),
            Array(#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["#.utf8),
            Array("\u{1B}[2J\u{7}\r\n".utf8), [UInt8](repeating: 0x7B, count: 70_000)
        ]
        for bytes in samples {
            for dialect in ProbeDialect.allCases {
                for complete in [false, true] {
                    _ = ProbeAssessment.assess(dialect, received: bytes, complete: complete)
                }
            }
        }
    }

    @Test func bannersAreCutAndStayText() {
        let long = "220 " + String(repeating: "x", count: 1000) + "\r\n"
        guard case .other(let reply) = assess(.cryptonote, long) else {
            Issue.record("no reply")
            return
        }
        #expect((reply.detail?.unicodeScalars.count ?? 0) <= ServerReply.maxDetail + 1)
    }
}
