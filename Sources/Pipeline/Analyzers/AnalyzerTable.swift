import PacketDecoding
import StreamReassembly

/// Every stream analyzer, in the order their probes see a TCP flow's first payload. The first
/// that claims the flow takes it; a flow none claims is bypassed at once (it keeps its counters,
/// which is what evidence about encrypted connections is built from). To add a protocol, write
/// one `FlowAnalyzer` and add one line here (docs/architecture.md "Adding an analyzer").
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
