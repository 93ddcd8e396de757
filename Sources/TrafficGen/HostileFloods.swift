import PacketDecoding

/// Floods (`sniffgen flood`, scripts/flood) and spoofed-source captures: volume, not shape.
extension Hostile {
    // MARK: - Spoofed sources

    /// `count` pool-name DNS queries and `count` one-packet mining.subscribe flows, each from its own source.
    public static func spoofedHosts(count: Int) -> [UInt8] {
        var w = PcapWriter()
        writeSpoofedHosts(count: count) { w.add(time: $0, frame: $1) }
        return w.bytes
    }

    static func writeSpoofedHosts(count: Int, _ add: (Timestamp, [UInt8]) -> Void) {
        let query = Wire.dnsQuery(id: 7, name: "xmr.pool.minergate.com")
        let subscribe = Array((Messages.v1Subscribe() + "\n").utf8)
        for i in 0..<count {
            let t = t0.adding(seconds: Double(i) * 0.0001)
            let src = IPAddress.v4(0x6400_0000 &+ UInt32(truncatingIfNeeded: i))  // 100.0.0.0/8 upward
            let dns = IPAddress.v4(0x0A09_0001)
            let pool = IPAddress.v4(0x0A09_0002)
            add(
                t,
                FrameBuilder.frame(
                    src: src, dst: dns, proto: 17,
                    transport: FrameBuilder.udp(src: src, dst: dns, srcPort: 40000, dstPort: 53, payload: query)))
            add(
                t,
                FrameBuilder.frame(
                    src: src, dst: pool, proto: 6,
                    transport: FrameBuilder.tcp(
                        src: src, dst: pool, srcPort: 40001, dstPort: 3333, seq: 0, ack: 0,
                        flags: [.syn], payload: [])))
            add(
                t,
                FrameBuilder.frame(
                    src: src, dst: pool, proto: 6,
                    transport: FrameBuilder.tcp(
                        src: src, dst: pool, srcPort: 40001, dstPort: 3333, seq: 1, ack: 1,
                        flags: [.psh, .ack], payload: subscribe)))
        }
    }

    // MARK: - Floods for scripts/flood

    public enum FloodClass: String, CaseIterable, Sendable {
        case dnsSpoof = "dns-spoof"
        case subscribeSpoof = "subscribe-spoof"
        case syn
        case outOfOrder = "out-of-order"
        case hugeLines = "huge-lines"
        case zeroFragments = "zero-fragments"
        case overlapFragments = "overlap-fragments"
        case sv2Channels = "sv2-channels"
        case nesting
        case dnsLoops = "dns-loops"
        case tlsHellos = "tls-hellos"
    }

    /// Streams `count` units of one flood class into `writer` (a unit is one packet or one flow, see docs/hostile-input.md "Floods").
    public static func flood(_ kind: FloodClass, count: Int, into writer: PcapFileWriter) {
        let pool = IPAddress.v4(0x0A09_0002)
        func src(_ i: Int) -> IPAddress { .v4(0x6400_0000 &+ UInt32(truncatingIfNeeded: i)) }
        func t(_ i: Int) -> Timestamp { t0.adding(seconds: Double(i) * 0.00001) }
        func tcp(_ s: IPAddress, _ sp: UInt16, seq: UInt32, flags: FrameBuilder.TCPFlagBits, _ payload: [UInt8])
            -> [UInt8]
        {
            FrameBuilder.frame(
                src: s, dst: pool, proto: 6,
                transport: FrameBuilder.tcp(
                    src: s, dst: pool, srcPort: sp, dstPort: 3333, seq: seq, ack: 1, flags: flags, payload: payload))
        }
        /// One DNS datagram from the i-th spoofed source.
        func dnsFrom(_ i: Int, _ payload: [UInt8]) -> [UInt8] {
            let s = src(i)
            let dns = IPAddress.v4(0x0A09_0001)
            return FrameBuilder.frame(
                src: s, dst: dns, proto: 17,
                transport: FrameBuilder.udp(src: s, dst: dns, srcPort: 40000, dstPort: 53, payload: payload))
        }
        /// Flows of a SYN, an `opening` segment at sequence 1 if given, then `perFlow` data segments
        /// (`segment(k)`: sequence number and payload); `count` such segments in all, 200 flows per source.
        func flows(perFlow: Int, opening: [UInt8]? = nil, _ segment: (Int) -> (seq: UInt32, payload: [UInt8])) {
            var i = 0
            while i < count {
                let s = src(i / 200)
                let sp = UInt16(truncatingIfNeeded: 1024 + i % 200)
                writer.add(time: t(i), frame: tcp(s, sp, seq: 0, flags: [.syn], []))
                if let opening { writer.add(time: t(i), frame: tcp(s, sp, seq: 1, flags: [.ack], opening)) }
                for k in 0..<perFlow where i + k < count {
                    let (seq, payload) = segment(k)
                    writer.add(time: t(i + k), frame: tcp(s, sp, seq: seq, flags: [.ack], payload))
                }
                i += perFlow
            }
        }
        switch kind {
        case .dnsSpoof:
            let query = Wire.dnsQuery(id: 7, name: "xmr.pool.minergate.com")
            for i in 0..<count { writer.add(time: t(i), frame: dnsFrom(i, query)) }
        case .subscribeSpoof:
            let subscribe = Array((Messages.v1Subscribe() + "\n").utf8)
            // A SYN, then the subscribe: a connection seen from its start, so the line is decoded.
            for i in 0..<count {
                writer.add(time: t(i), frame: tcp(src(i), 40001, seq: 0, flags: [.syn], []))
                writer.add(time: t(i), frame: tcp(src(i), 40001, seq: 1, flags: [.psh, .ack], subscribe))
            }
        case .syn:
            for i in 0..<count {
                writer.add(
                    time: t(i),
                    frame: tcp(
                        src(i / 1000), UInt16(truncatingIfNeeded: 1024 + i % 60000), seq: UInt32(truncatingIfNeeded: i),
                        flags: [.syn], []))
            }
        case .outOfOrder:
            // Each flow: 1400-byte segments after a 1400-byte hole, until its out-of-order buffer is full.
            let chunk = [UInt8](repeating: 0x7B, count: 1400)
            flows(perFlow: 190) { k in (UInt32(1 + 1400 * (k + 1)), chunk) }
        case .hugeLines:
            // Each flow: a JSON line that never ends (its opening, then 1400-byte segments of it).
            let head = Array("{\"id\":1,\"method\":\"".utf8)
            let chunk = [UInt8](repeating: 0x61, count: 1400)
            flows(perFlow: 60, opening: head) { k in (UInt32(1 + head.count + 1400 * k), chunk) }
        case .zeroFragments, .overlapFragments:
            for i in 0..<count {
                let zero = kind == .zeroFragments
                let ip = FrameBuilder.ipv4(
                    src: 0x0A03_000A, dst: 0x0A03_0014, proto: 6, payload: zero ? [] : [UInt8](repeating: 1, count: 8),
                    id: UInt16(truncatingIfNeeded: i / 4000), fragmentOffset: zero ? (i % 8000) * 8 : (i % 2) * 8,
                    moreFragments: true)
                writer.add(time: t(i), frame: FrameBuilder.ethernet(etherType: 0x0800, payload: ip))
            }
        case .sv2Channels:
            for f in sv2Channels(count: count) { writer.add(time: f.time, frame: f.frame) }
        case .nesting:
            let bomb = Array(("{\"a\":" + String(repeating: "[", count: 1300)).utf8)
            for i in 0..<count {
                let s = src(i / 200)
                let sp = UInt16(truncatingIfNeeded: 1024 + i % 200)
                writer.add(time: t(i), frame: tcp(s, sp, seq: 0, flags: [.syn], []))
                writer.add(time: t(i), frame: tcp(s, sp, seq: 1, flags: [.ack], bomb + [0x0A]))
            }
        case .tlsHellos:
            // Each flow: a SYN and a ClientHello naming a pool, then silence — TLS state per flow, no buffers.
            let hello = Wire.clientHello(sni: "gulf.moneroocean.stream")
            for i in 0..<count {
                let s = src(i / 200)
                let sp = UInt16(truncatingIfNeeded: 1024 + i % 200)
                writer.add(time: t(i), frame: tcp(s, sp, seq: 0, flags: [.syn], []))
                writer.add(time: t(i), frame: tcp(s, sp, seq: 1, flags: [.psh, .ack], hello))
            }
        case .dnsLoops:
            let loop =
                Wire.be16(0x1234) + Wire.be16(0x0100) + Wire.be16(1) + Wire.be16(0) + [0, 0, 0, 0] + [
                    0xC0, 14, 0xC0, 12, 0, 1, 0, 1
                ]
            for i in 0..<count { writer.add(time: t(i), frame: dnsFrom(i, loop)) }
        }
    }
}
