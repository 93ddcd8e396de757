import PacketDecoding

/// Errors an operator must act on: unreadable file, bad filter, broken capture.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(source: String, reason: String)
    case unsupportedLinkType(source: String, linkType: LinkType)
    case badFilter(expression: String, reason: String)
    case readFailed(source: String, reason: String, packetsRead: Int)
    case noSuchInterface(interface: String)
    case interfaceDown(interface: String)
    case permissionDenied(interface: String, reason: String)
    case liveFailed(interface: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let s, let r):
            return "\(s): cannot read capture: \(r)"
        case .unsupportedLinkType(let s, let l):
            // libpcap's name for the type when it has one ("IEEE802_11 (105)"), the number otherwise.
            let name = PcapFileSource.linkTypeName(l.rawValue).map { "\($0) (\(l.rawValue))" } ?? String(l.rawValue)
            return
                "\(s): unsupported link type \(name); supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP"
        case .badFilter(let e, let r):
            return "bad BPF filter '\(e)': \(r)"
        case .readFailed(let s, let r, let n):
            return "\(s): capture damaged after \(n) packets: \(r) (packets before the damage were analysed)"
        case .noSuchInterface(let i):
            return "\(i): no such interface; 'stratumsniff interfaces' lists the ones that exist"
        case .interfaceDown(let i):
            return "\(i): the interface is down; bring it up first (ip link set \(i) up)"
        case .permissionDenied(let i, let r):
            return
                "\(i): no permission to capture (\(r)); run as root or give the binary CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin=eip stratumsniff)"
        case .liveFailed(let i, let r):
            return "\(i): cannot capture: \(r)"
        }
    }
}
