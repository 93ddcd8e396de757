import Detection
import PacketDecoding
import Stratum
import StreamReassembly

extension Anomaly {
    static let stratumV2Malformed = Anomaly("stratum_v2_malformed")
}

/// Stratum V2's caps.
struct StratumV2Caps: ProtocolCaps {
    /// Largest frame accepted; a longer one makes the stream invalid.
    var maxFrame = 64 * 1024
}

/// Stratum V2 in the clear: binary frames from SetupConnection on (`StratumV2Session`).
final class StratumV2Analyzer: FlowAnalyzer {
    private var session: StratumV2Session

    init(maxFrame: Int) { session = StratumV2Session(maxFrame: maxFrame) }

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        StratumV2Session.probe(first)
            ? .mine(StratumV2Analyzer(maxFrame: flow.limits.protocols[StratumV2Caps.self].maxFrame)) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        session.feed(bytes, from: direction.side, time: flow.time)
        if session.invalid {
            flow.shared.anomalies.record(.stratumV2Malformed)
            return .bypass
        }
        return .keep
    }

    var bufferedBytes: Int { session.bufferedBytes }

    func shed() -> Bool {
        session.shed()
        return true
    }

    /// The mining protocol (SetupConnection protocol 0) is a session; the others (job declaration,
    /// template distribution) only count as a connection to a known pool.
    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        if session.setupProtocol == 0, var record = flow.record(session.summary, reason: reason) {
            flow.annotate(&record, hint: flow.hint)
            return Findings(sessions: [record])
        }
        return Findings(evidence: flow.connectionToPool())
    }
}

/// The shape of an encrypted Stratum V2 connection (Noise NX): the client's 64-byte hello, sent
/// before the server says anything, then the server's 234-byte answer before the client speaks again
/// — whatever the TCP segmentation (either may arrive in many segments). On a flow seen from its SYN,
/// any port. The hello alone is evidence only toward a server already known as a pool; hello and
/// answer together are the reference implementation's handshake, evidence on their own.
final class NoiseShapeAnalyzer: FlowAnalyzer {
    /// Bytes the client sent before the server's first byte.
    private var clientBytes = 0
    /// Bytes of the server's first flight (before the client speaks again).
    private var serverBytes = 0
    /// The client's flight was exactly the hello.
    private var hello = false
    /// The server's first flight is complete (the client spoke again, or the server sent more than an answer).
    private var answerOver = false

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        flow.flow.sawSYN && direction == flow.flow.initiator && first.count <= StratumV2Session.noiseHelloSize
            ? .mine(NoiseShapeAnalyzer()) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        if direction == flow.flow.initiator {
            if !hello {
                clientBytes += bytes.count
                // More than a Noise hello before any answer: not this shape.
                return clientBytes > StratumV2Session.noiseHelloSize ? .done : .keep
            }
            // The client speaks again: the server's first flight is over.
            answerOver = true
            return serverBytes == StratumV2Session.noiseAnswerSize || flow.hint != nil ? .bypass : .done
        }
        if !hello {
            // The server's first bytes: the shape holds if the client had sent exactly the hello.
            hello = StratumV2Session.looksLikeNoiseHello(clientBytes)
            guard hello else { return .done }
        }
        serverBytes += bytes.count
        // More than the answer before the client's next message: the hello alone, if anything.
        guard serverBytes <= StratumV2Session.noiseAnswerSize else {
            answerOver = true
            return flow.hint != nil ? .bypass : .done
        }
        return .keep
    }

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        // Hello and exactly the answer, the flight over (the client spoke again, or the flow ended).
        // Delivery stops when the flight ends, so its size stays what it was then.
        let full = hello && serverBytes == StratumV2Session.noiseAnswerSize && (answerOver || final)
        let shape = hello || (final && StratumV2Session.looksLikeNoiseHello(clientBytes))
        let hint = flow.hint ?? flow.laterHint
        guard full || (shape && hint != nil) else { return Findings() }
        var details = EvidenceDetails()
        if full {
            details.message =
                "Noise NX handshake: \(StratumV2Session.noiseHelloSize)-byte hello, \(StratumV2Session.noiseAnswerSize)-byte answer"
        }
        return Findings(evidence: [
            flow.evidence(.stratumV2Encrypted, client: flow.flow.initiator, hint: hint, details: details)
        ])
    }
}
