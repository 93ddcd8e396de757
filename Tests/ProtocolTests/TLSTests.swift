import Testing

@testable import TLS

@Suite struct TLSTests {
    func messages(_ stream: [UInt8], chunks: [Int]) -> (msgs: [(UInt8, [UInt8])], state: TLSHandshakeReader.State) {
        var r = TLSHandshakeReader()
        var out: [(UInt8, [UInt8])] = []
        var i = 0
        for c in chunks + [stream.count] where i < stream.count {
            let n = min(c, stream.count - i)
            stream[i..<(i + n)].withUnsafeBytes { b in r.feed(b) { t, body in out.append((t, Array(body))) } }
            i += n
        }
        return (out, r.state)
    }

    @Test func fingerprintsMatchThePublishedVector() throws {
        let hs = chromeLikeClientHello()
        let hello = try hs.dropFirst(4).withUnsafeBytes { try ClientHello.parse($0) }
        #expect(hello.serverName == "tls.browserleaks.com")
        #expect(hello.alpn == ["h2"])
        #expect(hello.highestVersion == 0x0304)
        #expect(
            hello.ja3String
                == "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0"
        )
        #expect(hello.ja3 == "98487aa16281980e7d1120d399efb6a4")
        #expect(hello.ja4 == "t13d1516h2_8daaf6152771_d8a2da3f94cd")
    }

    @Test func clientHelloSplitAnywhere() throws {
        let hs = chromeLikeClientHello()
        // Records of every size from tiny to whole, and TCP segments cut at every offset.
        for recordSize in [1, 7, 100, 16384] {
            let stream = records(hs, recordSize: recordSize)
            for cut in stride(from: 1, to: stream.count, by: recordSize == 1 ? 97 : 13) {
                let (msgs, state) = messages(stream, chunks: [cut, 5, 1])
                #expect(state == .handshake)
                #expect(msgs.count == 1)
                #expect(msgs.first?.0 == 1)
                #expect(msgs.first?.1 == Array(hs.dropFirst(4)))
            }
        }
    }

    @Test func encryptedAndInvalidStreams() {
        let ccs: [UInt8] = [20, 3, 3, 0, 1, 1]
        #expect(
            messages(records(chromeLikeClientHello()) + ccs + [23, 3, 3, 0, 2, 9, 9], chunks: []).state == .encrypted)
        #expect(messages(Array("GET / HTTP/1.1\r\n\r\n".utf8), chunks: []).state == .invalid)
        // A handshake message claiming 16 MB never allocates it.
        #expect(messages(records([1, 0xFF, 0xFF, 0xFF, 0]), chunks: []).state == .invalid)
    }

    @Test func truncatedAndLyingClientHellosThrow() {
        let hs = Array(chromeLikeClientHello().dropFirst(4))
        for n in stride(from: 0, to: hs.count - 1, by: 11) {
            // Any prefix either parses (the extensions ended on a boundary) or throws; it never traps.
            _ = try? hs.prefix(n).withUnsafeBytes { try ClientHello.parse($0) }
        }
        var lying = hs
        lying[35 + 32] = 0xFF  // cipher_suites length far past the end
        #expect(throws: TLSParseError.self) { try lying.withUnsafeBytes { try ClientHello.parse($0) } }
    }

    @Test func certificateNames() throws {
        let msg = be24(testCertificateDER.count + 3) + be24(testCertificateDER.count) + testCertificateDER
        let names = try msg.withUnsafeBytes { try LeafCertificate.parse(certificateMessage: $0) }
        #expect(names.subjectCommonName == "pool.example-xmr.test")
        #expect(names.dnsNames == ["pool.example-xmr.test", "*.example-xmr.test"])
        // Every truncation throws or parses; never traps.
        for n in stride(from: 0, to: testCertificateDER.count, by: 7) {
            _ = try? testCertificateDER.prefix(n).withUnsafeBytes { try LeafCertificate.parse(der: $0) }
        }
    }

    @Test func minerGeneratedCertificateProfile() throws {
        let xmrig = try minerProfileCertificateDER.withUnsafeBytes { try LeafCertificate.parse(der: $0) }
        #expect(xmrig.version == 1)
        #expect(xmrig.serialIsOne && xmrig.selfIssued)
        #expect(xmrig.validitySeconds == 315_360_000)
        #expect(xmrig.rsaBits == 2048)
        #expect(xmrig.subjectCommonName == "localhost")
        #expect(xmrig.hasMinerProfile)
        // One fact off is not the profile: a year's validity; a v3 EC certificate with a random serial.
        let year = try oneYearSelfSignedDER.withUnsafeBytes { try LeafCertificate.parse(der: $0) }
        #expect(year.validitySeconds == 365 * 86_400 && year.serialIsOne && !year.hasMinerProfile)
        let ordinary = try testCertificateDER.withUnsafeBytes { try LeafCertificate.parse(der: $0) }
        #expect(ordinary.version == 3 && !ordinary.serialIsOne && ordinary.rsaBits == nil && !ordinary.hasMinerProfile)
        #expect(ordinary.selfIssued && ordinary.validitySeconds == 3650 * 86_400)
        for n in stride(from: 0, to: minerProfileCertificateDER.count, by: 5) {
            _ = try? minerProfileCertificateDER.prefix(n).withUnsafeBytes { try LeafCertificate.parse(der: $0) }
        }
    }

    @Test func recordWalkerFollowsRecordsAcrossAnySegmentation() {
        let stream: [UInt8] =
            records(chromeLikeClientHello(), recordSize: 100) + [23, 3, 3, 0, 3, 1, 2, 3] + [23, 3, 3, 0x40, 0x00]
            + [UInt8](repeating: 7, count: 0x4000)
        func walk(_ chunk: Int) -> (records: [[Int]], invalid: Bool) {
            var w = TLSRecordWalker()
            var out: [[Int]] = []
            var i = 0
            while i < stream.count {
                let n = min(chunk, stream.count - i)
                stream[i..<(i + n)].withUnsafeBytes { w.feed($0) { t, l in out.append([Int(t), l]) } }
                i += n
            }
            return (out, w.invalid)
        }
        let whole = walk(stream.count)
        #expect(whole.records.suffix(2) == [[23, 3], [23, 0x4000]])
        #expect(whole.records.count == (chromeLikeClientHello().count + 99) / 100 + 2)
        for chunk in [1, 2, 4, 5, 6, 99, 1000] { #expect(walk(chunk).records == whole.records) }
        var w = TLSRecordWalker()
        Array("GET / HTTP/1.1\r\n".utf8).withUnsafeBytes { w.feed($0) { _, _ in Issue.record("not a record") } }
        #expect(w.invalid)
        // A record longer than TLS allows stops the walk.
        var long = TLSRecordWalker()
        [UInt8]([23, 3, 3, 0xFF, 0xFF]).withUnsafeBytes { long.feed($0) { _, _ in } }
        #expect(long.invalid)
    }

    @Test func serverHelloSelectedVersion() throws {
        var body: [UInt8] = be16(0x0303) + [UInt8](repeating: 1, count: 32) + [0] + be16(0x1301) + [0]
        let ext = be16(43) + be16(2) + be16(0x0304)
        body += be16(ext.count) + ext
        let sh = try body.withUnsafeBytes { try ServerHello.parse($0) }
        #expect(sh.version == 0x0304)
        #expect(sh.versionName == "TLS 1.3")
    }
}
