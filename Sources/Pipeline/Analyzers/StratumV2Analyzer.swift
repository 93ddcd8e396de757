import PacketDecoding
import StreamReassembly
import Stratum

/// Stratum V2 in the clear: binary frames from SetupConnection on (`StratumV2Session`).
final class StratumV2Analyzer: FlowAnalyzer {
    private var session: StratumV2Session

    init(maxFrame: Int) { session = StratumV2Session(maxFrame: maxFrame) }

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        StratumV2Session.probe(first) ? .mine(StratumV2Analyzer(maxFrame: flow.limits.maxStratumV2Frame)) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        session.feed(bytes, from: direction.side, time: flow.time)
        if session.invalid { flow.shared.anomalies.record(.stratumV2Malformed); return .bypass }
        return .keep
    }

    var bufferedBytes: Int { session.bufferedBytes }

    func shed() -> Bool { session.shed(); return true }

    /// The mining protocol (SetupConnection protocol 0) is a session; the others (job declaration,
    /// template distribution) only count as a connection to a known pool.
    func findings(flow: FlowContext, reason: String, final: Bool) -> Findings {
        if session.setupProtocol == 0, var record = flow.record(session.summary, reason: reason) {
            flow.annotate(&record, hint: flow.hint)
            return Findings(sessions: [record])
        }
        return Findings(evidence: flow.connectionToPool())
    }
}

/// The shape of an encrypted Stratum V2 connection: a Noise handshake whose first message is the
/// client's 64 bytes, sent before the server says anything — whatever the TCP segmentation (the 64
/// bytes may arrive in several segments). On a flow seen from its SYN; evidence only toward a server
/// already known as a pool (never on shape alone).
final class NoiseShapeAnalyzer: FlowAnalyzer {
    /// Bytes the client sent before the server's first byte.
    private var clientBytes = 0
    private var matched = false

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        flow.flow.sawSYN && direction == flow.flow.initiator && first.count <= StratumV2Session.noiseHelloSize
            ? .mine(NoiseShapeAnalyzer()) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        if direction == flow.flow.initiator {
            clientBytes += bytes.count
            // More than a Noise hello before any answer: not this shape.
            return clientBytes > StratumV2Session.noiseHelloSize ? .done : .keep
        }
        // The server's first bytes: the shape held if the client had sent exactly the hello.
        matched = StratumV2Session.looksLikeNoiseHello(clientBytes)
        return matched ? .bypass : .done
    }

    func findings(flow: FlowContext, reason: String, final: Bool) -> Findings {
        guard matched || (final && StratumV2Session.looksLikeNoiseHello(clientBytes)), let hint = flow.hint else { return Findings() }
        return Findings(evidence: [flow.evidence(.stratumV2Encrypted, client: flow.flow.initiator, hint: hint)])
    }
}
