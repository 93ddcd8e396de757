/// Where the network layer starts inside a frame, and what it is.
public struct NetworkLayerStart: Sendable {
    public var offset: Int
    public var etherType: EtherType
    /// Innermost 802.1Q/802.1ad VLAN ID (0 when untagged).
    public var vlanID: UInt16
}

/// Link-layer decoding for the link types we support.
public enum LinkLayer {
    /// Most VLAN tags we walk through before calling the frame malformed.
    public static let maxVLANTags = 4

    /// Finds the network-layer header in `frame`.
    /// Returns `.failure` with an anomaly for truncated or unsupported frames;
    /// an unknown EtherType comes back as-is so the caller can count it.
    /// - Complexity: O(number of VLAN tags)
    public static func decode(_ link: LinkType, _ frame: ByteView) -> Result<NetworkLayerStart, Anomaly> {
        switch link {
        case .ethernet:
            // dst(6) src(6) type(2)
            guard let type = frame.u16(12) else { return .failure(.truncatedLinkHeader) }
            return walkVLANs(frame, etherType: EtherType(rawValue: type), offset: 14)
        case .linuxSLL:
            // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
            guard let type = frame.u16(14) else { return .failure(.truncatedLinkHeader) }
            return walkVLANs(frame, etherType: EtherType(rawValue: type), offset: 16)
        case .linuxSLL2:
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
            guard let type = frame.u16(0), frame.count >= 20 else { return .failure(.truncatedLinkHeader) }
            return walkVLANs(frame, etherType: EtherType(rawValue: type), offset: 20)
        case .null, .loop:
            // 4-byte address family: host byte order for NULL, network order for LOOP.
            // Values differ per OS (AF_INET6 is 10, 24, 28 or 30), so accept either order.
            guard let be = frame.u32(0) else { return .failure(.truncatedLinkHeader) }
            let family = link == .loop ? be : (be > 0xFFFF ? be.byteSwapped : be)
            switch family {
            case 2: return .success(NetworkLayerStart(offset: 4, etherType: .ipv4, vlanID: 0))
            case 10, 24, 28, 30: return .success(NetworkLayerStart(offset: 4, etherType: .ipv6, vlanID: 0))
            default: return .success(NetworkLayerStart(offset: 4, etherType: EtherType(rawValue: 0), vlanID: 0))
            }
        case .raw, .rawDLT12, .rawDLT14:
            guard let first = frame.u8(0) else { return .failure(.truncatedLinkHeader) }
            let type: EtherType =
                switch first >> 4 {
                case 4: .ipv4
                case 6: .ipv6
                default: EtherType(rawValue: 0)
                }
            return .success(NetworkLayerStart(offset: 0, etherType: type, vlanID: 0))
        case .ipv4:
            return .success(NetworkLayerStart(offset: 0, etherType: .ipv4, vlanID: 0))
        case .ipv6:
            return .success(NetworkLayerStart(offset: 0, etherType: .ipv6, vlanID: 0))
        default:
            return .failure(.truncatedLinkHeader)
        }
    }

    private static func walkVLANs(_ frame: ByteView, etherType: EtherType, offset: Int) -> Result<
        NetworkLayerStart, Anomaly
    > {
        var type = etherType
        var off = offset
        var vlan: UInt16 = 0
        var tags = 0
        // 802.1Q tag: TCI(2) inner type(2)
        while type.isVLANTag {
            guard tags < maxVLANTags else { return .failure(.tooManyVLANTags) }
            guard let tci = frame.u16(off), let inner = frame.u16(off + 2) else {
                return .failure(.truncatedLinkHeader)
            }
            vlan = tci & 0x0FFF
            type = EtherType(rawValue: inner)
            off += 4
            tags += 1
        }
        // PPPoE session (RFC 2516): ver/type(1) code(1) session(2) length(2), then the PPP
        // protocol (2): 0x0021 IPv4, 0x0057 IPv6. Common on ISP access links.
        if type == .pppoeSession {
            guard let verType = frame.u8(off), let ppp = frame.u16(off + 6) else {
                return .failure(.truncatedLinkHeader)
            }
            guard verType == 0x11 else {
                return .success(NetworkLayerStart(offset: off, etherType: type, vlanID: vlan))
            }
            let inner: EtherType =
                switch ppp {
                case 0x0021: .ipv4
                case 0x0057: .ipv6
                default: type
                }
            return .success(NetworkLayerStart(offset: off + 8, etherType: inner, vlanID: vlan))
        }
        return .success(NetworkLayerStart(offset: off, etherType: type, vlanID: vlan))
    }
}
