import Detection
import PacketDecoding
import Proxy
import StreamReassembly

/// SOCKS4, SOCKS4a and SOCKS5: reads the CONNECT request (the pool's name or address, as the
/// client gave it) and the proxy's answer; once the proxy grants it, hands the rest of the stream
/// over to the table as a fresh stream to that target — cleartext Stratum, TLS, HTTP are then
/// analysed as usual, and every finding says which proxy carried it.
/// SOCKS's caps.
struct SOCKSCaps: ProtocolCaps {
    /// Handshake bytes held per direction before the proxy answers.
    var maxHandshakeBytes = 600
}

final class SOCKSAnalyzer: FlowAnalyzer {
    private var handshake: SOCKSHandshake
    /// Bytes seen per direction so far, to find where the tunnel starts in the call that completes it.
    private var seen = (client: 0, server: 0)
    private let clientDirection: FlowDirection

    init(clientDirection: FlowDirection, maxHandshakeBytes: Int) {
        self.clientDirection = clientDirection
        handshake = SOCKSHandshake(maxHandshakeBytes: maxHandshakeBytes)
    }

    /// The client speaks first: a SOCKS5 greeting or a SOCKS4 request.
    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        guard !flow.flow.sawSYN || direction == flow.flow.initiator, SOCKSHandshake.looksLikeRequest(first) else {
            return .notMine
        }
        return .mine(
            SOCKSAnalyzer(
                clientDirection: direction, maxHandshakeBytes: flow.limits.protocols[SOCKSCaps.self].maxHandshakeBytes))
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        let fromClient = direction == clientDirection
        let before = fromClient ? seen.client : seen.server
        if fromClient { seen.client += bytes.count } else { seen.server += bytes.count }
        switch handshake.feed(bytes, fromClient: fromClient) {
        case .pending:
            return .keep
        case .invalid, .refused:
            return .bypass
        case .granted(let clientBytes, let serverBytes):
            guard let version = handshake.version, let target = handshake.target, let host = handshake.targetHost,
                let port = handshake.targetPort
            else { return .bypass }
            let tunnel = Tunnel(
                route: ProxyRoute(kind: version.rawValue, target: target), host: host,
                address: handshake.targetAddress, port: port)
            // What this call carried past the handshake is the tunnel's first data.
            let end = (fromClient ? clientBytes : serverBytes) - before
            let rest = end >= 0 && end < bytes.count ? [(direction, Array(bytes[end...]))] : []
            return .tunnel(tunnel, pending: rest)
        }
    }

    var bufferedBytes: Int { handshake.bufferedBytes }

    /// A request that names a listed pool is evidence on its own, even when the proxy refused it
    /// or the capture ends before the answer.
    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        guard let version = handshake.version, let target = handshake.target, let host = handshake.targetHost,
            let port = handshake.targetPort
        else { return Findings(evidence: flow.connectionToPool()) }
        let tunnel = Tunnel(
            route: ProxyRoute(kind: version.rawValue, target: target), host: host, address: handshake.targetAddress,
            port: port)
        guard
            let hint = tunnel.hint(flow.shared, asOf: flow.point, at: flow.progress) ?? flow.hint
        else { return Findings() }
        var details = EvidenceDetails()
        details.proxy = ProxyRoute(kind: version.rawValue, target: target)
        if case .refused(let code) = handshake.outcome { details.proxyRefused = code }
        return Findings(evidence: [
            flow.evidence(.connectionToPool, client: clientDirection, hint: hint, details: details)
        ])
    }
}
