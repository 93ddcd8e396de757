import PacketDecoding
import Proxy
import Testing
import TrafficGen

@Suite struct SOCKSTests {
    /// Feeds the client's and the server's bytes alternately, message by message, or byte by byte.
    func run(_ messages: [(client: Bool, bytes: [UInt8])], bytewise: Bool = false) -> SOCKSHandshake {
        var h = SOCKSHandshake()
        for m in messages {
            if bytewise {
                for b in m.bytes { [b].withUnsafeBytes { _ = h.feed($0, fromClient: m.client) } }
            } else {
                m.bytes.withUnsafeBytes { _ = h.feed($0, fromClient: m.client) }
            }
        }
        return h
    }

    static let name = Array("pool.supportxmr.com".utf8)
    static let socks5Domain: [(client: Bool, bytes: [UInt8])] = [
        (true, [5, 1, 0]), (false, [5, 0]),
        (true, [5, 1, 0, 3, UInt8(name.count)] + name + [0x0D, 0x05]),
        (false, [5, 0, 0, 1, 10, 0, 0, 3, 0x9C, 0x41])
    ]

    @Test(arguments: [false, true])
    func socks5ByNameSplitAnywhere(bytewise: Bool) {
        let h = run(Self.socks5Domain, bytewise: bytewise)
        #expect(h.version == .socks5)
        #expect(h.target == "pool.supportxmr.com:3333")
        #expect(h.targetAddress == nil && !h.authenticated)
        #expect(h.outcome == .granted(clientBytes: 3 + 7 + Self.name.count, serverBytes: 2 + 10))
    }

    /// Greeting and request in one segment, no answer yet (or ever): the target is known.
    @Test func socks5PipelinedWithoutAnAnswerNamesItsTarget() {
        let pipelined = [5, 1, 0] + [5, 1, 0, 3, UInt8(Self.name.count)] + Self.name + [0x0D, 0x05]
        let h = run([(true, pipelined)])
        #expect(h.outcome == .pending)
        #expect(h.target == "pool.supportxmr.com:3333")
        // The answers that follow still complete the handshake as before.
        let granted = run([(true, pipelined), (false, [5, 0]), (false, [5, 0, 0, 1, 10, 0, 0, 3, 0x9C, 0x41])])
        #expect(granted.outcome == .granted(clientBytes: 3 + 7 + Self.name.count, serverBytes: 2 + 10))
        // Offering a password method, the client cannot have sent the request yet: nothing is guessed.
        #expect(
            run([(true, [5, 1, 2] + [5, 1, 0, 3, UInt8(Self.name.count)] + Self.name + [0x0D, 0x05])]).target == nil)
    }

    @Test func socks5WithPasswordToIPv4AndIPv6() {
        let auth: [(client: Bool, bytes: [UInt8])] = [
            (true, [5, 2, 0, 2]), (false, [5, 2]),
            (true, [1, 5] + Array("miner".utf8) + [2, 0x61, 0x62]), (false, [1, 0])
        ]
        var h = run(auth + [(true, [5, 1, 0, 1, 198, 51, 100, 61, 1, 0xBB]), (false, [5, 0, 0, 1, 0, 0, 0, 0, 0, 0])])
        #expect(h.authenticated && h.target == "198.51.100.61:443" && h.targetAddress == IPAddress("198.51.100.61"))
        #expect(h.outcome == .granted(clientBytes: 4 + 10 + 10, serverBytes: 2 + 2 + 10))
        h = run([
            (true, [5, 1, 0]), (false, [5, 0]),
            (true, [5, 1, 0, 4] + [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1, 0x0D, 0x05]),
            (false, [5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        ])
        #expect(h.target == "[2001:db8::1]:3333")
        // A wrong password is a refusal, not a tunnel.
        #expect(run(auth.prefix(3) + [(false, [1, 1])]).outcome == .refused(code: 1))
    }

    @Test func socks4AndSocks4a() {
        var h = run([(true, [4, 1, 0x0D, 0x05, 198, 51, 100, 9, 0]), (false, [0, 90, 0, 0, 0, 0, 0, 0])])
        #expect(
            h.version == .socks4 && h.target == "198.51.100.9:3333"
                && h.outcome == .granted(clientBytes: 9, serverBytes: 8))
        h = run([
            (
                true,
                [4, 1, 0x27, 0x11, 0, 0, 0, 1] + Array("id".utf8) + [0] + Array("Gulf.MoneroOcean.Stream".utf8) + [0]
            ),
            (false, [0, 0x5B, 0, 0, 0, 0, 0, 0])
        ])
        #expect(h.version == .socks4a && h.target == "gulf.moneroocean.stream:10001" && h.authenticated)
        #expect(h.outcome == .refused(code: 0x5B))
    }

    @Test func notSOCKSOrNotATunnel() {
        #expect(run([(true, Array("GET / HTTP/1.1\r\n".utf8))]).outcome == .invalid)
        // BIND and UDP ASSOCIATE do not carry a stream to a pool.
        #expect(
            run([(true, [5, 1, 0]), (false, [5, 0]), (true, [5, 3, 0, 1, 0, 0, 0, 0, 0, 0])]).outcome
                == .refused(code: 3))
        // A domain with a space or a control character is not a host name.
        #expect(
            run([(true, [5, 1, 0]), (false, [5, 0]), (true, [5, 1, 0, 3, 3, 0x61, 0x20, 0x62, 0, 80])]).outcome
                == .invalid)
        // A zero-length name, an unknown address type.
        #expect(run([(true, [5, 1, 0]), (false, [5, 0]), (true, [5, 1, 0, 3, 0, 0, 80])]).outcome == .invalid)
        #expect(run([(true, [5, 1, 0]), (false, [5, 0]), (true, [5, 1, 0, 9, 0, 0, 80])]).outcome == .invalid)
        let greeting: [UInt8] = [5, 2, 0, 2]
        let http = Array("CONNECT x".utf8)
        #expect(greeting.withUnsafeBytes { SOCKSHandshake.looksLikeRequest($0) })
        #expect(!http.withUnsafeBytes { SOCKSHandshake.looksLikeRequest($0) })
        #expect(![5, 0].withUnsafeBytes { SOCKSHandshake.looksLikeRequest($0) })
    }

    /// A client that never finishes (a SOCKS4 user id without its NUL) is held to the cap, then dropped.
    @Test func handshakeBuffersAreCapped() {
        var h = SOCKSHandshake()
        let head: [UInt8] = [4, 1, 0, 80, 1, 2, 3, 4]
        head.withUnsafeBytes { _ = h.feed($0, fromClient: true) }
        let junk = [UInt8](repeating: 0x41, count: 4096)
        for _ in 0..<100 { junk.withUnsafeBytes { _ = h.feed($0, fromClient: true) } }
        #expect(h.outcome == .invalid && h.bufferedBytes == 0)
    }

    @Test func mutatedHandshakesNeverTrap() {
        var g = SplitMix(seed: 1080)
        let base = Self.socks5Domain.flatMap { [$0.client ? UInt8(0) : UInt8(1)] + $0.bytes }
        for _ in 0..<5000 {
            var b = base
            for _ in 0..<Int(g.next() % 6) { b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next()) }
            var h = SOCKSHandshake()
            var client = true
            var start = 0
            for i in 0..<b.count where b[i] < 2 || i == b.count - 1 {
                Array(b[start..<i]).withUnsafeBytes { _ = h.feed($0, fromClient: client) }
                client = b[i] == 0
                start = i + 1
            }
            _ = h.target
        }
    }
}
