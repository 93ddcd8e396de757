import PacketDecoding
import Testing

@testable import DNS

@Suite struct DNSTests {
    func name(_ n: String) -> [UInt8] {
        n.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// A response for `xmr.pool.test`: a CNAME to `edge.cdn.test` (compressed), then two A records.
    func response() -> [UInt8] {
        var m: [UInt8] = be16(0x1234) + be16(0x8180) + be16(1) + be16(3) + be16(0) + be16(0)
        let q = m.count
        m += name("xmr.pool.test") + be16(1) + be16(1)
        // Answer 1: xmr.pool.test (pointer to the question) CNAME edge.cdn.test
        // "cdn" then ptr to "test"
        let target = [4] + Array("edge".utf8) + [3] + Array("cdn".utf8) + [0xC0, UInt8(q + 9)]
        m += [0xC0, UInt8(q)] + be16(5) + be16(1) + [0, 0, 0x0E, 0x10] + be16(target.count) + target
        let edge = m.count - target.count
        m += [0xC0, UInt8(edge)] + be16(1) + be16(1) + [0, 0, 0, 60] + be16(4) + [198, 51, 100, 7]
        m += [0xC0, UInt8(edge)] + be16(1) + be16(1) + [0, 0, 0, 30] + be16(4) + [198, 51, 100, 8]
        return m
    }

    @Test func compressedAnswersAndCNAMEChains() throws {
        let msg = try response().withUnsafeBytes { try DNSParser.parse($0) }
        #expect(msg.isResponse)
        #expect(msg.questions == [DNSQuestion(name: "xmr.pool.test", type: .a)])
        #expect(msg.answers.count == 3)
        #expect(msg.answers[0].value == .name("edge.cdn.test"))
        let addrs = msg.addresses(for: "XMR.pool.test")
        #expect(addrs.map(\.0) == [IPAddress("198.51.100.7")!, IPAddress("198.51.100.8")!])
        #expect(addrs.map(\.1) == [60, 30])
        #expect(msg.aliases(of: "xmr.pool.test") == ["edge.cdn.test"])
    }

    /// What the reader asks before parsing a datagram whole: only a response with answer records can
    /// give a name addresses.
    @Test func onlyAResponseWithRecordsIsAnAnswer() {
        let query: [UInt8] =
            be16(7) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + name("pool.test") + be16(1) + be16(1)
        var empty = response()
        empty[6] = 0
        empty[7] = 0
        func isAnswer(_ b: [UInt8]) -> Bool { b.withUnsafeBytes { DNSParser.isAnswer($0) } }
        #expect(isAnswer(response()))
        #expect(!isAnswer(query))
        #expect(!isAnswer(empty))
        #expect(!isAnswer(Array(response().prefix(11))))
        #expect(isAnswer(Array(response().prefix(12))))  // the header alone says so; parsing says the rest
    }

    /// The reader's outline of a message: each question's last two labels as the parsed name ends, and
    /// whether a CNAME is among the answers; nil where only a whole parse can tell.
    @Test func anOutlineGivesQuestionTailsAndCNAMEs() {
        func outline(_ b: [UInt8]) -> (tails: [String], cnames: Bool?) {
            var tails: [String] = []
            let cnames = b.withUnsafeBytes {
                DNSParser.outline($0) { tails.append(String(decoding: $0, as: UTF8.self)) }
            }
            return (tails, cnames)
        }
        let withCNAME = outline(response())
        #expect(withCNAME.tails == ["pool.test"] && withCNAME.cnames == true)
        let plain: [UInt8] =
            be16(7) + be16(0x8180) + be16(1) + be16(1) + be16(0) + be16(0) + name("XMR-eu1.Nanopool.org") + be16(1)
            + be16(1) + [0xC0, 12] + be16(1) + be16(1) + [0, 0, 0, 60] + be16(4) + [198, 51, 100, 7]
        #expect(outline(plain).tails == ["Nanopool.org"] && outline(plain).cnames == false)
        let single: [UInt8] =
            be16(7) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + name("printer") + be16(1) + be16(1)
        #expect(outline(single).tails == ["printer"] && outline(single).cnames == false)
        // A byte the parser would escape, a pointer in the question, a record cut short: unsure.
        var odd = plain
        odd[14] = 0x20
        #expect(outline(odd).cnames == nil)
        let pointer: [UInt8] =
            be16(7) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + [0xC0, 12] + be16(1) + be16(1)
        #expect(outline(pointer).cnames == nil)
        #expect(outline(Array(plain.dropLast(2))).cnames == nil)
        #expect(outline(Array(plain.prefix(11))).cnames == nil)
    }

    @Test func pointerLoopsAndForwardPointersAreRejected() {
        // A name that points at itself.
        var selfLoop: [UInt8] = be16(1) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0)
        selfLoop += [0xC0, 12] + be16(1) + be16(1)
        #expect(throws: DNSParseError.pointerLoop) { try selfLoop.withUnsafeBytes { try DNSParser.parse($0) } }
        // Two labels pointing at each other through a forward pointer.
        var forward: [UInt8] = be16(1) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0)
        forward += [1, 0x61, 0xC0, 16, 1, 0x62, 0xC0, 12] + be16(1) + be16(1)
        #expect(throws: DNSParseError.pointerLoop) { try forward.withUnsafeBytes { try DNSParser.parse($0) } }
    }

    @Test func truncationsNeverTrap() {
        let full = response()
        for n in 0..<full.count {
            let r = Result { try full.prefix(n).withUnsafeBytes { try DNSParser.parse($0) } }
            if case .success = r { Issue.record("prefix \(n) parsed") }
        }
    }

    @Test func lengthLimitsAndEscaping() throws {
        // 5 labels of 63 bytes: over 255.
        var long: [UInt8] = be16(1) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0)
        for _ in 0..<5 { long += [63] + [UInt8](repeating: 0x61, count: 63) }
        long += [0] + be16(1) + be16(1)
        #expect(throws: DNSParseError.nameTooLong) { try long.withUnsafeBytes { try DNSParser.parse($0) } }
        // Control bytes and dots inside labels come out escaped.
        var odd: [UInt8] = be16(1) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0)
        odd += [3, 0x1B, 0x2E, 0x41, 0] + be16(1) + be16(1)
        let m = try odd.withUnsafeBytes { try DNSParser.parse($0) }
        #expect(m.questions[0].name == "\\027\\046A")
    }

    @Test func tcpFramingAcrossSegments() {
        let r = response()
        let stream = be16(r.count) + r + be16(r.count) + r
        for cut in 1..<stream.count {
            var f = DNSTCPFramer()
            var got = 0
            stream[..<cut].withUnsafeBytes { f.feed($0) { m in got += m.count == r.count ? 1 : 100 } }
            stream[cut...].withUnsafeBytes { f.feed($0) { m in got += m.count == r.count ? 1 : 100 } }
            #expect(got == 2)
        }
    }
}
