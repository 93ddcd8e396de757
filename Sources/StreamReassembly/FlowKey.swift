import PacketDecoding

/// One side of a flow.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
    public static func < (a: Endpoint, b: Endpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }
    public var description: String { address.endpoint(port: port) }
}

/// Canonical bidirectional flow key: both directions of a conversation map
/// to the same key (the lower endpoint first), plus protocol and VLAN.
public struct FlowKey: Hashable, Sendable {
    public var low: Endpoint
    public var high: Endpoint
    public var ipProtocol: IPProtocol
    public var vlanID: UInt16

    /// The key for a packet and the direction the packet travels in.
    @inlinable public static func of(src: Endpoint, dst: Endpoint, ipProtocol: IPProtocol, vlanID: UInt16) -> (
        FlowKey, FlowDirection
    ) {
        if src < dst || src == dst {
            return (FlowKey(low: src, high: dst, ipProtocol: ipProtocol, vlanID: vlanID), .lowToHigh)
        }
        return (FlowKey(low: dst, high: src, ipProtocol: ipProtocol, vlanID: vlanID), .highToLow)
    }

    public init(low: Endpoint, high: Endpoint, ipProtocol: IPProtocol, vlanID: UInt16) {
        self.low = low
        self.high = high
        self.ipProtocol = ipProtocol
        self.vlanID = vlanID
    }

    /// The same information the synthesized hash would feed, packed into as few words as possible:
    /// the flow table hashes a key on every packet, and Hasher's cost grows with the number of
    /// `combine` calls more than with the bytes. Still SipHash with the process's random seed, so
    /// keys an attacker chooses collide no more often than before (docs/hostile-input.md "Hostile input").
    @inlinable public func hash(into hasher: inout Hasher) {
        hasher.combine(
            UInt64(low.port) << 48 | UInt64(high.port) << 32 | UInt64(ipProtocol.rawValue) << 16 | UInt64(vlanID))
        switch (low.address, high.address) {
        case (.v4(let a), .v4(let b)):
            hasher.combine(UInt64(a) << 32 | UInt64(b))
        case (.v6(let a, let b), .v6(let c, let d)):
            hasher.combine(a)
            hasher.combine(b)
            hasher.combine(c)
            hasher.combine(d)
        case (.v4(let a), .v6(let c, let d)):
            hasher.combine(UInt64(a))
            hasher.combine(c)
            hasher.combine(d)
            hasher.combine(UInt8(1))
        case (.v6(let a, let b), .v4(let c)):
            hasher.combine(a)
            hasher.combine(b)
            hasher.combine(UInt64(c))
            hasher.combine(UInt8(2))
        }
    }

    /// The sending endpoint for packets travelling in `direction`.
    public func source(_ direction: FlowDirection) -> Endpoint { direction == .lowToHigh ? low : high }
    public func destination(_ direction: FlowDirection) -> Endpoint { direction == .lowToHigh ? high : low }
}
