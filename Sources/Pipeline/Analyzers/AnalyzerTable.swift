import PacketDecoding
import StreamReassembly

/// Every protocol, by transport. TCP: the stream analyzers in the order their probes see a flow's
/// first payload; the first that claims the flow takes it; a flow none claims is bypassed at once
/// (it keeps its counters, which is what evidence about encrypted connections is built from). UDP:
/// the datagram analyzers in the order they are asked whether they claim a datagram. To add a
/// protocol, write its analyzer (with its counters, anomalies and caps, `ProtocolRoom.swift`) and
/// add one line here (docs/architecture.md "Adding an analyzer").
enum AnalyzerTable {
    static let streams: [any FlowAnalyzer.Type] = [
        TLSAnalyzer.self,  // a TLS handshake record
        HTTPAnalyzer.self,  // an HTTP/1.x request or response line (WebSocket after an upgrade)
        StratumV2Analyzer.self,  // Stratum V2 SetupConnection in the clear
        PeerAnalyzer.self,  // Bitcoin / Monero node handshakes
        SOCKSAnalyzer.self,  // a SOCKS5 greeting or SOCKS4 request: the tunnel is probed again
        DNSAnalyzer.self,  // port 53 (DNS over TCP)
        StratumAnalyzer.self,  // JSON-RPC lines ('{' first, or any stream picked up mid-way)
        NoiseShapeAnalyzer.self  // the shape of an encrypted Stratum V2 handshake
    ]

    static let datagrams: [any DatagramAnalyzer.Type] = [
        DNSAnalyzer.self,  // port 53
        PeerAnalyzer.self  // node discovery (Ethereum discv4); takes every other datagram, keeping it if it is one
    ]

    /// Every protocol's summary counters, once each, in table order.
    static let counters: [ProtocolCounter] = {
        var seen = Set<ProtocolCounter>()
        return (streams.flatMap { $0.counters } + datagrams.flatMap { $0.counters }).filter { seen.insert($0).inserted }
    }()

    /// The datagram analyzers the reader offers whole datagrams to (`learnAtOnce`).
    static let readers = datagrams.filter { $0.learnsAtOnce }

    /// The datagram analyzer that claims datagrams between these ports.
    @inline(__always)
    static func datagramAnalyzer(sourcePort: UInt16, destinationPort: UInt16) -> (any DatagramAnalyzer.Type)? {
        for candidate in datagrams where candidate.claims(sourcePort: sourcePort, destinationPort: destinationPort) {
            return candidate
        }
        return nil
    }

    /// The analyzer for a flow's first payload; nil with `undecided` when one asked for more data.
    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> (
        analyzer: (any FlowAnalyzer)?, undecided: Bool
    ) {
        for candidate in streams {
            switch candidate.probe(first, direction: direction, flow: flow) {
            case .mine(let a):
                a.claimed(flow: flow)
                return (a, false)
            case .needMoreData: return (nil, true)
            case .notMine: continue
            }
        }
        return (nil, false)
    }
}
