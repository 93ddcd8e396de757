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

/// The shape of an encrypted Stratum V2 connection (a Noise handshake: a 64-byte first message
/// from the client), on a flow seen from its SYN. Evidence only toward a server known as a pool.
final class NoiseShapeAnalyzer: FlowAnalyzer {
    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        flow.flow.sawSYN && direction == flow.flow.initiator && StratumV2Session.looksLikeNoiseHello(first.count)
            ? .mine(NoiseShapeAnalyzer()) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision { .bypass }

    func findings(flow: FlowContext, reason: String, final: Bool) -> Findings {
        guard let hint = flow.hint else { return Findings() }   // weak evidence: never on its own
        return Findings(evidence: [flow.evidence(.stratumV2Encrypted, client: flow.flow.initiator, hint: hint)])
    }
}
