import PacketDecoding
import SafeNumbers

/// Scoring (docs/detection.md "Scoring"): each session and each piece of evidence supports a verdict on its
/// own; per host, the strongest wins and each further independent kind of evidence adds 5.
extension HostVerdicts {
    /// - Parameter relays: relay hosts (they serve work and mine upstream) → where they mine, to say
    ///   where a downstream miner's work ends up.
    ///   - local: the host is on our network (default: a private or local address; `--local-net` says more).
    ///     A local host that serves mining work is a relay whether or not its upstream is seen.
    ///   - probes: what servers answered the probe: a pool adds `probed-pool` evidence for the host's
    ///     flows to it, a server that is not a pool withdraws the evidence behaviour alone raised.
    static func judge(
        host: IPAddress, miner: [SessionRecord], pool: [SessionRecord], evidence given: [Evidence] = [],
        policy: ScoringPolicy = ScoringPolicy(), relays: [IPAddress: [String]] = [:], probes: ProbeFacts = ProbeFacts(),
        local: Bool? = nil
    ) -> HostReport {
        let (evidence, withdrawn) = probes.isEmpty ? (given, []) : applying(probes, to: given, policy)
        let all = miner + pool
        let first = (all.map { $0.summary.firstSeen ?? $0.flowFirstSeen } + evidence.map(\.first)).min()
        let last = (all.map { $0.summary.lastSeen ?? $0.flowLastSeen } + evidence.map(\.last)).max()
        var verdict = Verdict.none
        var confidence = 0
        var reasons: [Reason] = []
        let sortedMiner = miner.sorted { $0.flowFirstSeen < $1.flowFirstSeen }
        for s in sortedMiner {
            let (v, c) = score(s)
            if rank(v) < rank(verdict) || (v == verdict && c > confidence) {
                verdict = v
                confidence = c
            }
        }
        // A host that serves work to others is a pool — or, when it also mines upstream, a relay:
        // verdict mining (its traffic is what leaves the network), role relay (docs/detection.md "Scoring").
        var role: HostRole?
        if !pool.isEmpty {
            // A local host serving work is the relay to pull even when its upstream is encrypted or
            // goes past another tap: its miners' work leaves the network through it.
            let upstreamSeen = verdict.isMiner
            let relay = upstreamSeen || (local ?? host.isPrivateOrLocal)
            let twoSided = pool.contains { $0.summary.shape == .twoSided }
            if relay {
                role = .relay
                if !upstreamSeen {
                    verdict = .mining
                    confidence = twoSided ? 85 : 75
                }
            } else {
                verdict = .pool
                confidence = twoSided ? 90 : 70
            }
            let clients = Set(pool.map(\.miner)).count
            let jobs = pool.reduce(0) { $0.addingSaturated($1.summary.jobsReceived) }
            let shares = pool.reduce(0) { $0.addingSaturated($1.summary.sharesAccepted) }
            let ports = Set(pool.map(\.poolPort)).sorted()
            reasons.append(
                .servedWork(
                    ports: ports, miners: clients, sessions: pool.count, jobs: jobs, sharesAccepted: shares,
                    relay: relay,
                    upstreamSeen: upstreamSeen))
        }
        if !sortedMiner.isEmpty {
            // Looked up per session (not per relay): a flood of relays costs each host its own sessions only.
            let through = Dictionary(
                sortedMiner.compactMap { s in relays[s.pool].map { (s.pool, $0) } }, uniquingKeysWith: { a, _ in a })
            reasons.append(.mined(sortedMiner, upstream: !pool.isEmpty, relays: through))
        }
        // Fuse the other evidence: the strongest verdict wins; each further independent kind
        // of evidence that points the same way adds confidence (docs/detection.md "Scoring").
        // Each piece scored once, then ordered strongest first (ties: earliest first).
        let scored = evidence.map { (e: $0, score: score($0, policy)) }
            .sorted { (rank($0.score.0), $0.e.first) < (rank($1.score.0), $1.e.first) }
        var kinds = Set<String>()
        if !miner.isEmpty { kinds.insert("session") }
        var extra: [Reason] = []
        var unmet: [Reason] = []
        for (e, (v, c)) in scored {
            // Measured flows that met no test support nothing: their measurements come last, as context.
            if v == .none {
                unmet.append(.evidence(e))
                continue
            }
            extra.append(.evidence(e))
            if v != .cryptoNode { kinds.insert(e.kind.rawValue) }
            if verdict == .pool { continue }  // a pool stays a pool; its other evidence is context
            if rank(v) < rank(verdict) || (v == verdict && c > confidence) {
                verdict = v
                confidence = c
            }
        }
        reasons += extra
        reasons += withdrawn
        reasons += unmet
        if verdict != .pool && verdict != .cryptoNode && kinds.count > 1 {
            confidence = min(99, confidence + 5 * (kinds.count - 1))
        }
        var report = HostReport(
            host: host, verdict: verdict, confidence: confidence, role: role, reasons: reasons,
            firstSeen: first, lastSeen: last, minerSessions: sortedMiner,
            poolSessions: pool.sorted { $0.flowFirstSeen < $1.flowFirstSeen })
        report.evidence = scored.map(\.e)
        report.policy = policy
        return report
    }

    /// Verdict and confidence one piece of evidence supports on its own.
    public static func score(_ e: Evidence, _ p: ScoringPolicy) -> (Verdict, Int) {
        let long = e.duration >= p.longLivedSeconds
        switch e.kind {
        case .tlsToPool, .webSocketToPool:
            // A miner the pool refuses (or a flaky link) reconnects again and again: repeated short
            // connections to a listed pool are as telling as one long one.
            guard long || e.count >= p.repeatedConnections else { return (.suspicious, 40) }
            return (.likelyMining, isPeriodic(e, p) ? 80 : 70)
        case .connectionToPool:
            return long ? (.likelyMining, 60) : (.suspicious, 35)
        case .tlsMiningCadence:
            // Flows that did not (yet) meet the model's tests are kept for their measurements only.
            guard !e.isMeasurementOnly else { return (.none, 0) }
            // Behaviour alone is a guess about flows nobody can read: never `mining`. With no name
            // anywhere (no SNI, no DNS or list naming the address) on a port no web service uses, or
            // the certificate XMRig makes, it is what XMRig's TLS to a bare address looks like.
            let bare = e.details.noSNI && !p.commonTLSPorts.contains(e.peerPort)
            return bare || e.details.minerCertificate ? (.likelyMining, 70) : (.likelyMining, 65)
        case .minerCertificate:
            return long || e.count >= p.repeatedConnections ? (.likelyMining, 65) : (.suspicious, 45)
        case .stratumV2Encrypted:
            // The full handshake shape (hello and answer) on its own: a little less than with a pool name.
            if e.pool == nil { return long ? (.likelyMining, 60) : (.suspicious, 40) }
            return long ? (.likelyMining, 70) : (.suspicious, 45)
        case .minerUserAgent:
            return (.likelyMining, 60)
        case .httpToPool:
            return (.suspicious, 35)
        case .dnsPoolLookup:
            return (.suspicious, e.count > 1 ? 35 : 30)
        case .peerToPeer:
            return (.cryptoNode, 80)
        case .probedPool:
            // The server answered like a pool. Flows to it that looked like mining are mining; a
            // brief one the evidence alone only found suspicious (a miner refused, a test) less so.
            return e.details.weakFlows ? (.likelyMining, 75) : (.mining, 95)
        }
    }

    /// The evidence with what the probe found: a `probed-pool` record per server that answered like
    /// a pool; the evidence behaviour alone raised against a server that is not a pool, withdrawn.
    static func applying(_ probes: ProbeFacts, to evidence: [Evidence], _ p: ScoringPolicy) -> ([Evidence], [Reason]) {
        var kept: [Evidence] = []
        var confirmed: [Evidence] = []
        var withdrawn: [Reason] = []
        // probed-pool records of an earlier judgement are made again from the facts.
        for e in evidence where e.kind != .probedPool {
            guard let target = e.probeTarget, let fact = probes[target.server, target.port] else {
                kept.append(e)
                continue
            }
            switch fact.answer {
            case .pool:
                kept.append(e)
                // Long-lived, repeated or mining-like in its cadence: a miner's flows, not a brief look.
                let strong =
                    e.duration >= p.longLivedSeconds || e.count >= p.repeatedConnections
                    || e.details.cadence?.looksLikeMining == true
                    || e.kind == .tlsMiningCadence
                if let i = confirmed.firstIndex(where: { $0.peer == target.server && $0.peerPort == target.port }) {
                    if strong { confirmed[i].details.weakFlows = false }
                    confirmed[i].first = min(confirmed[i].first, e.first)
                    confirmed[i].last = max(confirmed[i].last, e.last)
                } else {
                    var c = Evidence(
                        kind: .probedPool, host: e.host, peer: target.server, peerPort: target.port, name: e.name,
                        pool: e.pool,
                        first: e.first, last: e.last)
                    c.coin = fact.coin
                    c.details.message = fact.sentence
                    c.details.weakFlows = !strong
                    c.hostPort = e.hostPort
                    c.transport = e.transport
                    c.origin = e.origin
                    confirmed.append(c)
                }
            case .notPool:
                if e.restsOnBehaviourAlone {
                    withdrawn.append(.withdrawn(e, because: fact.sentence))
                } else {
                    kept.append(e)
                }
            }
        }
        return (kept + confirmed, withdrawn)
    }

    /// Mining keeps a connection open for hours with small messages both ways (jobs, shares).
    public static func isPeriodic(_ e: Evidence, _ p: ScoringPolicy) -> Bool {
        if e.details.cadence?.looksLikeMining == true { return true }
        guard e.packetsOut >= p.periodicMinPackets, e.packetsIn >= p.periodicMinPackets else { return false }
        return (e.bytesOut + e.bytesIn) / (e.packetsOut + e.packetsIn) <= p.periodicMaxAveragePayload
    }

    /// Verdict and confidence one session supports for its miner.
    public static func score(_ s: SessionRecord) -> (Verdict, Int) {
        let m = s.summary
        switch m.shape {
        case .twoSided:
            var c = 90
            if m.loginAccepted == true { c += 5 }
            if m.sharesAccepted > 0 { c += 4 }
            return (.mining, min(c, 99))
        case .poolPushOnly:
            return (.mining, m.jobsReceived >= 5 ? 80 : 75)
        case .minerOnly:
            let strong = Set(m.minerMethods).count >= 2 || m.software != nil || !m.wallets.isEmpty
            return strong ? (.likelyMining, m.software != nil ? 70 : 60) : (.suspicious, 35)
        case .none:
            return (.none, 0)
        }
    }
}
