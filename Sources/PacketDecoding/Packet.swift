/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
}

/// The TCP header fields the reassembler needs.
public struct TCPHeader: Sendable, Equatable {
    public var srcPort: UInt16
    public var dstPort: UInt16
    public var seq: UInt32
    public var ack: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    /// Window scale option (SYN only), when present.
    public var windowScale: UInt8?
    /// Maximum segment size option (SYN only), when present.
    public var mss: UInt16?

    public init(
        srcPort: UInt16, dstPort: UInt16, seq: UInt32, ack: UInt32, flags: TCPFlags, window: UInt16,
        windowScale: UInt8? = nil, mss: UInt16? = nil
    ) {
        self.srcPort = srcPort
        self.dstPort = dstPort
        self.seq = seq
        self.ack = ack
        self.flags = flags
        self.window = window
        self.windowScale = windowScale
        self.mss = mss
    }
}

/// Transport-layer summary of a decoded packet.
public enum Transport: Sendable, Equatable {
    case tcp(TCPHeader)
    case udp(srcPort: UInt16, dstPort: UInt16)
    case other
}

/// A decoded packet: addresses, transport header and where the payload lies.
///
/// A plain value with no heap storage: decoding it allocates nothing. The
/// payload range indexes the buffer the packet was decoded from.
public struct DecodedPacket: Sendable, Equatable {
    public var vlanID: UInt16
    public var src: IPAddress
    public var dst: IPAddress
    public var ipProtocol: IPProtocol
    public var transport: Transport
    public var payload: Range<Int>
    /// The IP datagram was cut short by the snapshot length.
    public var truncated: Bool

    public init(
        vlanID: UInt16, src: IPAddress, dst: IPAddress, ipProtocol: IPProtocol, transport: Transport,
        payload: Range<Int>, truncated: Bool
    ) {
        self.vlanID = vlanID
        self.src = src
        self.dst = dst
        self.ipProtocol = ipProtocol
        self.transport = transport
        self.payload = payload
        self.truncated = truncated
    }

    public var srcPort: UInt16 {
        switch transport {
        case .tcp(let h): h.srcPort
        case .udp(let s, _): s
        case .other: 0
        }
    }
    public var dstPort: UInt16 {
        switch transport {
        case .tcp(let h): h.dstPort
        case .udp(_, let d): d
        case .other: 0
        }
    }
}

/// Identity of an IP datagram under fragment reassembly (RFC 791 / RFC 8200).
public struct FragmentKey: Hashable, Sendable {
    public var src: IPAddress
    public var dst: IPAddress
    public var id: UInt32
    public var ipProtocol: IPProtocol
    public var vlanID: UInt16
}

/// One IP fragment; `payload` indexes the buffer it was decoded from.
public struct IPFragment: Sendable {
    public var key: FragmentKey
    /// Byte offset of this fragment's payload in the original datagram.
    public var offset: Int
    public var moreFragments: Bool
    public var payload: Range<Int>
}

/// What decoding one frame produced.
public enum DecodeOutcome: Sendable {
    case packet(DecodedPacket)
    case fragment(IPFragment)
    /// A well-formed frame that does not carry IP (ARP, LLDP, ...).
    case notIP
    case malformed(Anomaly)
}
