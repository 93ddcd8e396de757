import CryptoP2P
import DNS
import HTTP
import JSON
import PacketDecoding
import Stratum
import TLS
import Testing
import TrafficGen

/// Every decoder fed random and mutated bytes: it may reject them, it must never trap,
/// hang or grow past its cap. (A trap fails the whole test process.)
@Suite struct HostileInputTests {
    func randomBuffers(seed: UInt64, count: Int, maxLength: Int, base: [UInt8] = []) -> [[UInt8]] {
        var rng = SplitMix(seed: seed)
        return (0..<count).map { _ in
            if !base.isEmpty && rng.next() % 2 == 0 {
                // Mutate a valid message: flip bytes, cut it short.
                var b = base
                for _ in 0..<(1 + Int(rng.next() % 6)) {
                    b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                return Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))
            }
            return (0..<Int(rng.next() % UInt64(maxLength))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    @Test func dnsNeverTraps() {
        for b in randomBuffers(
            seed: 1, count: 3000, maxLength: 300,
            base: Wire.dnsAnswer(id: 1, name: "a.pool.example", addresses: ["192.0.2.1", "192.0.2.2"]))
        {
            _ = b.withUnsafeBytes { try? DNSParser.parse($0) }
            var f = DNSTCPFramer()
            b.withUnsafeBytes { f.feed($0) { _ in } }
        }
    }

    @Test func tlsNeverTraps() {
        let hello = Wire.clientHello(sni: "pool.example")
        for b in randomBuffers(seed: 2, count: 3000, maxLength: 600, base: hello) {
            var r = TLSHandshakeReader()
            b.withUnsafeBytes {
                r.feed($0) { _, body in
                    _ = try? ClientHello.parse(body)
                    _ = try? ServerHello.parse(body)
                    _ = try? LeafCertificate.parse(certificateMessage: body)
                }
            }
            _ = b.dropFirst(5).withUnsafeBytes { try? ClientHello.parse($0) }
            _ = b.withUnsafeBytes { try? LeafCertificate.parse(der: $0) }
        }
    }

    @Test func httpAndWebSocketNeverTrap() {
        let req = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n0\r\n\r\n".utf8)
        for b in randomBuffers(seed: 3, count: 3000, maxLength: 400, base: req) {
            var p = HTTPStreamParser(requestSide: true, jsonBodiesOnly: true)
            b.withUnsafeBytes { p.feed($0) { _ in } }
            var q = HTTPStreamParser(requestSide: false)
            b.withUnsafeBytes { q.feed($0) { _ in } }
            var w = WebSocketReader(maxMessage: 256)
            b.withUnsafeBytes { w.feed($0) { _, m in #expect(m.count <= 256) } }
        }
    }

    @Test func stratumV2AndPeersNeverTrap() {
        let setup = Wire.sv2SetupConnection(host: "h", port: 1, vendor: "v", hardware: "x", firmware: "f", device: "d")
        for b in randomBuffers(seed: 4, count: 3000, maxLength: 300, base: setup + Wire.sv2SetupSuccess()) {
            var s = StratumV2Session()
            b.withUnsafeBytes {
                s.feed($0, from: .a, time: .zero)
                s.feed($0, from: .b, time: Timestamp(nanoseconds: 1))
            }
            _ = b.withUnsafeBytes { StratumV2Session.probe($0) }
            _ = b.withUnsafeBytes {
                PeerProtocols.bitcoin($0) ?? PeerProtocols.levin($0) ?? PeerProtocols.discoveryV4($0)
            }
        }
        for b in randomBuffers(seed: 5, count: 2000, maxLength: 300, base: Wire.bitcoinVersion()) {
            _ = b.withUnsafeBytes { PeerProtocols.bitcoin($0) }
        }
    }

    @Test func keccakMatchesKnownVectors() {
        // Ethereum's Keccak-256 of the empty string and of "abc".
        #expect(
            Keccak256.hash([UInt8]()).map { String($0, radix: 16).leftPad }.joined()
                == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(
            Keccak256.hash(Array("abc".utf8)).map { String($0, radix: 16).leftPad }.joined()
                == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        // 200 bytes: crosses the 136-byte rate (vector from pycryptodome's keccak, digest_bits=256).
        let long = [UInt8](repeating: 0x61, count: 200)
        #expect(
            Keccak256.hash(long).map { String($0, radix: 16).leftPad }.joined()
                == "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d")
        let ping = Wire.discv4Ping()
        #expect(ping.withUnsafeBytes { PeerProtocols.discoveryV4($0) }?.message == "discv4 ping")
        var bad = ping
        bad[0] ^= 1
        #expect(bad.withUnsafeBytes { PeerProtocols.discoveryV4($0) } == nil)
    }

    @Test func randomBytesAreNotPeerHandshakes() {
        // The recognisers check structure around the magic: random data must not match.
        var hits = 0
        for b in randomBuffers(seed: 6, count: 20000, maxLength: 1300) {
            if b.withUnsafeBytes({
                PeerProtocols.discoveryV4($0) ?? PeerProtocols.bitcoin($0) ?? PeerProtocols.levin($0)
            }) != nil {
                hits += 1
            }
        }
        #expect(hits == 0)
    }
}

extension String {
    var leftPad: String { count == 1 ? "0" + self : self }
}

/// Wire numbers chosen to trap a careless conversion (issue: hostile traffic).
@Suite struct WireNumberTests {
    @Test(arguments: ["-1", "+5", "ffffffffffffffffffff", "-0", " 5", "0x10", "1 ;ext"])
    func chunkSizesAreHexDigitsOnly(_ size: String) {
        var p = HTTPStreamParser(requestSide: true, jsonBodiesOnly: true)
        let text =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\(size)\r\n{\"a\":1}\r\n0\r\n\r\n"
        Array(text.utf8).withUnsafeBytes { p.feed($0) { _ in } }
        // "1 ;ext" is a valid size with an extension; the rest are rejected, and none traps.
    }

    @Test(arguments: [
        "1e400", "-1e400", "\"NaN\"", "\"nan\"", "\"inf\"", "\"Infinity\"", "\"-infinity\"", "\"0x1p3\"", "\"1e999\""
    ])
    func nonFiniteNumbersAreNotNumbers(_ literal: String) throws {
        let v = try JSONParser.parse("[\(literal)]")
        #expect(v[0]?.double == nil)
        #expect(v[0]?.integer(in: 0...65535) == nil)
    }

    @Test func integersAreCheckedAgainstTheirRange() throws {
        let v = try JSONParser.parse("[3333, 70000, -1, 1.5, 1e19, \"443\"]")
        #expect(v[0]?.integer(in: 0...65535) == 3333)
        #expect(v[1]?.integer(in: 0...65535) == nil)
        #expect(v[2]?.integer(in: 0...65535) == nil)
        #expect(v[3]?.integer(in: 0...65535) == nil)
        #expect(v[4]?.integer(in: 0...65535) == nil)
        #expect(v[5]?.integer(in: 0...65535) == 443)
    }

    /// Difficulties, targets and hashrates beyond anything physical are ignored and counted.
    @Test func implausibleHashNumbersAreIgnored() {
        var s = StratumSession()
        let lines = [
            #"{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0",null,"pool.example",1e300]}"#,
            #"{"id":1,"result":[[],"08000002",4],"error":null}"#,
            #"{"id":null,"method":"mining.set_difficulty","params":[1e300]}"#,
            #"{"id":null,"method":"mining.set_target","params":["0000000000000000000000000000000000000000000000000000000000000001"]}"#,
            #"{"id":null,"method":"client.reconnect","params":["h",-1e19,1e300]}"#,
            #"{"params":["w","1","00000001","5f5e1001","00000001"],"id":7,"method":"mining.submit"}"#,
            #"{"id":7,"result":true,"error":null}"#
        ]
        var t: Int64 = 0
        for (i, l) in lines.enumerated() {
            t += 1_000_000_000
            Array((l + "\n").utf8).withUnsafeBytes {
                _ = s.feed($0, from: i == 1 || (i >= 2 && i <= 4) || i == 6 ? .b : .a, time: Timestamp(nanoseconds: t))
            }
        }
        #expect(s.summary.shape == .twoSided)
        #expect(s.summary.hashesPerShare == nil)
        #expect(s.summary.estimatedHashrate == nil)
        #expect(s.implausibleNumbers == 2)
        #expect(s.summary.poolHostnames.allSatisfy { !$0.contains("e+") })
    }

    /// A Stratum V2 session opening channels by the thousand keeps short lists, in linear time.
    @Test func channelFloodKeepsListsShort() {
        var s = StratumV2Session()
        Wire.sv2SetupConnection(host: "p", port: 3336, vendor: "v", hardware: "h", firmware: "f", device: "d")
            .withUnsafeBytes { s.feed($0, from: .a, time: Timestamp(nanoseconds: 1)) }
        var batch: [UInt8] = []
        for i in 0..<20_000 { batch += Wire.sv2OpenStandardChannel(user: "wallet\(i).w\(i)") }
        batch.withUnsafeBytes { s.feed($0, from: .a, time: Timestamp(nanoseconds: 2)) }
        #expect(s.summary.wallets.count <= StratumV2Session.maxListEntries)
        #expect(s.summary.workers.count <= StratumV2Session.maxListEntries)
        #expect(s.summary.minerMethods.count <= StratumV2Session.maxListEntries)
    }
}
