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
        #expect(hello.ja3String == "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0")
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
        #expect(messages(records(chromeLikeClientHello()) + ccs + [23, 3, 3, 0, 2, 9, 9], chunks: []).state == .encrypted)
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
        lying[35 + 32] = 0xFF   // cipher_suites length far past the end
        #expect(throws: TLSParseError.self) { try lying.withUnsafeBytes { try ClientHello.parse($0) } }
    }

    @Test func certificateNames() throws {
        let msg = be24(testCertificateDER.count + 3) + be24(testCertificateDER.count) + testCertificateDER
        let names = try msg.withUnsafeBytes { try CertificateNames.parse(certificateMessage: $0) }
        #expect(names.subjectCommonName == "pool.example-xmr.test")
        #expect(names.dnsNames == ["pool.example-xmr.test", "*.example-xmr.test"])
        // Every truncation throws or parses; never traps.
        for n in stride(from: 0, to: testCertificateDER.count, by: 7) {
            _ = try? testCertificateDER.prefix(n).withUnsafeBytes { try CertificateNames.parse(der: $0) }
        }
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
