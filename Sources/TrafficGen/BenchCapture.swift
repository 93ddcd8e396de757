import PacketDecoding

/// Generates the large benchmark capture: tens of thousands of concurrent bulk
/// TCP flows (HTTP- and TLS-like), DNS over UDP, and a few hundred Stratum sessions mixed in.
public struct BenchCapture {
    public var targetBytes: Int
    public var concurrentFlows: Int
    public var stratumSessions: Int
    /// Packets per second of capture time: 50 000 for the dense capture; a few hundred for one that
    /// looks like a day at a small office (docs/benchmarks.md "Benchmark").
    public var packetsPerSecond: Double
    /// Quiet spells of 1–10 minutes now and then (every ~20 000 packets), as real captures have.
    public var idleGaps: Bool
    /// Short flows (6–20 packets, responses of 200–1 400 bytes) and a DNS exchange every 8 packets:
    /// the per-packet work of an office's traffic (many connections, many lookups) rather than bulk
    /// transfers.
    public var shortFlows = false

    public init(
        targetBytes: Int = 1_100_000_000, concurrentFlows: Int = 30_000, stratumSessions: Int = 300,
        packetsPerSecond: Double = 50_000, idleGaps: Bool = false
    ) {
        self.targetBytes = targetBytes
        self.concurrentFlows = concurrentFlows
        self.stratumSessions = stratumSessions
        self.packetsPerSecond = packetsPerSecond
        self.idleGaps = idleGaps
    }

    private struct BulkFlow {
        var client: UInt32, server: UInt32, cport: UInt16, sport: UInt16
        var cseq: UInt32, sseq: UInt32
        var step = 0
        var length: Int
        var tls: Bool
    }

    /// Writes the capture; returns (packets, bytes, stratum sessions).
    public func write(to path: String, progress: (Int) -> Void = { _ in }) throws(GeneratorError) -> (
        packets: Int, bytes: Int
    ) {
        let out = try PcapFileWriter(path: path)
        let t0 = Timestamp(seconds: 1_732_100_000)
        let gap = 1 / max(packetsPerSecond, 0.001)  // 20 µs between packets for the dense capture
        var rng = SplitMix(seed: 42)
        let http =
            Array("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10485760\r\n\r\n".utf8)
            + (0..<1360).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let tlsRecord: [UInt8] =
            [0x17, 0x03, 0x03, 0x05, 0x48] + (0..<1443).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 3) }
        // Short flows answer with smaller records (the lengths still say what follows).
        let smallTLS: [UInt8] =
            [0x17, 0x03, 0x03, 0x01, 0x2B] + (0..<299).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 3) }
        let smallHTTP =
            Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 240\r\n\r\n".utf8)
            + (0..<240).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let dnsEvery = shortFlows ? 8 : 50
        let getRequest = Array(
            "GET /download/file.bin HTTP/1.1\r\nHost: cdn.example.net\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
                .utf8)
        let clientHello: [UInt8] =
            [0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFC, 0x03, 0x03]
            + (0..<250).map { UInt8(truncatingIfNeeded: $0 &* 17) }

        // Stratum sessions, pre-generated and merged by time.
        var stratum: [(time: Timestamp, frame: [UInt8])] = []
        let duration = Double(targetBytes / 1200) * gap
        for s in 0..<stratumSessions {
            let start = t0.adding(seconds: duration * Double(s) / Double(max(1, stratumSessions)) * 0.5)
            var c = Conversation(
                client: "10.50.\(s / 250).\(s % 250 + 1)", clientPort: UInt16(20000 + s),
                server: "198.51.100.\(s % 200 + 1)", serverPort: [3333, 4444, 443, 14444][s % 4], start: start)
            c.handshake()
            c.send(.client, Messages.xmrigLogin(id: 1, rig: "bench\(s)"))
            c.send(.server, Messages.cnLoginResult())
            let interval = duration / 12
            for i in 0..<5 {
                c.send(.client, Messages.cnSubmit(id: 2 + i, job: 1, nonce: i), after: interval)
                c.send(.server, Messages.cnOK(id: 2 + i))
            }
            stratum += c.frames
        }
        stratum.sort { $0.time < $1.time }
        var si = 0

        var flows: [BulkFlow?] = Array(repeating: nil, count: concurrentFlows)
        var nextFlowID: UInt32 = 0
        func newFlow() -> BulkFlow {
            nextFlowID &+= 1
            let id = nextFlowID
            return BulkFlow(
                client: 0x0A00_0000 | (id & 0xFFFF), server: 0xC633_0000 | UInt32(rng.next() % 4096),
                cport: UInt16(1024 + id % 60000), sport: id % 2 == 0 ? 443 : 80,
                cseq: UInt32(truncatingIfNeeded: rng.next()), sseq: UInt32(truncatingIfNeeded: rng.next()),
                length: shortFlows ? 6 + Int(rng.next() % 15) : 12 + Int(rng.next() % 48), tls: id % 2 == 0)
        }
        var packets = 0
        var time = t0
        var slot = 0
        var dnsID: UInt16 = 0
        var gapRNG = SplitMix(seed: 7)
        var nextIdle = 20_000
        while out.bytesWritten < targetBytes {
            time = time.adding(seconds: gap)
            if idleGaps, packets >= nextIdle {
                time = time.adding(seconds: Double(60 + gapRNG.next() % 540))
                nextIdle = packets + 10_000 + Int(gapRNG.next() % 20_000)
            }
            while si < stratum.count, stratum[si].time <= time {
                out.add(time: stratum[si].time, frame: stratum[si].frame)
                si += 1
                packets += 1
            }
            if packets % dnsEvery == 0 {
                dnsID &+= 1
                out.add(time: time, frame: dns(id: dnsID, response: false))
                out.add(time: time.adding(seconds: 0.000_005), frame: dns(id: dnsID, response: true))
                packets += 2
            }
            slot = (slot + 1) % concurrentFlows
            var f = flows[slot] ?? newFlow()
            let c = IPAddress.v4(f.client)
            let s = IPAddress.v4(f.server)
            var seg: [UInt8]
            var toServer = true
            switch f.step {
            case 0:
                seg = FrameBuilder.tcp(
                    src: c, dst: s, srcPort: f.cport, dstPort: f.sport, seq: f.cseq, ack: 0, flags: [.syn], payload: [])
                f.cseq &+= 1
            case 1:
                seg = FrameBuilder.tcp(
                    src: s, dst: c, srcPort: f.sport, dstPort: f.cport, seq: f.sseq, ack: f.cseq, flags: [.syn, .ack],
                    payload: [])
                f.sseq &+= 1
                toServer = false
            case 2:
                let req = f.tls ? clientHello : getRequest
                seg = FrameBuilder.tcp(
                    src: c, dst: s, srcPort: f.cport, dstPort: f.sport, seq: f.cseq, ack: f.sseq, flags: [.psh, .ack],
                    payload: req)
                f.cseq &+= UInt32(req.count)
            case f.length:
                seg = FrameBuilder.tcp(
                    src: c, dst: s, srcPort: f.cport, dstPort: f.sport, seq: f.cseq, ack: f.sseq, flags: [.fin, .ack],
                    payload: [])
            default:
                if f.step % 3 == 0 {
                    seg = FrameBuilder.tcp(
                        src: c, dst: s, srcPort: f.cport, dstPort: f.sport, seq: f.cseq, ack: f.sseq, flags: [.ack],
                        payload: [])
                } else {
                    let body = f.tls ? (shortFlows ? smallTLS : tlsRecord) : (shortFlows ? smallHTTP : http)
                    seg = FrameBuilder.tcp(
                        src: s, dst: c, srcPort: f.sport, dstPort: f.cport, seq: f.sseq, ack: f.cseq, flags: [.ack],
                        payload: body)
                    f.sseq &+= UInt32(body.count)
                    toServer = false
                }
            }
            let frame =
                toServer
                ? FrameBuilder.frame(src: c, dst: s, proto: 6, transport: seg)
                : FrameBuilder.frame(src: s, dst: c, proto: 6, transport: seg, forward: false)
            out.add(time: time, frame: frame)
            packets += 1
            f.step += 1
            flows[slot] = f.step > f.length ? nil : f
            if packets % 100_000 == 0 { progress(out.bytesWritten) }
        }
        while si < stratum.count {
            out.add(time: stratum[si].time, frame: stratum[si].frame)
            si += 1
            packets += 1
        }
        out.close()
        return (packets, out.bytesWritten)
    }

    private func dns(id: UInt16, response: Bool) -> [UInt8] {
        // Header: id, flags, qd=1, an=response?1:0; question cdn.example.net A IN; answer A 192.0.2.1.
        var m =
            FrameBuilder.be16(id) + (response ? [0x81, 0x80] : [0x01, 0x00]) + [0, 1, 0, response ? 1 : 0, 0, 0, 0, 0]
        m += [3] + Array("cdn".utf8) + [7] + Array("example".utf8) + [3] + Array("net".utf8) + [0, 0, 1, 0, 1]
        if response { m += [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 1] }
        let client = IPAddress.v4(0x0A00_0100 | UInt32(id % 200))
        let resolver = IPAddress.v4(0x0A00_0035)
        let udp =
            response
            ? FrameBuilder.udp(src: resolver, dst: client, srcPort: 53, dstPort: 30000 + id % 1000, payload: m)
            : FrameBuilder.udp(src: client, dst: resolver, srcPort: 30000 + id % 1000, dstPort: 53, payload: m)
        return response
            ? FrameBuilder.frame(src: resolver, dst: client, proto: 17, transport: udp, forward: false)
            : FrameBuilder.frame(src: client, dst: resolver, proto: 17, transport: udp)
    }
}

/// A small deterministic PRNG (SplitMix64) so generated captures and randomised tests repeat exactly.
public struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
