import Testing
import TrafficGen

@testable import PacketDecoding

private func decode(_ link: LinkType, _ frame: [UInt8]) -> DecodeOutcome {
    frame.withUnsafeBytes { PacketDecoder.decode(link: link, frame: $0) }
}

private let src = IPAddress("10.0.0.1")!
private let dst = IPAddress("10.0.0.2")!
private let tcpSeg = FrameBuilder.tcp(
    src: src, dst: dst, srcPort: 1234, dstPort: 3333, seq: 42, ack: 7, flags: [.psh, .ack], payload: Array("hello".utf8)
)
private let ipPacket = FrameBuilder.ipv4(src: 0x0A00_0001, dst: 0x0A00_0002, proto: 6, payload: tcpSeg)

@Suite struct PacketDecodingTests {
    @Test func ethernetIPv4TCP() throws {
        let frame = FrameBuilder.frame(src: src, dst: dst, proto: 6, transport: tcpSeg)
        guard case .packet(let p) = decode(.ethernet, frame) else {
            Issue.record("not decoded")
            return
        }
        #expect(p.src == src && p.dst == dst && p.srcPort == 1234 && p.dstPort == 3333)
        guard case .tcp(let h) = p.transport else {
            Issue.record("not tcp")
            return
        }
        #expect(h.seq == 42 && h.ack == 7 && h.flags == [.psh, .ack])
        #expect(Array(frame[p.payload]) == Array("hello".utf8))
    }

    @Test func vlanStack() {
        let frame = FrameBuilder.frame(src: src, dst: dst, proto: 6, transport: tcpSeg, vlans: [100, 20])
        guard case .packet(let p) = decode(.ethernet, frame) else {
            Issue.record("not decoded")
            return
        }
        #expect(p.vlanID == 20)
    }

    @Test func pppoeSessionInsideVLAN() {
        guard case .v4(let s4) = src, case .v4(let d4) = dst else { return }
        let ip = FrameBuilder.ipv4(src: s4, dst: d4, proto: 6, payload: tcpSeg)
        // PPPoE: ver/type 0x11, code 0, session 0x1234, length, then PPP protocol 0x0021 (IPv4).
        let pppoe: [UInt8] = [0x11, 0x00, 0x12, 0x34] + FrameBuilder.be16(UInt16(ip.count + 2)) + [0x00, 0x21] + ip
        let frame = FrameBuilder.ethernet(vlans: [421], etherType: 0x8864, payload: pppoe)
        guard case .packet(let p) = decode(.ethernet, frame) else {
            Issue.record("not decoded")
            return
        }
        #expect(p.src == src && p.dstPort == 3333 && p.vlanID == 421)
        // PPP control traffic (LCP, 0xC021) is not IP: counted, not decoded.
        let lcp = FrameBuilder.ethernet(etherType: 0x8864, payload: [0x11, 0, 0x12, 0x34, 0, 6, 0xC0, 0x21, 1, 1, 0, 4])
        guard case .notIP = decode(.ethernet, lcp) else {
            Issue.record("LCP should be notIP")
            return
        }
        // Truncated PPPoE header.
        guard case .malformed = decode(.ethernet, FrameBuilder.ethernet(etherType: 0x8864, payload: [0x11, 0])) else {
            Issue.record("expected malformed")
            return
        }
    }

    @Test func tooManyVLANTagsIsMalformed() {
        let frame = FrameBuilder.frame(src: src, dst: dst, proto: 6, transport: tcpSeg, vlans: [1, 2, 3, 4, 5])
        guard case .malformed(.tooManyVLANTags) = decode(.ethernet, frame) else {
            Issue.record("expected anomaly")
            return
        }
    }

    @Test func ipv6WithExtensionHeader() {
        let s6 = IPAddress("2001:db8::1")!
        let d6 = IPAddress("2001:db8::2")!
        let seg = FrameBuilder.tcp(src: s6, dst: d6, srcPort: 5, dstPort: 6, seq: 1, ack: 0, flags: [.syn], payload: [])
        guard case .v6(let sh, let sl) = s6, case .v6(let dh, let dl) = d6 else { return }
        let ip = FrameBuilder.ipv6(src: (sh, sl), dst: (dh, dl), nextHeader: 6, payload: seg, hopByHop: true)
        guard case .packet(let p) = decode(.raw, ip) else {
            Issue.record("not decoded")
            return
        }
        #expect(p.src == s6 && p.dstPort == 6)
        guard case .tcp(let h) = p.transport else { return }
        #expect(h.mss == 1460 && h.windowScale == 7)
    }

    @Test(arguments: [
        (LinkType.linuxSLL, [0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00] as [UInt8]),
        (LinkType.linuxSLL2, [0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0] as [UInt8]),
        (LinkType.null, [2, 0, 0, 0] as [UInt8]),
        (LinkType.loop, [0, 0, 0, 2] as [UInt8]),
        (LinkType.raw, [] as [UInt8]),
        (LinkType.rawDLT12, [] as [UInt8]),
        (LinkType.ipv4, [] as [UInt8])
    ])
    func linkTypes(link: LinkType, header: [UInt8]) {
        guard case .packet(let p) = decode(link, header + ipPacket) else {
            Issue.record("\(link) not decoded")
            return
        }
        #expect(p.dstPort == 3333)
    }

    /// Every prefix of a valid frame decodes to something: never a trap.
    @Test func everyTruncationIsSafe() {
        let frame = FrameBuilder.frame(src: src, dst: dst, proto: 6, transport: tcpSeg, vlans: [7])
        for n in 0...frame.count {
            for link in [LinkType.ethernet, .linuxSLL, .linuxSLL2, .null, .raw] {
                _ = decode(link, Array(frame.prefix(n)))
            }
        }
        guard case .malformed = decode(.ethernet, Array(frame.prefix(30))) else {
            Issue.record("short frame accepted")
            return
        }
    }

    @Test func randomBytesNeverTrap() {
        var g = SplitMix(seed: 85)  // seeded: a failure repeats
        for _ in 0..<5000 {
            let n = Int.random(in: 0..<120, using: &g)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            if n > 14 {
                bytes[12] = 0x08
                bytes[13] = 0
                if n > 14 { bytes[14] = 0x45 }
            }
            _ = decode(.ethernet, bytes)
        }
    }

    @Test func lyingIPv4LengthsAreCaught() {
        var bad = ipPacket
        bad[0] = 0x43  // IHL 3 words < 20 bytes
        guard case .malformed(.badIPv4HeaderLength) = decode(.raw, bad) else {
            Issue.record("IHL accepted")
            return
        }
        var tcpBad = ipPacket
        tcpBad[20 + 12] = 0xF0  // TCP data offset 60 bytes, beyond the packet
        guard case .malformed = decode(.raw, tcpBad) else {
            Issue.record("TCP offset accepted")
            return
        }
    }

    @Test func fragmentsReassembleOutOfOrderWithinCaps() {
        let payload = Array(0..<200).map { UInt8($0) }
        let key = FragmentKey(src: src, dst: dst, id: 9, ipProtocol: .tcp, vlanID: 0)
        var r = FragmentReassembler()
        let pieces = [
            (80, false, Array(payload[80...])), (0, true, Array(payload[0..<40])), (40, true, Array(payload[40..<80]))
        ]
        var result: [UInt8]?
        for (off, more, bytes) in pieces {
            let f = IPFragment(key: key, offset: off, moreFragments: more, payload: 0..<bytes.count)
            result = bytes.withUnsafeBytes { r.add(f, in: $0, now: .zero) }
        }
        #expect(result == payload)
        #expect(r.pendingCount == 0)
    }

    @Test func fragmentFloodHitsTheCap() {
        var limits = FragmentReassembler.Limits()
        limits.maxBufferedBytes = 1000
        var r = FragmentReassembler(limits: limits)
        let chunk = [UInt8](repeating: 1, count: 96)
        for id in 0..<100 {
            let f = IPFragment(
                key: FragmentKey(src: src, dst: dst, id: UInt32(id), ipProtocol: .udp, vlanID: 0),
                offset: 0, moreFragments: true, payload: 0..<96)
            _ = chunk.withUnsafeBytes { r.add(f, in: $0, now: .zero) }
        }
        #expect(r.anomalies[.fragmentMemoryCap] > 0)
        #expect(r.pendingCount <= 11)
        r.expire(now: Timestamp(seconds: 60))
        #expect(r.pendingCount == 0)
        #expect(r.anomalies[.fragmentTimeout] > 0)
    }

    /// Zero-length fragments carry nothing and cost nothing: refused, never queued.
    @Test func zeroLengthFragmentsAreRefused() {
        var r = FragmentReassembler()
        let empty: [UInt8] = []
        for i in 0..<30_000 {
            let f = IPFragment(
                key: FragmentKey(src: src, dst: dst, id: 1, ipProtocol: .udp, vlanID: 0), offset: (i % 8000) * 8,
                moreFragments: true, payload: 0..<0)
            _ = empty.withUnsafeBytes { r.add(f, in: $0, now: .zero) }
        }
        #expect(r.anomalies[.badFragment] == 30_000)
        #expect(r.pendingCount == 0 && r.bufferedBytes == 0)
    }

    /// Overlapping 8-byte fragments are charged real memory (buffer, ranges, bookkeeping), the first
    /// copy of a byte wins, and a datagram cannot take more than its fragment budget.
    @Test func overlappingFragmentsAreChargedAndBounded() {
        var limits = FragmentReassembler.Limits()
        limits.maxBufferedBytes = 64 * 1024
        var r = FragmentReassembler(limits: limits)
        for i in 0..<100_000 {
            let bytes = [UInt8](repeating: UInt8(i & 0xFF), count: 8)
            let f = IPFragment(
                key: FragmentKey(src: src, dst: dst, id: UInt32(i / 1000), ipProtocol: .udp, vlanID: 0),
                offset: (i % 4) * 8,
                moreFragments: true, payload: 0..<8)
            _ = bytes.withUnsafeBytes { r.add(f, in: $0, now: .zero) }
            #expect(r.bufferedBytes <= limits.maxBufferedBytes)
        }
        #expect(r.anomalies[.fragmentOverlap] > 0)
        #expect(r.anomalies[.fragmentMemoryCap] > 0, "more than maxFragmentsPerDatagram pieces drop the datagram")
        #expect(r.bufferedBytes >= r.pendingCount * FragmentReassembler.datagramOverhead)
    }

    @Test func firstCopyWinsAcrossOverlaps() {
        var r = FragmentReassembler()
        let key = FragmentKey(src: src, dst: dst, id: 3, ipProtocol: .udp, vlanID: 0)
        let a = [UInt8](repeating: 0xAA, count: 16)
        let b = [UInt8](repeating: 0xBB, count: 16)
        let c = [UInt8](repeating: 0xCC, count: 8)
        _ = a.withUnsafeBytes {
            r.add(IPFragment(key: key, offset: 8, moreFragments: true, payload: 0..<16), in: $0, now: .zero)
        }
        _ = b.withUnsafeBytes {
            r.add(IPFragment(key: key, offset: 0, moreFragments: true, payload: 0..<16), in: $0, now: .zero)
        }
        let whole = c.withUnsafeBytes {
            r.add(IPFragment(key: key, offset: 24, moreFragments: false, payload: 0..<8), in: $0, now: .zero)
        }
        #expect(whole == [UInt8](repeating: 0xBB, count: 8) + [UInt8](repeating: 0xAA, count: 16) + c)
        #expect(r.bufferedBytes == 0)
    }

    @Test func timestampArithmeticSaturates() {
        #expect(Timestamp(seconds: .max).nanoseconds == .max)
        #expect(Timestamp(seconds: .min).nanoseconds == .min)
        #expect(Timestamp(nanoseconds: .max).adding(seconds: 1e300).nanoseconds == .max)
        #expect(Timestamp(nanoseconds: .min).adding(seconds: -.infinity).nanoseconds == .min)
        #expect(Timestamp(nanoseconds: 5).adding(seconds: .nan).nanoseconds == 5)
        #expect(Timestamp(nanoseconds: .max).since(Timestamp(nanoseconds: .min)) > 1.8e10)
        #expect(Timestamp(nanoseconds: .min).since(Timestamp(nanoseconds: .max)) < -1.8e10)
    }

    @Test(arguments: ["10.1.2.3", "::1", "2001:db8::ff00:42:8329", "fe80::1:0:0:1", "::"])
    func addressRoundTrip(text: String) {
        #expect(IPAddress(text)?.description == text)
    }

    @Test(arguments: ["10.1.2", "1.2.3.256", "2001:db8:::1", "x"])
    func badAddresses(text: String) { #expect(IPAddress(text) == nil) }
}
