// Wire code points as open RawRepresentable structs: unknown values stay
// representable (and countable) instead of failing an enum initialiser.

/// A capture link-layer type, as libpcap reports it (DLT_ values).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let null = LinkType(rawValue: 0)  // BSD loopback, host-order family
    public static let ethernet = LinkType(rawValue: 1)
    public static let rawDLT12 = LinkType(rawValue: 12)  // DLT_RAW on most platforms
    public static let rawDLT14 = LinkType(rawValue: 14)  // DLT_RAW on OpenBSD
    public static let raw = LinkType(rawValue: 101)  // LINKTYPE_RAW
    public static let loop = LinkType(rawValue: 108)  // OpenBSD loopback, network-order family
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Whether the decoder understands this link type.
    public var isSupported: Bool {
        switch self {
        case .null, .ethernet, .rawDLT12, .rawDLT14, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .ethernet: "EN10MB"
        case .rawDLT12, .rawDLT14, .raw: "RAW"
        case .loop: "LOOP"
        case .linuxSLL: "LINUX_SLL"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        case .linuxSLL2: "LINUX_SLL2"
        default: "link type \(rawValue)"
        }
    }
}

/// An Ethernet II EtherType.
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)  // 802.1Q
    public static let qinq = EtherType(rawValue: 0x88A8)  // 802.1ad
    public static let qinqOld = EtherType(rawValue: 0x9100)  // pre-standard QinQ
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    public static let pppoeSession = EtherType(rawValue: 0x8864)

    public var isVLANTag: Bool { self == .vlan || self == .qinq || self == .qinqOld }
}

/// An IP protocol number / IPv6 next-header value.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let hopByHop = IPProtocol(rawValue: 0)
    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let routing = IPProtocol(rawValue: 43)
    public static let fragment = IPProtocol(rawValue: 44)
    public static let esp = IPProtocol(rawValue: 50)
    public static let ah = IPProtocol(rawValue: 51)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let noNextHeader = IPProtocol(rawValue: 59)
    public static let destinationOptions = IPProtocol(rawValue: 60)
    public static let mobility = IPProtocol(rawValue: 135)

    public var description: String {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmp: "icmp"
        case .icmpv6: "icmpv6"
        default: "ip-proto-\(rawValue)"
        }
    }
}

extension String {
    /// The longest prefix of at most `bytes` UTF-8 bytes that ends on a scalar boundary. Bytes, not
    /// characters: one character can hold any number of combining scalars, so only a byte cut bounds
    /// what a stored document can grow to (docs/store-and-fleet.md "Store": what a report reads).
    public func utf8Prefix(_ bytes: Int) -> String {
        var used = 0
        var end = unicodeScalars.startIndex
        for (i, u) in zip(unicodeScalars.indices, unicodeScalars) {
            used += UTF8.width(u)
            guard used <= bytes else { break }
            end = unicodeScalars.index(after: i)
        }
        return String(unicodeScalars[..<end])
    }
}
