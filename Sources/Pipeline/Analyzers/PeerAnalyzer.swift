import CryptoP2P
import Detection
import PacketDecoding
import StreamReassembly

/// Cryptocurrency node-to-node protocols (Bitcoin, Monero levin; Ethereum discv4 over UDP): the
/// first message of each direction is checked. A node is a finding, not a miner.
extension ProtocolCounter {
    /// Flows (and discovery datagrams) of cryptocurrency node protocols.
    static let peerFlows = ProtocolCounter("p2p_flows")
}

final class PeerAnalyzer: FlowAnalyzer, DatagramAnalyzer {
    private var seen: (PeerHandshake?, PeerHandshake?) = (nil, nil)
    private var checked = (false, false)

    static let counters = [ProtocolCounter.peerFlows]

    static func recognise(_ b: UnsafeRawBufferPointer) -> PeerHandshake? {
        PeerProtocols.bitcoin(b) ?? PeerProtocols.levin(b)
    }

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        guard recognise(first) != nil else { return .notMine }
        return .mine(PeerAnalyzer())
    }

    func claimed(flow: FlowContext) { flow.shared.counts.add(.peerFlows) }

    /// Bypassed once both directions have been checked.
    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        if direction == .lowToHigh, !checked.0 {
            checked.0 = true
            seen.0 = Self.recognise(bytes)
        }
        if direction == .highToLow, !checked.1 {
            checked.1 = true
            seen.1 = Self.recognise(bytes)
        }
        return checked.0 && checked.1 ? .bypass : .keep
    }

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        let f = flow.flow
        var found = Findings()
        for (dir, h) in [(FlowDirection.lowToHigh, seen.0), (.highToLow, seen.1)] {
            guard let h else { continue }
            let me = f.key.source(dir)
            let other = f.key.destination(dir)
            var e = Evidence(
                kind: .peerToPeer, host: me.address, peer: other.address, peerPort: other.port, name: nil,
                pool: nil, first: f.firstSeen, last: f.lastSeen)
            e.coin = h.network.rawValue
            e.hostPort = me.port
            e.transport = f.key.ipProtocol.rawValue
            e.software = h.userAgent
            e.details.message = h.message
            e.packetsOut = dir == .lowToHigh ? f.packets.0 : f.packets.1
            e.packetsIn = dir == .lowToHigh ? f.packets.1 : f.packets.0
            e.bytesOut = dir == .lowToHigh ? f.bytes.0 : f.bytes.1
            e.bytesIn = dir == .lowToHigh ? f.bytes.1 : f.bytes.0
            found.evidence.append(e)
        }
        return found
    }

    /// The last datagram protocol asked: any datagram no other claims is looked at once.
    static func claims(sourcePort: UInt16, destinationPort: UInt16) -> Bool { true }

    /// An Ethereum discovery (discv4) datagram: node traffic, evidence at once. The flow is bypassed
    /// either way (its first datagram says what it is).
    static func datagram(
        _ b: UnsafeRawBufferPointer, from src: Endpoint, to dst: Endpoint, flow: FlowContext, reader: ReaderPass
    ) -> Bool {
        let time = flow.time
        guard let h = PeerProtocols.discoveryV4(b) else { return false }
        var e = Evidence(
            kind: .peerToPeer, host: src.address, peer: dst.address, peerPort: dst.port, name: nil, pool: nil,
            first: time, last: time)
        e.coin = h.network.rawValue
        e.hostPort = src.port
        e.transport = IPProtocol.udp.rawValue
        e.details.message = h.message
        flow.shared.counts.add(.peerFlows)
        flow.add(e)
        return false
    }
}
