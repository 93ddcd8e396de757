import DNS
import Detection
import PacketDecoding
import PoolIntel
import StreamReassembly

extension ProtocolCounter {
    /// DNS messages parsed, over UDP and TCP.
    static let dnsMessages = ProtocolCounter("dns_messages")
}

extension Anomaly {
    static let dnsMalformed = Anomaly("dns_malformed")
}

/// The DNS parser's caps (questions and answers per message, pointer jumps) are this protocol's caps.
extension DNSLimits: ProtocolCaps {}

/// How long DNS answers name their addresses.
struct DNSCaps: ProtocolCaps {
    /// The least time a DNS answer for a listed name names its addresses, whatever its TTL: resolvers
    /// hand out TTL 0 and short TTLs, while a miner caches the answer itself and keeps reconnecting
    /// to that address for minutes.
    var minNameSeconds: Double = 600
}

/// DNS over UDP (each datagram) and TCP (two-byte length framing): a question for a listed pool
/// name is evidence against the asking host; an answer names its addresses for later flows.
final class DNSAnalyzer: FlowAnalyzer, DatagramAnalyzer {
    private var framers = (DNSTCPFramer(), DNSTCPFramer())

    static let counters = [ProtocolCounter.dnsMessages]
    static let learnsAtOnce = true

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        flow.key.low.port == 53 || flow.key.high.port == 53 ? .mine(DNSAnalyzer()) : .notMine
    }

    static func claims(sourcePort: UInt16, destinationPort: UInt16) -> Bool {
        sourcePort == 53 || destinationPort == 53
    }

    /// A datagram the reader saw whole was parsed there, and its answer's names learned
    /// (`learnAtOnce`); one put together from fragments is parsed and learned here.
    static func datagram(
        _ bytes: UnsafeRawBufferPointer, from source: Endpoint, to destination: Endpoint, flow: FlowContext,
        reader: ReaderPass
    ) -> Bool {
        switch reader {
        case .seen(let note as Reading):
            judge(note.message, note.resolutions, from: source, to: destination, over: .udp, flow: flow, learn: false)
        case .seen:
            message(bytes, from: source, to: destination, over: .udp, flow: flow, learn: false)
        case .reassembled:
            message(bytes, from: source, to: destination, over: .udp, flow: flow, learn: true)
        }
        return true
    }

    /// A whole datagram as the reader parsed it (`learnAtOnce`), for the worker that judges it.
    final class Reading: DatagramNote {
        /// Nil: the datagram is not a DNS message the parser accepts.
        let message: DNSMessage?
        let resolutions: [Resolution]
        init(message: DNSMessage?, resolutions: [Resolution]) {
            self.message = message
            self.resolutions = resolutions
        }
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        var f = direction == .lowToHigh ? framers.0 : framers.1
        let src = flow.key.source(direction)
        let dst = flow.key.destination(direction)
        f.feed(bytes) { msg in
            Self.message(msg, from: src, to: dst, over: .tcp, flow: flow, learn: true)
        }
        if direction == .lowToHigh { framers.0 = f } else { framers.1 = f }
        return .keep
    }

    var bufferedBytes: Int { framers.0.bufferedBytes + framers.1.bufferedBytes }

    func shed() -> Bool {
        framers = (DNSTCPFramer(), DNSTCPFramer())
        return true
    }

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        Findings(evidence: flow.connectionToPool())
    }

    /// One DNS message, parsed here and judged (`judge`). `learn`: whether the answer's names are
    /// learned here — not for an unfragmented UDP datagram, whose names the reader learned before
    /// handing the packet on (`learnAtOnce`).
    static func message(
        _ b: UnsafeRawBufferPointer, from src: Endpoint, to dst: Endpoint, over transport: IPProtocol,
        flow: FlowContext, learn: Bool
    ) {
        let msg = try? DNSParser.parse(b, limits: flow.shared.limits.protocols[DNSLimits.self])
        judge(
            msg, msg.map { resolutions($0, intel: flow.shared.intel) } ?? [], from: src, to: dst, over: transport,
            flow: flow, learn: learn)
    }

    /// A parsed DNS message (nil: malformed) and its listed names (`resolutions`): counted, and a
    /// question for a listed name is evidence against its asker.
    private static func judge(
        _ msg: DNSMessage?, _ found: [Resolution], from src: Endpoint, to dst: Endpoint, over transport: IPProtocol,
        flow: FlowContext, learn: Bool
    ) {
        let shared = flow.shared
        let time = flow.time
        guard let msg else {
            shared.anomalies.record(.dnsMalformed)
            return
        }
        shared.counts.add(.dnsMessages)
        for r in found {
            if learn {
                for (address, ttl) in r.addresses {
                    flow.remember(
                        address, name: r.name, match: r.match, source: .dnsAnswer,
                        ttl: max(Double(ttl), shared.limits.protocols[DNSCaps.self].minNameSeconds))
                }
            }
            guard let match = r.match else { continue }
            let asker = msg.isResponse ? dst : src
            let server = msg.isResponse ? src : dst
            var e = Evidence(
                kind: .dnsPoolLookup, host: asker.address, peer: server.address, peerPort: server.port,
                name: r.name, pool: match, first: time, last: time)
            e.count = msg.isResponse ? 0 : 1  // a query and its answer are one lookup
            e.hostPort = asker.port
            e.transport = transport.rawValue
            e.coin = match.entry.singleCoin
            e.details.answers = r.addresses.prefix(8).map { $0.0.description }
            flow.add(e)
        }
    }

    /// The names an unfragmented UDP DNS answer gives its addresses, learned before the packet is
    /// handed to a worker so that any worker's next flow sees them (`NameMemory`). Nothing counted
    /// here: the message and its listed names go on with the datagram (`Reading`), to be judged there.
    /// Only an answer for a listed name teaches one (`resolutions`). Any other message — a query, an
    /// answer without records, an answer for names no list can hold (nearly all of them) — is left to
    /// the worker (no note), which parses it to judge it, unless that worker is behind
    /// (`DatagramReader.spareWorker`). Parsing those is the reader's share of work that can go either
    /// way without changing what is found, so it is what keeps the two sides even.
    static func learnAtOnce(_ b: UnsafeRawBufferPointer, _ reader: DatagramReader) -> (any DatagramNote)? {
        guard reader.spareWorker || mayTeach(b, reader) else { return nil }
        guard let msg = try? DNSParser.parse(b, limits: reader.limits.protocols[DNSLimits.self]) else {
            return Reading(message: nil, resolutions: [])
        }
        let found = resolutions(msg, intel: reader.intel)
        for r in found where msg.isResponse {
            for (address, ttl) in r.addresses {
                RunState.remember(
                    address, name: r.name, match: r.match, source: .dnsAnswer,
                    ttl: max(Double(ttl), reader.limits.protocols[DNSCaps.self].minNameSeconds),
                    intel: reader.intel, into: reader.names, at: reader.point, atOnce: true)
            }
        }
        return Reading(message: msg, resolutions: found)
    }

    /// Whether a message can give a listed name addresses, from its header and question names alone
    /// (`DNSParser.outline`): a response with answer records whose question a list can name, or with a
    /// CNAME on the way. When in doubt, yes (the message is then parsed whole, as always).
    static func mayTeach(_ b: UnsafeRawBufferPointer, _ reader: DatagramReader) -> Bool {
        guard DNSParser.isAnswer(b) else { return false }
        var listed = false
        let cnames = DNSParser.outline(b, limits: reader.limits.protocols[DNSLimits.self]) { tail in
            if !listed && reader.intel.mayName(tail: tail) { listed = true }
        }
        guard let cnames else { return true }
        return listed || cnames
    }

    /// A question whose name (or a CNAME on the way) a list names, and the addresses the message gives it.
    struct Resolution: Sendable {
        var name: String
        /// Nil for an allow-listed name.
        var match: PoolMatch?
        var addresses: [(IPAddress, UInt32)]
    }

    /// The name that matched a list may be the question itself or a CNAME on the way; an allow-listed
    /// name wins (its addresses are sanctioned).
    static func resolutions(_ msg: DNSMessage, intel: PoolIntelligence) -> [Resolution] {
        var out: [Resolution] = []
        for q in msg.questions {
            let aliases =
                msg.isResponse && msg.answers.contains(where: { $0.type == .cname }) ? msg.aliases(of: q.name) : []
            let names = aliases.isEmpty ? [q.name] : [q.name] + aliases
            // The addresses only for a name a list names (most answers name nothing listed).
            if let allowed = names.first(where: { intel.isAllowed(name: $0) }) {
                out.append(
                    Resolution(name: allowed, match: nil, addresses: msg.isResponse ? msg.addresses(for: q.name) : []))
                continue
            }
            guard let (name, match) = names.lazy.compactMap({ n in intel.pool(named: n).map { (n, $0) } }).first
            else { continue }
            out.append(
                Resolution(name: name, match: match, addresses: msg.isResponse ? msg.addresses(for: q.name) : []))
        }
        return out
    }
}
