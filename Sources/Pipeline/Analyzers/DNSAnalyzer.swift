import DNS
import Detection
import PacketDecoding
import StreamReassembly

/// DNS over UDP (each datagram) and TCP (two-byte length framing): a question for a listed pool
/// name is evidence against the asking host; an answer names its addresses for later flows.
final class DNSAnalyzer: FlowAnalyzer {
    private var framers = (DNSTCPFramer(), DNSTCPFramer())

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        flow.key.low.port == 53 || flow.key.high.port == 53 ? .mine(DNSAnalyzer()) : .notMine
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        var f = direction == .lowToHigh ? framers.0 : framers.1
        let src = flow.key.source(direction), dst = flow.key.destination(direction)
        f.feed(bytes) { msg in Self.message(msg, from: src, to: dst, time: flow.time, shared: flow.shared) }
        if direction == .lowToHigh { framers.0 = f } else { framers.1 = f }
        return .keep
    }

    var bufferedBytes: Int { framers.0.bufferedBytes + framers.1.bufferedBytes }

    func shed() -> Bool { framers = (DNSTCPFramer(), DNSTCPFramer()); return true }

    func findings(flow: FlowContext, reason: String, final: Bool) -> Findings {
        Findings(evidence: flow.connectionToPool())
    }

    /// One DNS message. The name that matched a list may be the question itself or a CNAME on
    /// the way; an allow-listed name marks its addresses as sanctioned instead.
    static func message(_ b: UnsafeRawBufferPointer, from src: Endpoint, to dst: Endpoint, time: Timestamp, shared: Sink) {
        let msg: DNSMessage
        do { msg = try DNSParser.parse(b, limits: shared.limits.dns) } catch { shared.anomalies.record(.dnsMalformed); return }
        shared.dnsMessages += 1
        for q in msg.questions {
            let aliases = msg.isResponse && msg.answers.contains(where: { $0.type == .cname }) ? msg.aliases(of: q.name) : []
            let addresses = msg.isResponse ? msg.addresses(for: q.name) : []
            if let allowed = ([q.name] + aliases).first(where: { shared.intel.isAllowed(name: $0) }) {
                for (address, ttl) in addresses { shared.remember(address, name: allowed, source: .dnsAnswer, ttl: max(Double(ttl), shared.limits.minDNSNameSeconds), now: time) }
                continue
            }
            guard let (name, match) = ([q.name] + aliases).lazy.compactMap({ n in shared.intel.pool(named: n).map { (n, $0) } }).first
            else { continue }
            for (address, ttl) in addresses {
                shared.remember(address, name: name, match: match, source: .dnsAnswer, ttl: max(Double(ttl), shared.limits.minDNSNameSeconds), now: time)
            }
            let asker = msg.isResponse ? dst : src, server = msg.isResponse ? src : dst
            var e = Evidence(kind: .dnsPoolLookup, host: asker.address, peer: server.address, peerPort: server.port,
                             name: name, pool: match, first: time, last: time)
            e.count = msg.isResponse ? 0 : 1   // a query and its answer are one lookup
            e.coin = match.entry.singleCoin
            e.details.answers = addresses.prefix(8).map { $0.0.description }
            shared.add(e)
        }
    }
}
