import PacketDecoding

/// What asking a server whether it is a pool found (`--probe`, docs/probing.md "Probing"), as a fact the
/// scoring uses: a pool turns a guess about the host's flows to it into `mining`; a server that is
/// not a pool withdraws the flags behaviour alone raised against them.
public struct ProbeFact: Sendable, Codable, Equatable {
    public enum Answer: String, Sendable, Codable {
        case pool
        case notPool = "not-pool"
    }

    public var server: IPAddress
    public var port: UInt16
    public var answer: Answer
    /// The probe's own words ("the server 203.0.113.9:443 answered a CryptoNote login over TLS like a
    /// pool: rx/0, monero, difficulty 120 000"). Contains the server's strings: escape when printing.
    public var sentence: String
    public var coin: String?
    public var algorithm: String?
    /// Wall time of the probe.
    public var at: Timestamp

    public init(
        server: IPAddress, port: UInt16, answer: Answer, sentence: String, coin: String? = nil,
        algorithm: String? = nil, at: Timestamp
    ) {
        self.server = server
        self.port = port
        self.answer = answer
        self.sentence = sentence
        self.coin = coin
        self.algorithm = algorithm
        self.at = at
    }
}

/// Probe facts by server.
public struct ProbeFacts: Sendable {
    /// A probed server: its address and port (what answers are kept by, here and by the schedulers).
    public struct Server: Hashable, Sendable {
        public var address: IPAddress
        public var port: UInt16
        public init(_ address: IPAddress, _ port: UInt16) {
            self.address = address
            self.port = port
        }
    }
    private var facts: [Server: ProbeFact] = [:]

    public init(_ list: [ProbeFact] = []) { list.forEach { add($0) } }

    public var isEmpty: Bool { facts.isEmpty }

    public subscript(server: IPAddress, port: UInt16) -> ProbeFact? { facts[Server(server, port)] }

    /// The newer fact about a server wins.
    public mutating func add(_ fact: ProbeFact) {
        let key = Server(fact.server, fact.port)
        if let old = facts[key], old.at > fact.at { return }
        facts[key] = fact
    }
}

extension Evidence.Kind {
    /// Evidence that marks its server for a probe: a connection to a particular server that behaviour,
    /// a miner certificate, the Stratum V2 handshake shape or a pool name made suspect. Never DNS,
    /// HTTP, node traffic or anything else.
    public var marksServerForProbe: Bool {
        switch self {
        case .tlsMiningCadence, .minerCertificate, .stratumV2Encrypted, .tlsToPool, .connectionToPool, .webSocketToPool:
            true
        default: false
        }
    }
}

extension Evidence {
    /// The server a probe would ask about this evidence: its peer, unless the connection went through
    /// a proxy (the peer is then the proxy, not the pool).
    public var probeTarget: (server: IPAddress, port: UInt16)? {
        guard kind.marksServerForProbe, !isMeasurementOnly, details.proxy == nil, let peer else { return nil }
        return (peer, peerPort)
    }

    /// Measurements of flows that did not behave like mining: kept as context, never a reason to ask.
    public var isMeasurementOnly: Bool { kind == .tlsMiningCadence && details.cadence?.looksLikeMining != true }

    /// Raised by behaviour or a certificate alone (no list names the server): what a server that
    /// answers "not a pool" withdraws.
    var restsOnBehaviourAlone: Bool {
        switch kind {
        case .tlsMiningCadence, .minerCertificate: pool == nil
        case .stratumV2Encrypted: pool == nil
        default: false
        }
    }
}

extension HostReport {
    /// The servers this host's evidence marks for a probe, in the order of the evidence.
    public var probeTargets: [(server: IPAddress, port: UInt16)] {
        var out: [(server: IPAddress, port: UInt16)] = []
        for e in evidence {
            if let t = e.probeTarget, !out.contains(where: { $0.server == t.server && $0.port == t.port }) {
                out.append(t)
            }
        }
        return out
    }

    /// The verdict again with what probes found (only when one concerns this host's evidence; a
    /// report judged before keeps its relays, earlier sessions and first sighting).
    public func rejudged(with probes: ProbeFacts) -> HostReport {
        guard !probes.isEmpty, probeTargets.contains(where: { probes[$0.server, $0.port] != nil }) else { return self }
        var relays: [IPAddress: [String]] = [:]
        var retired: [Reason] = []
        for r in reasons {
            switch r {
            case .mined(_, _, let through): relays.merge(through) { a, _ in a }
            case .retiredSessions: retired.append(r)
            default: break
            }
        }
        var r = HostVerdicts.judge(
            host: host, miner: minerSessions, pool: poolSessions, evidence: evidence, policy: policy,
            relays: relays, probes: probes, local: role == .relay ? true : nil)
        r.reasons += retired
        if let f = firstSeen, r.firstSeen.map({ f < $0 }) ?? true { r.firstSeen = f }
        if let l = lastSeen, r.lastSeen.map({ l > $0 }) ?? true { r.lastSeen = l }
        return r
    }
}
