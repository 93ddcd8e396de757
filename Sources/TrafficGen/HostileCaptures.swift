import PacketDecoding

/// Captures an attacker on the monitored network would write: wire numbers chosen to trap a
/// careless conversion, times at Int64's ends, fragment and channel floods, nesting bombs,
/// compression loops, spoofed-source floods. `regression` holds small ones for the test suite
/// (each must give exit 0 and a report); `flood` streams one class at any size for `scripts/flood`.
public enum Hostile {
    static let t0 = Timestamp(seconds: 1_764_000_000)

    /// A small capture per hostile class: (file name, what it holds, pcap or pcapng bytes).
    public static var regression: [(name: String, what: String, bytes: [UInt8])] {
        [
            (
                "chunked-negative.pcap", "HTTP POST bodies with chunk sizes -1, +5 and 20 hex digits",
                chunkedNegative().pcap()
            ),
            (
                "json-numbers.pcap",
                "Stratum sessions whose ports, ids, difficulties, targets and hashrates are 1e300, -1e19, NaN, Infinity, 0xfff…",
                jsonNumbers().pcap()
            ),
            (
                "time-after-2038.pcap", "an XMRig session in the year 2100 (classic pcap's unsigned seconds)",
                xmrigSession(at: Timestamp(seconds: 4_102_444_800 + 86400 * 3)).pcap()
            ),
            (
                "time-backwards.pcap", "an XMRig session whose packets go back an hour, then to 1970, midway",
                inFileOrder(timeBackwards())
            ),
            (
                "time-extremes.pcapng",
                "pcapng interfaces whose if_tsoffset puts one miner's packets in 1684 and 2255 and another's at Int64's ends",
                timeExtremesPcapng()
            ),
            (
                "fragments.pcap", "30 000 zero-length and overlapping 8-byte IPv4 fragments, then a fragmented miner",
                fragments(count: 30_000)
            ),
            (
                "sv2-channels.pcap", "one Stratum V2 session opening 20 000 channels with distinct users",
                sv2Channels(count: 20_000).pcap()
            ),
            (
                "nesting-and-lines.pcap",
                "JSON nesting bombs, a 1 MB line, NUL bytes and a long run of newlines on a Stratum port",
                nestingAndLines().pcap()
            ),
            (
                "dns-hostile.pcap", "DNS messages with compression loops, pointer chains, label lies and 65 535 counts",
                dnsHostile().pcap()
            ),
            (
                "tls-hostile.pcap",
                "TLS records and handshakes whose lengths lie, a certificate with a 4-byte DER length of 0xffffffff",
                tlsHostile().pcap()
            ),
            (
                "websocket-hostile.pcap",
                "WebSocket frames of length 2^63-1 and 2^32, web-miner messages with hashes 1e300",
                webSocketHostile().pcap()
            ),
            (
                "spoofed-hosts.pcap",
                "20 000 spoofed pool-name DNS queries and 20 000 one-packet mining.subscribe flows from distinct sources",
                spoofedHosts(count: 20_000)
            )
        ]
    }

    // MARK: - Wire numbers

    static func chunkedNegative() -> Frames {
        var frames: Frames = []
        for (i, size) in ["-1", "+5", "ffffffffffffffffffff", "-0", " 5"].enumerated() {
            frames += Conversation.recorded(
                client: "10.1.0.10", clientPort: UInt16(40000 + i), server: "10.1.0.20", serverPort: 8080,
                start: t0.adding(seconds: Double(i))
            ) { c in
                c.send(
                    .client,
                    "POST /rpc HTTP/1.1\r\nHost: api.example\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\(size)\r\n{\"method\":\"getwork\",\"params\":[]}\r\n0\r\n\r\n",
                    line: false)
            }
        }
        return frames
    }

    static func jsonNumbers() -> Frames {
        var frames: Frames = []
        // Stratum V1: subscribe port 1e300, difficulty 1e300 then an accepted share, reconnect port -1e19.
        frames += Conversation.recorded(
            client: "10.1.1.10", clientPort: 41000, server: "10.1.1.20", serverPort: 3333, start: t0
        ) { a in
            a.send(
                .client,
                #"{"id":1e400,"method":"mining.subscribe","params":["cgminer/4.10.0",null,"pool.example",1e300]}"#)
            a.send(.server, #"{"id":1e400,"result":[[["mining.notify","ae68"]],"08000002",4],"error":null}"#)
            a.send(
                .client,
                #"{"id":-1e19,"method":"mining.authorize","params":["bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh.w1","x"]}"#
            )
            a.send(.server, #"{"id":-1e19,"result":true,"error":null}"#)
            a.send(.server, #"{"id":null,"method":"mining.set_difficulty","params":[1e300]}"#)
            a.send(.server, Messages.v1Notify(1))
            a.send(
                .client,
                #"{"params":["bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh.w1","1","00000001","5f5e1001","00000001"],"id":"NaN","method":"mining.submit"}"#
            )
            a.send(.server, #"{"id":"NaN","result":true,"error":null}"#)
            a.send(.server, #"{"id":null,"method":"mining.set_difficulty","params":["Infinity"]}"#)
            a.send(
                .server,
                #"{"id":null,"method":"mining.set_target","params":["0000000000000000000000000000000000000000000000000000000000000001"]}"#
            )
            a.send(.client, #"{"params":["w1","1","00000001","5f5e1001","00000002"],"id":7,"method":"mining.submit"}"#)
            a.send(.server, #"{"id":7,"result":true,"error":null}"#)
            a.send(.server, #"{"id":null,"method":"client.reconnect","params":["evil.example",-1e19,1e300]}"#)
            a.send(.server, #"{"id":null,"method":"client.reconnect","params":["evil.example","NaN"]}"#)
            a.send(.server, #"{"id":null,"method":"client.reconnect","params":["evil.example",70000.5]}"#)
        }
        // eth-proxy: a hashrate of 2^256 and a work boundary of 1.
        frames += Conversation.recorded(
            client: "10.1.1.11", clientPort: 41001, server: "10.1.1.21", serverPort: 8008, start: t0.adding(seconds: 1)
        ) { e in
            e.send(
                .client,
                #"{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5"]}"#
            )
            e.send(.server, #"{"id":1,"jsonrpc":"2.0","result":true}"#)
            e.send(
                .client,
                #"{"id":2,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x\#(String(repeating: "f", count: 128))","0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c"]}"#
            )
            e.send(
                .server,
                #"{"id":0,"jsonrpc":"2.0","result":["0x1234","0x5678","0x0000000000000000000000000000000000000000000000000000000000000001"]}"#
            )
            e.send(
                .client,
                #"{"id":3,"jsonrpc":"2.0","method":"eth_submitWork","params":["0x0000000000000001","0x1234","0x5678"]}"#
            )
            e.send(.server, #"{"id":3,"jsonrpc":"2.0","result":true}"#)
        }
        // CryptoNote: target 00000001 (difficulty 4e9 per share) and a height of 1e300.
        frames += Conversation.recorded(
            client: "10.1.1.12", clientPort: 41002, server: "10.1.1.22", serverPort: 3333, start: t0.adding(seconds: 2)
        ) { n in
            n.send(.client, Messages.xmrigLogin())
            n.send(
                .server,
                Messages.cnLoginResult().replacing("dc460300", with: "01000000").replacing("3001001", with: "1e300"))
            for i in 0..<3 {
                n.send(.client, Messages.cnSubmit(id: 2 + i, job: 1, nonce: i))
                n.send(.server, Messages.cnOK(id: 2 + i))
            }
        }
        return frames
    }

    // MARK: - Time

    static func xmrigSession(at start: Timestamp, client: String = "10.2.0.10", port: UInt16 = 42000) -> Frames {
        var c = Conversation(client: client, clientPort: port, server: "10.2.0.20", serverPort: 3333, start: start)
        c.handshake()
        c.send(.client, Messages.xmrigLogin())
        c.send(.server, Messages.cnLoginResult())
        for i in 0..<4 {
            c.send(.server, Messages.cnJobPush(2 + i), after: 30)
            c.send(.client, Messages.cnSubmit(id: 2 + i, job: 2 + i, nonce: i))
            c.send(.server, Messages.cnOK(id: 2 + i))
        }
        c.close()
        return c.frames
    }

    /// A classic pcap with the records in the given order (`pcap()` sorts by time).
    static func inFileOrder(_ frames: Frames) -> [UInt8] {
        var w = PcapWriter()
        for f in frames { w.add(time: f.time, frame: f.frame) }
        return w.bytes
    }

    static func timeBackwards() -> [(time: Timestamp, frame: [UInt8])] {
        var frames = xmrigSession(at: t0)
        // Written in this order (not sorted): the middle third an hour earlier, one packet at the epoch.
        let third = frames.count / 3
        for i in third..<(2 * third) { frames[i].time = frames[i].time.adding(seconds: -3600) }
        frames[2 * third].time = Timestamp(nanoseconds: 0)
        return frames
    }

    /// pcapng: per interface an `if_tsresol` and an `if_tsoffset`, so each packet's time is
    /// offset + stamp × resolution, anywhere in (and beyond) Int64 nanoseconds.
    static func timeExtremesPcapng() -> [UInt8] {
        var out = PcapNG.sectionHeader()
        // (offset seconds, resolution exponent of 10)
        let interfaces: [(Int64, UInt8)] = [
            (-9_100_000_000 - 1_764_000_000, 9),  // 1681: before Int64 nanoseconds start (1677)?  no: 1681 fits
            (8_900_000_000 - 1_764_000_000, 9),  // 2252
            (Int64.max / 2, 6), (Int64.min / 2, 6), (0, 0x80 | 63)
        ]
        for (offset, resol) in interfaces { out += PcapNG.interface(tsresol: resol, tsoffset: offset) }
        let session = xmrigSession(at: t0, client: "10.2.1.10", port: 42100)
        for (i, f) in session.enumerated() {
            let iface = UInt32(i % interfaces.count)
            let stamp = UInt64(f.time.nanoseconds)
            out += PcapNG.packet(interface: iface, stamp: i % 7 == 0 ? UInt64.max : stamp, frame: f.frame)
        }
        // A whole second session on the 1681 interface, and one on the 2252 one: a store spanning 570 years.
        for f in xmrigSession(at: t0, client: "10.2.1.11", port: 42101) {
            out += PcapNG.packet(interface: 0, stamp: UInt64(f.time.nanoseconds), frame: f.frame)
        }
        for f in xmrigSession(at: t0, client: "10.2.1.11", port: 42102) {
            out += PcapNG.packet(interface: 1, stamp: UInt64(f.time.nanoseconds), frame: f.frame)
        }
        return out
    }

    // MARK: - Fragments

    /// Zero-length and overlapping fragments (the quadratic and memory-accounting cases), then a
    /// real fragmented miner that must still be seen.
    public static func fragments(count: Int) -> [UInt8] {
        var w = PcapWriter()
        let src: UInt32 = 0x0A03_000A
        let dst: UInt32 = 0x0A03_0014
        var t = t0
        for i in 0..<count {
            t = t.adding(seconds: 0.00001)
            let id = UInt16(truncatingIfNeeded: i / 1000)
            let ip: [UInt8]
            if i % 2 == 0 {
                // zero-length fragment at a growing offset of one datagram
                ip = FrameBuilder.ipv4(
                    src: src, dst: dst, proto: 6, payload: [], id: id, fragmentOffset: (i % 8000) * 8,
                    moreFragments: true)
            } else {
                // overlapping 8-byte fragments at offsets 0, 8, 0, 8 ... of another
                ip = FrameBuilder.ipv4(
                    src: src, dst: dst, proto: 17, payload: [UInt8](repeating: UInt8(i & 0xFF), count: 8),
                    id: id &+ 30000,
                    fragmentOffset: (i % 16) * 8, moreFragments: true)
            }
            w.add(time: t, frame: FrameBuilder.ethernet(etherType: 0x0800, payload: ip))
        }
        var c = Conversation(
            client: "10.3.0.30", clientPort: 43000, server: "10.3.0.40", serverPort: 3333, start: t.adding(seconds: 1))
        c.handshake()
        c.send(.client, Messages.xmrigLogin(), plan: SegmentPlan(ipFragmentSize: 64))
        c.send(.server, Messages.cnLoginResult(), plan: SegmentPlan(ipFragmentSize: 64))
        c.send(.client, Messages.cnSubmit(id: 2, job: 1, nonce: 1), plan: SegmentPlan(ipFragmentSize: 64))
        c.send(.server, Messages.cnOK(id: 2), plan: SegmentPlan(ipFragmentSize: 64))
        c.close()
        for f in c.frames { w.add(time: f.time, frame: f.frame) }
        return w.bytes
    }

    // MARK: - Stratum V2

    /// One Stratum V2 session opening `count` channels, in time order.
    static func sv2Channels(count: Int) -> Frames {
        var c = Conversation(client: "10.4.0.10", clientPort: 44000, server: "10.4.0.20", serverPort: 3336, start: t0)
        c.handshake()
        c.sv2Setup(vendor: "Bitmain", hardware: "S19", firmware: "braiins-os", device: "rig-1")
        var batch: [UInt8] = []
        for i in 0..<count {
            batch += Wire.sv2OpenStandardChannel(user: "wallet\(i).worker\(i)")
            if batch.count > 60_000 {
                c.send(.client, batch, after: 0.001)
                batch = []
            }
        }
        if !batch.isEmpty { c.send(.client, batch) }
        c.send(.server, Wire.sv2NewMiningJob(1))
        c.send(.client, Wire.sv2SubmitShares(seq: 1, job: 1))
        c.send(.server, Wire.sv2SubmitSuccess(seq: 1))
        c.close()
        return c.frames
    }

    // MARK: - Lines and nesting

    static func nestingAndLines() -> Frames {
        var frames: Frames = []
        frames += Conversation.recorded(
            client: "10.5.0.10", clientPort: 45000, server: "10.5.0.20", serverPort: 3333, start: t0
        ) { c in
            c.send(.client, String(repeating: "[", count: 60_000))
            c.send(
                .client,
                "{\"a\":" + String(repeating: "{\"a\":", count: 20_000) + "1" + String(repeating: "}", count: 20_001))
            c.send(.client, "{" + String(repeating: "\"k\":[", count: 10_000))
            c.send(.client, Messages.xmrigLogin())
            c.send(.server, Messages.cnLoginResult())
            c.send(.client, "{\"id\":2," + String(repeating: "x", count: 1_000_000), line: false)
            c.send(
                .client, "\n" + String(repeating: "\n", count: 100_000) + String(repeating: "\0", count: 1000),
                line: false)
            c.send(.client, Messages.cnSubmit(id: 3, job: 1, nonce: 1))
            c.send(.server, Messages.cnOK(id: 3))
        }
        return frames
    }

    // MARK: - DNS

    // MARK: - TLS

    // MARK: - WebSocket

}
