import Detection
import PacketDecoding
import StreamReassembly
import TLS

/// TLS: the ClientHello from the client, the ServerHello and (TLS ≤ 1.2) the certificate from the
/// server — names (SNI, certificate), JA3/JA4. A handshake that names a listed pool, or goes to a
/// server already known as one, is evidence; its SNI names the server's address for later flows.
///
/// After the handshake the flow stays watched, record headers only (no bodies held), by the
/// behaviour model (`ExchangeCadence`) until it moves more bytes than mining does: a flow no name
/// points to can still show a mining session's shape, or a miner-generated certificate.
extension ProtocolCounter {
    /// TLS flows (a handshake record first).
    static let tlsHandshakes = ProtocolCounter("tls_handshakes")
}

extension Anomaly {
    static let tlsMalformed = Anomaly("tls_malformed")
}

/// TLS's caps.
struct TLSCaps: ProtocolCaps {
    /// Handshake bytes buffered per direction (records reassembled across segments).
    var maxHandshakeBytes = 64 * 1024
}

final class TLSAnalyzer: FlowAnalyzer {
    static let counters = [ProtocolCounter.tlsHandshakes]

    private var readers: (TLSHandshakeReader, TLSHandshakeReader)
    private var walkers = (TLSRecordWalker(), TLSRecordWalker())
    private var cadence = ExchangeCadence()
    private let maxBuffered: Int
    private var hello: ClientHello?
    private var clientDirection: FlowDirection?
    private var serverHello: ServerHello?
    private var certificate: LeafCertificate?
    private var malformed = false
    /// The handshake has told all it will (its anomalies and names are recorded).
    private var finished = false
    /// The listed pool its names point to, looked up once when the handshake is done.
    private var nameHint: PoolHint?

    init(maxBuffered: Int) {
        self.maxBuffered = maxBuffered
        readers = (TLSHandshakeReader(maxBuffered: maxBuffered), TLSHandshakeReader(maxBuffered: maxBuffered))
    }

    static func probe(_ first: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> Probe {
        guard TLSProbe.looksLikeHandshake(first) else { return .notMine }
        return .mine(TLSAnalyzer(maxBuffered: flow.limits.protocols[TLSCaps.self].maxHandshakeBytes))
    }

    func claimed(flow: FlowContext) { flow.shared.counts.add(.tlsHandshakes) }

    func deliver(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision {
        if finished { return watch(bytes, direction: direction, flow: flow) }
        // The record walker sees every byte from the first, or it would lose the record boundaries.
        _ = watch(bytes, direction: direction, flow: flow)
        var r = direction == .lowToHigh ? readers.0 : readers.1
        r.feed(bytes) { type, body in
            switch type {
            case 1 where hello == nil:
                do {
                    hello = try ClientHello.parse(body)
                    clientDirection = direction
                } catch { malformed = true }
            case 2 where serverHello == nil:
                serverHello = try? ServerHello.parse(body)
            case 11 where certificate == nil:
                certificate = try? LeafCertificate.parse(certificateMessage: body)
            default:
                break
            }
        }
        if direction == .lowToHigh { readers.0 = r } else { readers.1 = r }
        guard handshakeOver else { return .keep }
        release()
        finish(flow, time: flow.time)
        return malformed ? stopWatching(flow) : .keep
    }

    /// Times and sizes the application-data records of one direction for the behaviour model.
    private func watch(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, flow: FlowContext) -> AnalyzerDecision
    {
        let fromClient = direction == (clientDirection ?? flow.flow.initiator)
        let time = flow.time
        var w = direction == .lowToHigh ? walkers.0 : walkers.1
        w.feed(bytes) { type, length in
            if type == 23 { cadence.record(fromClient: fromClient, bytes: length, at: time) }
        }
        if direction == .lowToHigh { walkers.0 = w } else { walkers.1 = w }
        guard finished else { return .keep }
        return w.invalid || cadence.isBulk ? stopWatching(flow) : .keep
    }

    /// Not a mining shape (bulk transfer, or not TLS records after all): a flow whose names match no
    /// list, to a server known by none, with an ordinary certificate, keeps only its counters.
    private func stopWatching(_ flow: FlowContext) -> AnalyzerDecision {
        cadence = ExchangeCadence()
        return flow.hint == nil && nameHint == nil && !minerCertificate ? .done : .bypass
    }

    /// The server's certificate has the profile XMRig makes for itself.
    private var minerCertificate: Bool { certificate?.hasMinerProfile == true }

    /// Nothing more to learn: the hello was unreadable, both sides are past the plaintext
    /// handshake, or we have the hello and the server has answered as far as it will in the clear.
    private var handshakeOver: Bool {
        if malformed { return true }
        let states = (readers.0.state, readers.1.state)
        if states.0 != .handshake && states.1 != .handshake { return true }
        guard let client = clientDirection else { return false }
        let serverState = client == .lowToHigh ? states.1 : states.0
        if serverState != .handshake { return true }
        guard let sh = serverHello else { return false }
        // TLS 1.3 encrypts the certificate: nothing more to read after ServerHello.
        return sh.version == 0x0304 || certificate != nil
    }

    /// Frees the record buffers; the parsed facts stay.
    private func release() {
        readers = (TLSHandshakeReader(maxBuffered: maxBuffered), TLSHandshakeReader(maxBuffered: maxBuffered))
    }

    /// Charged to the decoder budget for as long as the flow is watched: the record buffers while the
    /// handshake lasts, and always this object and the parsed handshake it keeps — so a flood of
    /// handshakes that never finish, or of finished ones held open, reaches the budget (before, only
    /// the buffers counted: 1 M ClientHellos held 2.4 KB a flow against 0.6 KB charged).
    var bufferedBytes: Int {
        readers.0.bufferedBytes + readers.1.bufferedBytes + Self.objectCharge + (hello?.retainedBytes ?? 0)
            + (certificate?.retainedBytes ?? 0) + (serverHello?.retainedBytes ?? 0)
    }

    /// This object's own allocation (readers, walkers, the behaviour state, the parsed values inline):
    /// measured with massif on a flood of ClientHellos (616 B a flow).
    static let objectCharge = 640

    func shed() -> Bool {
        release()
        return true
    }

    /// The handshake is over (or the flow ended inside it): count its anomaly, find the listed name,
    /// and let a listed SNI name the server for later flows.
    private func finish(_ flow: FlowContext, time: Timestamp) {
        guard !finished else { return }
        finished = true
        if malformed { flow.shared.anomalies.record(.tlsMalformed) }
        nameHint = listedName(flow)
        rememberSNI(flow, time: time)
    }

    /// Every name the handshake revealed, most trustworthy first.
    private var names: [String] {
        var out: [String] = []
        if let s = hello?.serverName { out.append(s) }
        if let cn = certificate?.subjectCommonName { out.append(cn) }
        out += certificate?.dnsNames ?? []
        return out
    }

    /// The first of the handshake's names (SNI, then certificate) that a pool list names.
    private func listedName(_ flow: FlowContext) -> PoolHint? {
        for (i, n) in names.enumerated() {
            if let m = flow.shared.intel.pool(named: n) {
                return PoolHint(
                    name: n, match: m, via: i == 0 && hello?.serverName != nil ? .thisFlowsSNI : .thisFlowsCertificate)
            }
        }
        return nil
    }

    /// A listed (or allow-listed) SNI names the server's address for later flows: SNI-less ones,
    /// encrypted ones, other hosts' ones.
    private func rememberSNI(_ flow: FlowContext, time: Timestamp) {
        let server = flow.key.destination(clientDirection ?? flow.flow.initiator)
        let ttl = flow.limits.learnedNameSeconds
        if let sni = hello?.serverName, flow.shared.intel.isAllowed(name: sni) {
            flow.remember(server.address, name: sni, source: .earlierSNI, ttl: ttl)
            return
        }
        guard let h = nameHint, h.via == .thisFlowsSNI, let name = h.name else { return }
        flow.remember(server.address, name: name, match: h.match, source: .earlierSNI, ttl: ttl)
    }

    func findings(flow: FlowContext, reason: SessionEndReason, final: Bool) -> Findings {
        // A flow that ended inside its handshake is finished now (a snapshot only looks).
        if final { finish(flow, time: flow.flow.lastSeen) }
        let hint = (finished ? nameHint ?? flow.hint : listedName(flow) ?? flow.hint) ?? flow.laterHint
        // Kept when it had an exchange of each kind mining has: whether the host's flows to this
        // server behave like mining is judged on all of them together.
        let measures = cadence.summary
        let candidate = measures.isCandidate && !cadence.isBulk
        guard hint != nil || candidate || minerCertificate else { return Findings() }
        var details = EvidenceDetails()
        if let h = hello {
            details.sni = h.serverName
            details.noSNI = h.serverName == nil
            details.alpn = h.alpn
            details.ja3 = h.ja3
            details.ja4 = h.ja4
        }
        details.tlsVersion = serverHello?.versionName
        if let c = certificate, !names.isEmpty {
            details.certificateNames = Array(([c.subjectCommonName].compactMap { $0 } + c.dnsNames).prefix(8))
        }
        details.minerCertificate = minerCertificate
        if candidate { details.cadence = measures }
        let client = clientDirection ?? flow.flow.initiator
        var found = Findings()
        if let hint {
            found.evidence.append(flow.evidence(.tlsToPool, client: client, hint: hint, details: details))
        } else if candidate {
            found.evidence.append(
                flow.evidence(.tlsMiningCadence, client: client, hint: nil, name: hello?.serverName, details: details))
        }
        if minerCertificate {
            // The CN ("localhost" unless configured) names no pool: it stays in the certificate names.
            found.evidence.append(flow.evidence(.minerCertificate, client: client, hint: hint, details: details))
        }
        return found
    }
}
