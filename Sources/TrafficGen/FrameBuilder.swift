import PacketDecoding

/// Builds valid frames: Ethernet (with VLAN tags), IPv4/IPv6, TCP/UDP with correct checksums.
public enum FrameBuilder {
    public static let clientMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    public static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]

    public static func ethernet(
        vlans: [UInt16] = [], etherType: UInt16, payload: [UInt8],
        src: [UInt8] = clientMAC, dst: [UInt8] = serverMAC
    ) -> [UInt8] {
        var f = dst + src
        for (i, v) in vlans.enumerated() {
            // Outer tag 802.1ad when stacked, inner 802.1Q.
            let tpid: UInt16 = (vlans.count > 1 && i == 0) ? 0x88A8 : 0x8100
            f += be16(tpid) + be16(v & 0x0FFF)
        }
        return f + be16(etherType) + payload
    }

    /// An IPv4 header (no options) around `payload`.
    public static func ipv4(
        src: UInt32, dst: UInt32, proto: UInt8, payload: [UInt8], id: UInt16 = 0,
        fragmentOffset: Int = 0, moreFragments: Bool = false, ttl: UInt8 = 64
    ) -> [UInt8] {
        var h: [UInt8] = [0x45, 0] + be16(UInt16(20 + payload.count)) + be16(id)
        let frag = UInt16(fragmentOffset / 8) | (moreFragments ? 0x2000 : 0)
        h += be16(frag) + [ttl, proto, 0, 0] + be32(src) + be32(dst)
        let c = checksum(h)
        h[10] = UInt8(c >> 8)
        h[11] = UInt8(c & 0xff)
        return h + payload
    }

    /// An IPv6 header around `payload`; `fragment` adds a Fragment extension header.
    public static func ipv6(
        src: (UInt64, UInt64), dst: (UInt64, UInt64), nextHeader: UInt8, payload: [UInt8],
        fragment: (offset: Int, more: Bool, id: UInt32)? = nil, hopByHop: Bool = false
    ) -> [UInt8] {
        var ext: [UInt8] = []
        var first = nextHeader
        if let f = fragment {
            ext = [nextHeader, 0] + be16(UInt16(f.offset / 8) << 3 | (f.more ? 1 : 0)) + be32(f.id)
            first = 44
        }
        if hopByHop {
            // Hop-by-hop with a PadN option: 8 bytes.
            ext = [first, 0, 1, 4, 0, 0, 0, 0] + ext
            first = 0
        }
        let body = ext + payload
        return [0x60, 0, 0, 0] + be16(UInt16(body.count)) + [first, 64]
            + be64(src.0) + be64(src.1) + be64(dst.0) + be64(dst.1) + body
    }

    public struct TCPFlagBits: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let fin = TCPFlagBits(rawValue: 1), syn = TCPFlagBits(rawValue: 2), rst = TCPFlagBits(rawValue: 4)
        public static let psh = TCPFlagBits(rawValue: 8), ack = TCPFlagBits(rawValue: 16)
    }

    /// A TCP segment with a correct checksum over the pseudo-header.
    public static func tcp(
        src: IPAddress, dst: IPAddress, srcPort: UInt16, dstPort: UInt16, seq: UInt32, ack: UInt32,
        flags: TCPFlagBits, payload: [UInt8], window: UInt16 = 65535
    ) -> [UInt8] {
        var options: [UInt8] = []
        if flags.contains(.syn) { options = [2, 4, 0x05, 0xB4, 1, 3, 3, 7] }  // MSS 1460, NOP, window scale 7
        let hlen = 20 + options.count
        var h = be16(srcPort) + be16(dstPort) + be32(seq) + be32(ack)
        h += [UInt8(hlen / 4) << 4, flags.rawValue] + be16(window) + [0, 0, 0, 0] + options
        var seg = h + payload
        let c = checksum(pseudoHeader(src, dst, proto: 6, length: seg.count) + seg)
        seg[16] = UInt8(c >> 8)
        seg[17] = UInt8(c & 0xff)
        return seg
    }

    public static func udp(src: IPAddress, dst: IPAddress, srcPort: UInt16, dstPort: UInt16, payload: [UInt8])
        -> [UInt8]
    {
        var seg = be16(srcPort) + be16(dstPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        var c = checksum(pseudoHeader(src, dst, proto: 17, length: seg.count) + seg)
        if c == 0 { c = 0xFFFF }
        seg[6] = UInt8(c >> 8)
        seg[7] = UInt8(c & 0xff)
        return seg
    }

    /// Wraps a transport segment in IP and Ethernet for the given addresses.
    public static func frame(
        src: IPAddress, dst: IPAddress, proto: UInt8, transport: [UInt8], vlans: [UInt16] = [],
        ipID: UInt16 = 0, forward: Bool = true
    ) -> [UInt8] {
        let (smac, dmac) = forward ? (clientMAC, serverMAC) : (serverMAC, clientMAC)
        switch (src, dst) {
        case (.v4(let s), .v4(let d)):
            return ethernet(
                vlans: vlans, etherType: 0x0800,
                payload: ipv4(src: s, dst: d, proto: proto, payload: transport, id: ipID),
                src: smac, dst: dmac)
        case (.v6(let sh, let sl), .v6(let dh, let dl)):
            return ethernet(
                vlans: vlans, etherType: 0x86DD,
                payload: ipv6(src: (sh, sl), dst: (dh, dl), nextHeader: proto, payload: transport),
                src: smac, dst: dmac)
        default:
            preconditionFailure("mixed address families in one frame")
        }
    }

    static func pseudoHeader(_ src: IPAddress, _ dst: IPAddress, proto: UInt8, length: Int) -> [UInt8] {
        switch (src, dst) {
        case (.v4(let s), .v4(let d)):
            return be32(s) + be32(d) + [0, proto] + be16(UInt16(length))
        case (.v6(let sh, let sl), .v6(let dh, let dl)):
            return be64(sh) + be64(sl) + be64(dh) + be64(dl) + be32(UInt32(length)) + [0, 0, 0, proto]
        default:
            return []
        }
    }

    /// RFC 1071 Internet checksum.
    public static func checksum(_ data: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < data.count {
            sum &+= UInt32(data[i]) << 8 | UInt32(data[i + 1])
            i += 2
        }
        if i < data.count { sum &+= UInt32(data[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    public static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    public static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
    public static func be64(_ v: UInt64) -> [UInt8] { be32(UInt32(v >> 32)) + be32(UInt32(v & 0xFFFF_FFFF)) }
}
