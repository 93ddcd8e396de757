import Detection
import PacketDecoding
import Stratum
import StreamReassembly

extension Anomaly {
    static let stratumLineTooLong = Anomaly("stratum_line_too_long")
    static let stratumBadJSON = Anomaly("stratum_bad_json")
    static let stratumRoleConflict = Anomaly("stratum_role_conflict")
    /// A difficulty, target, hashrate or share count beyond anything physical (> 1e30 hashes): ignored.
    static let stratumImplausibleNumber = Anomaly("stratum_implausible_number")
}

/// The Stratum decoder's caps (line length, messages held …) are this protocol's caps; HTTP and
/// WebSocket bodies that carry mining JSON-RPC use them too.
extension StratumLimits: ProtocolCaps {}

/// Stratum V1 and its JSON-RPC relatives over plain TCP (EthereumStratum, eth-proxy, CryptoNote
/// login/job/submit): newline-delimited JSON, decoded by `StratumSession`.
final class StratumAnalyzer: FlowAnalyzer {
    private(set) var session: StratumSession

    init(_ session: StratumSession) { self.session = session }

    /// A stream seen from its SYN must open with JSON ('{' after any whitespace). Without the SYN
    /// we may be mid-line: Stratum takes the flow and resynchronises at the first newline.
    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        let mid = !flow.flow.sawSYN
        if !mid {
            guard let c = first.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
                return .needMoreData
            }
            guard c == UInt8(ascii: "{") else { return .notMine }
        }
        return .mine(
            StratumAnalyzer(StratumSession(limits: flow.limits.protocols[StratumLimits.self], midStream: (mid, mid))))
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        let keep = session.feed(bytes, from: direction.side, time: flow.time)
        flow.publish(&session, transport: .tcp)
        return keep ? .keep : .bypass
    }

    /// Lines resynchronise: after a gap the session waits for the next newline.
    func gap(_ count: Int, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        session.gap(from: direction.side)
        return .keep
    }

    /// A decoded Stratum session's own state (session, summary, pending requests) in the budget.
    static let sessionCharge = 1024

    var bufferedBytes: Int { session.bufferedBytes + Self.sessionCharge }

    /// An identified miner keeps being decoded (only its partial lines go, as after a gap).
    func shed() -> Bool {
        session.gap(from: .a)
        session.gap(from: .b)
        return !session.identified
    }

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        if final { flow.recordAnomalies(of: session) }
        var found = Findings(identifiedSession: session.identified)
        if var record = flow.record(session.summary, reason: reason) {
            record.transport = .tcp
            flow.annotate(&record, hint: flow.hint)
            found.sessions.append(record)
            if record.summary.shape != .none { return found }
        }
        found.evidence = flow.connectionToPool()
        return found
    }
}

extension FlowDirection {
    /// The Stratum layer's name for a direction's sender (it does not depend on flow types).
    var side: Side { self == .lowToHigh ? .a : .b }
}
