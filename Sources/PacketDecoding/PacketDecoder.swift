/// Decodes link, IP and transport headers from borrowed frame bytes.
///
/// Every length field is checked against the captured bytes before use;
/// truncation and inconsistency become an `Anomaly`, never a trap.
public enum PacketDecoder {
    /// Most IPv6 extension headers walked before the chain is called malformed.
    public static let maxIPv6ExtensionHeaders = 8

    /// Decodes one frame captured with link type `link`.
    /// - Complexity: O(header count); allocates nothing.
    public static func decode(link: LinkType, frame: UnsafeRawBufferPointer) -> DecodeOutcome {
        let view = ByteView(frame)
        switch LinkLayer.decode(link, view) {
        case .failure(let a): return .malformed(a)
        case .success(let start):
            switch start.etherType {
            case .ipv4: return decodeIPv4(view, at: start.offset, vlanID: start.vlanID)
            case .ipv6: return decodeIPv6(view, at: start.offset, vlanID: start.vlanID)
            default: return .notIP
            }
        }
    }

    // RFC 791 header:
    //  0 ver(4) ihl(4) | 1 tos | 2 total length(16)
    //  4 identification(16) | 6 flags(3) fragment offset(13)
    //  8 ttl | 9 protocol | 10 checksum(16) | 12 src(32) | 16 dst(32) | 20 options
    static func decodeIPv4(_ v: ByteView, at o: Int, vlanID: UInt16) -> DecodeOutcome {
        guard let vihl = v.u8(o), let total = v.u16(o + 2), let fragField = v.u16(o + 6),
            let proto = v.u8(o + 9), let src = v.u32(o + 12), let dst = v.u32(o + 16)
        else { return .malformed(.truncatedIPv4Header) }
        guard vihl >> 4 == 4 else { return .malformed(.badIPVersion) }
        let ihl = Int(vihl & 0x0F) * 4
        guard ihl >= 20 else { return .malformed(.badIPv4HeaderLength) }
        guard o + ihl <= v.count else { return .malformed(.truncatedIPv4Header) }
        // Total length 0 happens with TCP segmentation offload on the capturing host:
        // trust the captured length then. Otherwise it must cover the header.
        var end: Int
        var truncated = false
        if total == 0 {
            end = v.count
        } else {
            guard Int(total) >= ihl else { return .malformed(.badIPv4TotalLength) }
            end = o + Int(total)
            if end > v.count {
                end = v.count
                truncated = true
            }  // snaplen cut it; Ethernet padding is trimmed
        }
        let more = fragField & 0x2000 != 0
        let fragOffset = Int(fragField & 0x1FFF) * 8
        let ipProto = IPProtocol(rawValue: proto)
        let s = IPAddress.v4(src)
        let d = IPAddress.v4(dst)
        if more || fragOffset != 0 {
            guard !truncated else { return .malformed(.truncatedPayload) }
            guard let id = v.u16(o + 4) else { return .malformed(.truncatedIPv4Header) }
            let key = FragmentKey(src: s, dst: d, id: UInt32(id), ipProtocol: ipProto, vlanID: vlanID)
            return .fragment(IPFragment(key: key, offset: fragOffset, moreFragments: more, payload: (o + ihl)..<end))
        }
        return decodeTransport(
            v, range: (o + ihl)..<end, proto: ipProto, src: s, dst: d, vlanID: vlanID, truncated: truncated)
    }

    // RFC 8200 header:
    //  0 ver(4) class(8) flow(20) | 4 payload length(16) | 6 next header | 7 hop limit
    //  8 src(128) | 24 dst(128) | 40 extension headers / payload
    static func decodeIPv6(_ v: ByteView, at o: Int, vlanID: UInt16) -> DecodeOutcome {
        guard let first = v.u8(o), let plen = v.u16(o + 4), let nh = v.u8(o + 6),
            let sh = v.u64(o + 8), let sl = v.u64(o + 16), let dh = v.u64(o + 24), let dl = v.u64(o + 32)
        else { return .malformed(.truncatedIPv6Header) }
        guard first >> 4 == 6 else { return .malformed(.badIPVersion) }
        var end = o + 40 + Int(plen)
        var truncated = false
        if plen == 0 { end = v.count }  // jumbogram or TSO: use what was captured
        if end > v.count {
            end = v.count
            truncated = true
        }
        let s = IPAddress.v6(sh, sl)
        let d = IPAddress.v6(dh, dl)
        var next = IPProtocol(rawValue: nh)
        var off = o + 40
        var fragment: (offset: Int, more: Bool, id: UInt32)?
        // Walk the extension header chain, each bounded by `end`.
        for _ in 0...maxIPv6ExtensionHeaders {
            switch next {
            case .hopByHop, .routing, .destinationOptions, .mobility:
                // next header(8) hdr ext len(8, in 8-octet units, not counting the first 8)
                guard let n = v.u8(off), let len = v.u8(off + 1), off + (Int(len) + 1) * 8 <= end
                else { return .malformed(.badIPv6ExtensionChain) }
                next = IPProtocol(rawValue: n)
                off += (Int(len) + 1) * 8
            case .ah:
                // next header(8) payload len(8, in 4-octet units minus 2)
                guard let n = v.u8(off), let len = v.u8(off + 1), off + (Int(len) + 2) * 4 <= end
                else { return .malformed(.badIPv6ExtensionChain) }
                next = IPProtocol(rawValue: n)
                off += (Int(len) + 2) * 4
            case .fragment:
                // next header(8) reserved(8) offset(13) res(2) M(1) identification(32)
                guard let n = v.u8(off), let field = v.u16(off + 2), let id = v.u32(off + 4), off + 8 <= end
                else { return .malformed(.badIPv6ExtensionChain) }
                guard fragment == nil else { return .malformed(.badIPv6ExtensionChain) }
                next = IPProtocol(rawValue: n)
                off += 8
                let fo = Int(field >> 3) * 8
                let more = field & 1 != 0
                // An "atomic" fragment (offset 0, M=0) is a whole datagram.
                if fo != 0 || more { fragment = (fo, more, id) }
            default:
                if let f = fragment {
                    guard !truncated else { return .malformed(.truncatedPayload) }
                    let key = FragmentKey(src: s, dst: d, id: f.id, ipProtocol: next, vlanID: vlanID)
                    return .fragment(IPFragment(key: key, offset: f.offset, moreFragments: f.more, payload: off..<end))
                }
                return decodeTransport(
                    v, range: off..<end, proto: next, src: s, dst: d, vlanID: vlanID, truncated: truncated)
            }
        }
        return .malformed(.badIPv6ExtensionChain)
    }

    /// Decodes the TCP or UDP header at the start of `range` (an IP payload).
    public static func decodeTransport(
        _ v: ByteView, range: Range<Int>, proto: IPProtocol, src: IPAddress,
        dst: IPAddress, vlanID: UInt16, truncated: Bool
    ) -> DecodeOutcome {
        let o = range.lowerBound
        let end = range.upperBound
        switch proto {
        case .tcp:
            // src port(16) dst port(16) seq(32) ack(32) data offset(4) res(4) flags(8) window(16) csum urg options
            guard o + 20 <= end, let sp = v.u16(o), let dp = v.u16(o + 2), let seq = v.u32(o + 4),
                let ack = v.u32(o + 8), let doff = v.u8(o + 12), let flags = v.u8(o + 13), let win = v.u16(o + 14)
            else { return .malformed(.truncatedTCPHeader) }
            let hlen = Int(doff >> 4) * 4
            guard hlen >= 20 else { return .malformed(.badTCPDataOffset) }
            guard o + hlen <= end else { return .malformed(truncated ? .truncatedTCPHeader : .badTCPDataOffset) }
            var header = TCPHeader(
                srcPort: sp, dstPort: dp, seq: seq, ack: ack, flags: TCPFlags(rawValue: flags),
                window: win, windowScale: nil, mss: nil)
            if header.flags.contains(.syn) && hlen > 20 { parseOptions(v, (o + 20)..<(o + hlen), into: &header) }
            return .packet(
                DecodedPacket(
                    vlanID: vlanID, src: src, dst: dst, ipProtocol: proto, transport: .tcp(header),
                    payload: (o + hlen)..<end, truncated: truncated))
        case .udp:
            // src port(16) dst port(16) length(16) checksum(16)
            guard o + 8 <= end, let sp = v.u16(o), let dp = v.u16(o + 2), let len = v.u16(o + 4)
            else { return .malformed(.truncatedUDPHeader) }
            var pend = end
            if len != 0 {  // 0 is legal for IPv6 jumbograms
                guard len >= 8 else { return .malformed(.badUDPLength) }
                if o + Int(len) < end {
                    pend = o + Int(len)
                } else if o + Int(len) > end && !truncated {
                    return .malformed(.badUDPLength)
                }
            }
            return .packet(
                DecodedPacket(
                    vlanID: vlanID, src: src, dst: dst, ipProtocol: proto,
                    transport: .udp(srcPort: sp, dstPort: dp), payload: (o + 8)..<pend, truncated: truncated))
        default:
            return .packet(
                DecodedPacket(
                    vlanID: vlanID, src: src, dst: dst, ipProtocol: proto, transport: .other,
                    payload: o..<end, truncated: truncated))
        }
    }

    // RFC 9293 options: kind(8) [length(8) data]; 0 = end, 1 = no-op.
    private static func parseOptions(_ v: ByteView, _ r: Range<Int>, into h: inout TCPHeader) {
        var i = r.lowerBound
        while i < r.upperBound, let kind = v.u8(i) {
            if kind == 0 { return }
            if kind == 1 {
                i += 1
                continue
            }
            guard let len = v.u8(i + 1), len >= 2, i + Int(len) <= r.upperBound else { return }
            switch kind {
            case 2 where len == 4: h.mss = v.u16(i + 2)
            case 3 where len == 3: h.windowScale = v.u8(i + 2)
            default: break
            }
            i += Int(len)
        }
    }
}
