import Coins
import PacketDecoding
import Reporting
import Stratum
import Testing

@testable import Detection

private func record(
    miner: String, pool: String, shape: SessionShape, configure: (inout StratumSummary) -> Void = { _ in }
) -> SessionRecord {
    var s = StratumSummary()
    s.shape = shape
    s.minerSide = .a
    s.firstSeen = .zero
    s.lastSeen = Timestamp(seconds: 600)
    configure(&s)
    return SessionRecord(
        miner: IPAddress(miner)!, minerPort: 40000, pool: IPAddress(pool)!, poolPort: 3333, vlanID: 0,
        summary: s, flowFirstSeen: .zero, flowLastSeen: Timestamp(seconds: 600), minerBytes: 1, poolBytes: 1,
        endReason: .closed)
}

/// A one-sided XMRig login from `miner`'s port `port` (the caps' tests add hundreds, one port each).
private func login(
    miner: String, port: Int, software: String = "XMRig/6", configure: (inout StratumSummary) -> Void = { _ in }
) -> SessionRecord {
    var s = record(miner: miner, pool: "198.51.100.1", shape: .minerOnly) {
        $0.software = software
        $0.minerMethods = ["login"]
        configure(&$0)
    }
    s.minerPort = UInt16(port)
    return s
}

@Suite struct VerdictTests {
    @Test func twoSidedSessionMakesMinerAndPool() {
        var v = HostVerdicts()
        v.add(
            record(miner: "10.0.0.1", pool: "198.51.100.1", shape: .twoSided) {
                $0.loginAccepted = true
                $0.sharesAccepted = 3
            })
        let r = v.reports()
        #expect(r.map(\.verdict) == [.mining, .pool])
        #expect(r[0].confidence == 99)
        #expect(r[0].host == IPAddress("10.0.0.1"))
    }

    @Test func minerOnlyIsLikelyOrSuspicious() {
        var v = HostVerdicts()
        v.add(
            record(miner: "10.0.0.2", pool: "198.51.100.2", shape: .minerOnly) {
                $0.minerMethods = ["login"]
                $0.software = "XMRig/6"
            })
        v.add(
            record(miner: "10.0.0.3", pool: "198.51.100.3", shape: .minerOnly) {
                $0.minerMethods = ["mining.subscribe"]
            })
        let r = v.reports()
        #expect(r.count == 2)  // an unanswered pool is not evidence against the pool host
        #expect(r.first { $0.host == IPAddress("10.0.0.2") }?.verdict == .likelyMining)
        #expect(r.first { $0.host == IPAddress("10.0.0.3") }?.verdict == .suspicious)
    }

    @Test func noShapeNoVerdict() {
        var v = HostVerdicts()
        v.add(record(miner: "10.0.0.4", pool: "198.51.100.4", shape: .none))
        #expect(v.reports().isEmpty)
    }

    /// A host that serves work and mines upstream is a relay: verdict mining, role relay; its
    /// downstream miners' reasons say where their work ends up. One that only serves is a pool.
    @Test func relayMinesAndServes() {
        var v = HostVerdicts()
        v.add(record(miner: "10.0.0.5", pool: "10.0.0.9", shape: .twoSided))
        v.add(record(miner: "10.0.0.9", pool: "198.51.100.9", shape: .twoSided))
        let reports = v.reports()
        let relay = reports.first { $0.host == IPAddress("10.0.0.9") }
        #expect(relay?.verdict == .mining && relay?.role == .relay)
        #expect(
            relay?.reasonTexts.first?.hasPrefix(
                "a relay (xmrig-proxy or the like): serves mining work on port 3333 to 1 miner") == true)
        #expect(relay?.reasonTexts.contains { $0.hasPrefix("also mines upstream") } == true)
        let downstream = reports.first { $0.host == IPAddress("10.0.0.5") }
        #expect(
            downstream?.reasonTexts.first?.hasSuffix("; 10.0.0.9 is a relay mining upstream at 198.51.100.9:3333")
                == true)
        #expect(reports.first { $0.host == IPAddress("198.51.100.9") }?.verdict == .pool)
        #expect(reports.first { $0.host == IPAddress("198.51.100.9") }?.role == nil)
    }

    @Test func reasonsExplain() {
        let s = record(miner: "10.0.0.1", pool: "198.51.100.1", shape: .twoSided) {
            $0.software = "XMRig/6.21.0"
            $0.wallets = ["4A1bcdefghijklmnopqrstuvwxyz"]
            $0.loginAccepted = true
            $0.sharesAccepted = 37
            $0.sharesSubmitted = 37
            $0.acceptedHashes = 37 * 20000
            $0.dialect = .cryptonote
        }
        let text = ReasonText.describe(s)
        #expect(text.contains("XMRig/6.21.0") && text.contains("login accepted") && text.contains("37 shares accepted"))
        #expect(text.contains("kH/s"))
    }

    @Test func sessionsPastTheMemoryCapDoNotClaimAStore() {
        // A run without --store has no store to keep them in: the sentence must not say it does.
        let sentence = ReasonText.sentences(.retiredSessions(1599), policy: ScoringPolicy()).joined()
        #expect(sentence.contains("1599 earlier sessions") && !sentence.contains("kept in the store"), "\(sentence)")
    }

    @Test(
        arguments: [
            ("eu1-zcash.flypool.org", "zcash"), ("pool.supportxmr.com", nil), ("xmr-eu1.nanopool.org", "monero"),
            ("etc.2miners.com", "ethereum-classic")
        ] as [(String, String?)])
    func coinFromHostname(host: String, coin: String?) {
        #expect(Coins.coin(forHostname: host) == coin)
    }

    @Test func repeatedSessionsShareOneReason() {
        var v = HostVerdicts()
        // Eight refused logins, 5 s apart, then one session that mined.
        for i in 0..<8 {
            var r = record(miner: "10.0.0.7", pool: "198.51.100.7", shape: .twoSided) {
                $0.software = "XMRig/6.21.0"
                $0.loginAccepted = false
                $0.dialect = .cryptonote
                $0.firstSeen = Timestamp(seconds: 1_700_000_000 + Int64(i) * 5)
                $0.lastSeen = $0.firstSeen!.adding(seconds: 1)
            }
            r.minerPort = UInt16(40000 + i)
            v.add(r)
        }
        v.add(
            record(miner: "10.0.0.7", pool: "198.51.100.7", shape: .twoSided) {
                $0.loginAccepted = true
                $0.sharesAccepted = 2
                $0.sharesSubmitted = 2
            })
        let reasons = v.reports().first { $0.host == IPAddress("10.0.0.7") }!.reasonTexts
        #expect(reasons.count == 2)
        #expect(
            reasons.contains(
                "8 sessions between 2023-11-14 22:13:20 and 22:13:56, each: XMRig/6.21.0 mined via cryptonote at 198.51.100.7:3333 (login rejected), monero"
            ))
    }

    @Test func ratesAreTotalledPerCoin() {
        let zec = record(miner: "10.0.0.8", pool: "198.51.100.8", shape: .twoSided) { $0.coin = "zcash" }
        let xmr = record(miner: "10.0.0.8", pool: "198.51.100.8", shape: .twoSided) { $0.coin = "monero" }
        let unknown = record(miner: "10.0.0.8", pool: "198.51.100.8", shape: .twoSided) { $0.dialect = .stratumV1 }
        #expect(zec.rateKind.unit == .solutions && xmr.rateKind.unit == .hashes)
        #expect(zec.rateKind != xmr.rateKind)
        #expect(unknown.rateKind.label == "unknown coin (stratum-v1)")
        #expect(Format.hashrate(674.8, .solutions) == "675 Sol/s")
        #expect(Format.hashrate(1_250_000, .solutions) == "1.2 MSol/s")
    }

    /// docs/detection.md "Scoring" step 2: the strongest item wins; +5 per further independent kind; capped at 99.
    @Test func fusionAddsFivePerFurtherKindUpTo99() {
        let host = IPAddress("10.0.0.20")!
        let pool = IPAddress("198.51.100.60")!
        func evidence(_ kind: Evidence.Kind, seconds: Int64, packets: Int = 40) -> Evidence {
            var e = Evidence(
                kind: kind, host: host, peer: pool, peerPort: 443, name: "gulf.moneroocean.stream", pool: nil,
                first: Timestamp(seconds: 1000), last: Timestamp(seconds: 1000 + seconds))
            e.packetsOut = packets
            e.packetsIn = packets
            e.bytesOut = packets * 100
            e.bytesIn = packets * 100
            return e
        }
        let dns = evidence(.dnsPoolLookup, seconds: 0, packets: 0)
        let tls = evidence(.tlsToPool, seconds: 7200)  // long, periodic: likely-mining 80
        let shortTLS = evidence(.tlsToPool, seconds: 10)  // suspicious 40
        func judge(_ e: [Evidence], sessions: [SessionRecord] = []) -> (Verdict, Int) {
            let r = HostVerdicts.judge(host: host, miner: sessions, pool: [], evidence: e)
            return (r.verdict, r.confidence)
        }
        #expect(judge([dns]) == (.suspicious, 30))
        #expect(judge([tls]) == (.likelyMining, 80))
        #expect(judge([dns, tls]) == (.likelyMining, 85))  // README's example
        #expect(judge([dns, tls, shortTLS]) == (.likelyMining, 85))  // a second TLS is not a new kind
        var reconnecting = shortTLS
        reconnecting.count = 3  // a miner the pool keeps refusing
        #expect(judge([reconnecting]) == (.likelyMining, 80))  // small records both ways: periodic
        reconnecting.count = 2
        #expect(judge([reconnecting]) == (.suspicious, 40))
        #expect(judge([dns, tls, evidence(.httpToPool, seconds: 1)]) == (.likelyMining, 90))
        let session = record(miner: "10.0.0.20", pool: "198.51.100.60", shape: .twoSided) {
            $0.loginAccepted = true
            $0.sharesAccepted = 1
        }
        #expect(judge([dns, tls], sessions: [session]) == (.mining, 99))  // 99 + 10, capped
        // Node traffic is not a kind that adds: a node that looks a pool up is suspicious 30, not 35.
        let node = evidence(.peerToPeer, seconds: 1)
        #expect(judge([node]) == (.cryptoNode, 80))
        #expect(judge([node, dns]) == (.suspicious, 30))
    }

    @Test func alertsAreNewMinersAndUpgradesOnly() {
        #expect(AlertRule.isNews(.mining, previous: nil) && AlertRule.isNews(.mining, previous: .likelyMining))
        #expect(
            AlertRule.isNews(.likelyMining, previous: nil) && AlertRule.isNews(.likelyMining, previous: .suspicious))
        #expect(!AlertRule.isNews(.mining, previous: .mining) && !AlertRule.isNews(.likelyMining, previous: .mining))
        #expect(
            !AlertRule.isNews(.pool, previous: nil) && !AlertRule.isNews(.suspicious, previous: nil)
                && !AlertRule.isNews(.cryptoNode, previous: nil))
        var rule = AlertRule()
        var v = HostVerdicts()
        for i in 1...60 {
            v.add(
                record(miner: "10.9.0.\(i)", pool: "198.51.100.1", shape: .minerOnly) {
                    $0.minerMethods = ["login", "submit"]
                })
        }
        v.add(record(miner: "10.9.1.1", pool: "198.51.100.1", shape: .twoSided) { $0.loginAccepted = true })
        let (alerts, suppressed) = rule.review(v.reports())
        #expect(alerts.count == AlertRule.maxPerCommit && suppressed == 11)
        // mining first
        #expect(alerts.first?.report.host == IPAddress("10.9.1.1") && alerts.first?.report.verdict == .mining)
        #expect(rule.review(v.reports()).alerts.isEmpty)  // the same verdicts again are not news
        #expect(rule.flaggedCount(held: { _ in true }) == 61)  // 61 miners; the pool is listed, not flagged
    }

    @Test func formats() {
        #expect(Format.hashrate(2100) == "2.1 kH/s")
        #expect(Format.duration(720) == "12 min")
    }
}

@Suite struct MemoryBoundTests {
    @Test func sessionsPerHostAreBoundedButHistoryIsNotForgotten() {
        var v = HostVerdicts()
        var s = StratumSummary()
        s.shape = .twoSided
        s.minerSide = .a
        s.dialect = .cryptonote
        let n = HostLimits().maxSessionsPerHost + 10
        for i in 0..<n {
            v.add(
                SessionRecord(
                    miner: IPAddress("10.0.0.1")!, minerPort: UInt16(1000 + i % 60000), pool: IPAddress("192.0.2.1")!,
                    poolPort: 3333,
                    vlanID: 0, summary: s, flowFirstSeen: Timestamp(seconds: Int64(100 + i)),
                    flowLastSeen: Timestamp(seconds: Int64(101 + i)),
                    minerBytes: 1, poolBytes: 1, endReason: .closed))
        }
        #expect(v.sessionsRetired == 20)  // 10 as miner, 10 as pool
        let miner = v.reports().first { $0.host == IPAddress("10.0.0.1")! }!
        #expect(miner.minerSessions.count == HostLimits().maxSessionsPerHost)
        #expect(miner.firstSeen == Timestamp(seconds: 100))
        #expect(miner.reasonTexts.last?.contains("10 earlier sessions") == true)
    }
}

/// The host table under a spoofed-source flood: bounded, and never at a real miner's expense.
@Suite struct HostTableCapTests {
    func weak(_ i: Int) -> SessionRecord {
        record(miner: "100.0.\(i / 256).\(i % 256)", pool: "198.51.100.9", shape: .minerOnly) {
            $0.minerMethods = ["mining.subscribe"]
        }
    }

    /// A table of 100 hosts after 1000 spoofed weak ones.
    func floodedWithWeakHosts() -> HostVerdicts {
        var limits = HostLimits()
        limits.maxHosts = 100
        var v = HostVerdicts(limits: limits)
        for i in 0..<1000 { v.add(weak(i)) }
        return v
    }

    @Test func weakHostsBeyondTheCapAreRefused() {
        let v = floodedWithWeakHosts()
        #expect(v.hostCount == 100)
        #expect(v.hostsDropped == 900)
    }

    @Test func aRealMinerArrivingAfterTheFloodIsKeptAndWeakHostsMakeRoom() {
        var v = floodedWithWeakHosts()
        v.add(
            record(miner: "10.9.9.9", pool: "198.51.100.1", shape: .twoSided) {
                $0.loginAccepted = true
                $0.sharesAccepted = 3
            })
        let r = v.reports()
        #expect(r.first { $0.host == IPAddress("10.9.9.9") }?.verdict == .mining)
        #expect(r.first { $0.host == IPAddress("198.51.100.1") }?.verdict == .pool)
        #expect(v.hostCount == 100)
        #expect(v.hostsEvicted == 2)
    }

    /// A flood of forged likely-mining (even two-sided) sessions fills the table; a real miner that
    /// arrives afterwards, and one that keeps mining through the flood, are both still there.
    @Test func aFloodOfForgedMinersCannotKeepARealOneOut() {
        var limits = HostLimits()
        limits.maxHosts = 50
        var v = HostVerdicts(limits: limits)
        v.add(record(miner: "10.9.9.1", pool: "198.51.100.1", shape: .twoSided) { $0.loginAccepted = true })
        for i in 0..<2000 {
            v.add(
                record(
                    miner: "100.0.\(i / 256).\(i % 256)", pool: "198.51.100.9",
                    shape: i % 2 == 0 ? .minerOnly : .twoSided
                ) {
                    $0.software = "XMRig/6"
                    $0.minerMethods = ["login"]
                })
            // the real miner keeps mining while the flood goes on
            if i % 10 == 0 {
                v.add(record(miner: "10.9.9.1", pool: "198.51.100.1", shape: .twoSided) { $0.loginAccepted = true })
            }
        }
        v.add(
            record(miner: "10.9.9.2", pool: "198.51.100.1", shape: .twoSided) {
                $0.loginAccepted = true
                $0.sharesAccepted = 1
            })
        let verdicts = Dictionary(uniqueKeysWithValues: v.reports().map { ($0.host, $0.verdict) })
        #expect(verdicts[IPAddress("10.9.9.1")!] == .mining)
        #expect(verdicts[IPAddress("10.9.9.2")!] == .mining)
        #expect(v.hostCount == 50)
        #expect(v.hostsEvicted > 0)
        // What changed is remembered for held hosts only: an offline run never takes the set, and it
        // must not grow with every host the flood churned through (2000 before the fix).
        #expect(v.takeChanged().count <= 50)
    }

    @Test func sessionsAcrossHostsAreCappedAndRetiredOnesGoToTheStore() {
        var limits = HostLimits()
        limits.maxSessions = 50
        var v = HostVerdicts(limits: limits)
        v.collectRetired = true
        for i in 0..<500 {
            v.add(login(miner: "10.0.0.\(i % 5)", port: 1000 + i))
        }
        let kept = v.reports().reduce(0) { $0 + $1.minerSessions.count }
        #expect(kept <= 50 + 5)
        #expect(kept + v.drainRetired().count == 500, "every session is either in memory or handed to the store")
    }

    /// Sessions retired for the store wait within a byte bound between two commits (a commit writes
    /// them as documents); the ones past it are counted as not stored, none silently lost.
    @Test func retiredSessionsWaitWithinTheirByteBound() {
        var limits = HostLimits()
        limits.maxSessionsPerHost = 4
        limits.maxRetiredBytes = 64 * 1024
        var v = HostVerdicts(limits: limits)
        v.collectRetired = true
        for i in 0..<400 {
            v.add(login(miner: "10.0.3.1", port: 1000 + i, software: "XMRig/6 " + String(repeating: "w", count: 200)))
        }
        let waiting = v.drainRetired()
        #expect(waiting.reduce(0) { $0 + HostVerdicts.cost($1) } <= limits.maxRetiredBytes)
        #expect(!waiting.isEmpty && waiting.count + v.retiredLost == 396)
    }

    /// A snapshot keeps the most serious reports within its byte bound (at least one); the rest wait.
    @Test func aSnapshotStaysWithinItsBytes() {
        var v = HostVerdicts()
        for i in 1...40 {
            for j in 0..<20 {
                v.add(login(miner: "10.0.4.\(i)", port: 1000 + j))
            }
        }
        let hosts = Set((1...40).map { IPAddress("10.0.4.\($0)")! })
        let all = v.reports()
        let one = all[0].memoryCost
        let (kept, deferred) = HostVerdicts.mostSerious(hosts, limit: 1024, maxBytes: one * 10) { part in
            all.filter { part.contains($0.host) }
        }
        #expect(kept.count == 10 && deferred.count == 30)
        #expect(kept.map(\.host) == all.prefix(10).map(\.host))
        let (none, _) = HostVerdicts.mostSerious(hosts, limit: 1024, maxBytes: 1) { part in
            all.filter { part.contains($0.host) }
        }
        #expect(none.count == 1, "one report always goes")
    }

    /// Counts alone do not bound memory: sessions whose wire strings are as long as the decoder keeps
    /// them, and evidence with long names. The table's bytes stay within its budget — the oldest
    /// sessions retire, then records are refused — and every session still reaches the store.
    @Test func theTableStaysWithinItsByteBudget() {
        var limits = HostLimits()
        limits.maxBytes = 256 * 1024
        var v = HostVerdicts(limits: limits)
        v.collectRetired = true
        let long = String(repeating: "w", count: 250)
        for i in 0..<400 {
            v.add(
                login(miner: "10.0.1.\(i % 8)", port: 1000 + i, software: "XMRig/6 " + long) {
                    $0.workers = (0..<16).map { "\($0)" + long }
                })
            #expect(
                v.bytesHeld <= limits.maxBytes + 8 * 1024, "one session's worth over at most, before it retires others")
        }
        #expect(v.bytesHeld <= limits.maxBytes)
        #expect(v.memoryCapHits > 0)
        let kept = v.reports().reduce(0) { $0 + $1.minerSessions.count }
        #expect(kept < 100 && kept + v.drainRetired().count == 400)
        // Evidence past the budget is refused and counted, not kept.
        for i in 0..<400 {
            v.add(
                Evidence(
                    kind: .dnsPoolLookup, host: IPAddress("10.0.2.\(i % 200)")!, peer: nil, peerPort: 0,
                    name: "\(i).\(long).example", pool: nil, first: .zero, last: .zero))
        }
        #expect(v.bytesHeld <= limits.maxBytes)
        #expect(v.evidenceDropped > 0)
    }
}
