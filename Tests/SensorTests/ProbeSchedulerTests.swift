import PacketDecoding
import PoolIntel
import ProbeClient
import Probing
import Testing

@testable import Detection
@testable import Sensor

/// The probe's limits, with the network and the clock replaced: each test fails when its rule goes.
@Suite struct ProbeSchedulerTests {
    final class Fake {
        var asked: [String] = []
        var now = 1_000_000.0
        var slept = 0.0
        var answer: (String, UInt16) -> ProbeConclusion = { _, _ in .pool(PoolAnswer(dialect: .cryptonote)) }

        func scheduler(_ policy: ProbePolicy) -> ProbeScheduler {
            ProbeScheduler(
                policy: policy, clock: { self.now },
                sleep: {
                    self.slept += $0
                    self.now += $0
                },
                exchange: { host, port, _ in
                    self.asked.append("\(host):\(port)")
                    var r = ProbeResult(host: host, port: port, started: self.now)
                    r.address = host
                    r.conclusion = self.answer(host, port)
                    return r
                })
        }
    }

    /// A host whose TLS behaved like mining towards each of `servers`.
    func report(_ host: String, _ servers: [(String, UInt16)]) -> HostReport {
        let evidence = servers.map { s in
            var e = Evidence(
                kind: .tlsMiningCadence, host: IPAddress(host)!, peer: IPAddress(s.0)!, peerPort: s.1, name: nil,
                pool: nil,
                first: Timestamp(seconds: 1), last: Timestamp(seconds: 700))
            e.details.cadence = Self.miningCadence
            return e
        }
        return HostVerdicts.judge(host: IPAddress(host)!, miner: [], pool: [], evidence: evidence)
    }

    /// Measurements that behave like mining: jobs every 40 s, a share every 15 s with its acknowledgement.
    static let miningCadence: CadenceMeasures = {
        var c = ExchangeCadence()
        var events: [(Double, Bool, Int)] = []
        for i in 0..<15 { events.append((Double(i) * 40 + 7, false, 500)) }
        var t = 3.0
        for gap in [9.0, 22, 4, 31, 12, 17, 6, 27, 11, 19, 3, 25, 14, 8, 33, 16, 10, 21] {
            t += gap
            events += [(t, true, 180), (t + 0.05, false, 40)]
        }
        for (time, client, bytes) in events.sorted(by: { $0.0 < $1.0 }) {
            c.record(fromClient: client, bytes: bytes, at: Timestamp(nanoseconds: Int64(time * 1e9)))
        }
        return c.summary
    }()

    @Test func theFixtureBehavesLikeMining() {
        #expect(Self.miningCadence.failedTests == [])
    }

    func block(_ text: String) -> AddressSet {
        var set = AddressSet()
        set.insert(AddressSet.parseBlock(text)!, PoolEntry(kind: .pool, source: "test"))
        return set
    }

    @Test func privateAddressesOnlyWhenAllowedAndDeniedNever() {
        let fake = Fake()
        var policy = ProbePolicy()
        policy.deny = block("198.51.100.0/24")
        let s = fake.scheduler(policy)
        _ = s.probe([
            report(
                "10.0.0.5",
                [
                    ("10.1.2.3", 3333), ("192.168.1.9", 443), ("127.0.0.1", 3333), ("fd00::1", 3333),
                    ("198.51.100.7", 3333), ("203.0.113.9", 443)
                ])
        ])
        #expect(fake.asked == ["203.0.113.9:443"])
        #expect(s.counters.refusedLocal == 4)
        #expect(s.counters.refusedDenied == 1)
        policy.allow = block("10.1.0.0/16")
        let allowed = Fake()
        _ = allowed.scheduler(policy).probe([report("10.0.0.5", [("10.1.2.3", 3333), ("192.168.1.9", 443)])])
        #expect(allowed.asked == ["10.1.2.3:3333"])
    }

    @Test func aFloodOfSuspectServersCostsAtMostTheLimit() {
        let fake = Fake()
        var policy = ProbePolicy()
        policy.maxProbes = 5
        let s = fake.scheduler(policy)
        let many = (0..<200).map { ("203.0.\($0 / 250).\($0 % 250 + 1)", UInt16(3333)) }
        _ = s.probe([report("10.0.0.5", many)])
        #expect(fake.asked.count == 5)
        #expect(s.counters.overLimit == 195)
        // At most perSecond: four waits of half a second between five probes.
        #expect(abs(fake.slept - 2.0) < 0.001)
        // Within the hour nothing more; an hour later the budget is back.
        _ = s.probe([report("10.0.0.6", [("203.0.200.1", 3333)])])
        #expect(fake.asked.count == 5)
        fake.now += 3600
        _ = s.probe([report("10.0.0.6", [("203.0.200.1", 3333)])])
        #expect(fake.asked.count == 6)
    }

    @Test func onePortScanDoesNotBecomeOurs() {
        let fake = Fake()
        let s = fake.scheduler(ProbePolicy())
        _ = s.probe([report("10.0.0.5", (1...20).map { ("203.0.113.9", UInt16(3000 + $0)) })])
        #expect(fake.asked.count == ProbePolicy().maxPortsPerAddress)
    }

    @Test func answersAreRememberedForTheirTTL() {
        let fake = Fake()
        let s = fake.scheduler(ProbePolicy())
        let r = report("10.0.0.5", [("203.0.113.9", 443)])
        let facts = s.probe([r, report("10.0.0.6", [("203.0.113.9", 443)])])
        #expect(fake.asked.count == 1)
        #expect(facts[IPAddress("203.0.113.9")!, 443]?.answer == .pool)
        _ = s.probe([r])
        #expect(fake.asked.count == 1)
        #expect(s.counters.cached == 1)
        fake.now += ProbePolicy().ttl + 1
        _ = s.probe([r])
        #expect(fake.asked.count == 2)
    }

    @Test func silenceAndRefusalsDecideNothing() {
        let fake = Fake()
        fake.answer = { host, _ in
            host.hasSuffix(".1") ? .notPool(ServerReply(.silence)) : .unconfirmed("error: invalid address")
        }
        let s = fake.scheduler(ProbePolicy())
        let facts = s.probe([report("10.0.0.5", [("203.0.113.1", 443), ("203.0.113.2", 443)])])
        #expect(facts.isEmpty)
        #expect(s.counters.undecided == 2)
    }

    @Test func aPoolConfirmsAndAnHTTPServerWithdraws() {
        let fake = Fake()
        fake.answer = { host, _ in
            host.hasSuffix(".1")
                ? .pool(PoolAnswer(dialect: .cryptonote)) : .notPool(ServerReply(.http, "HTTP/1.1 400 Bad Request"))
        }
        let s = fake.scheduler(ProbePolicy())
        let miner = report("10.0.0.5", [("203.0.113.1", 443)])
        let chat = report("10.0.0.6", [("203.0.113.2", 443)])
        let facts = s.probe([miner, chat])
        let confirmed = miner.rejudged(with: facts)
        let cleared = chat.rejudged(with: facts)
        #expect(confirmed.verdict == .mining)
        #expect(confirmed.evidence.contains { $0.kind == .probedPool })
        #expect(cleared.verdict == .none)
        #expect(cleared.reasons.contains { if case .withdrawn = $0 { true } else { false } })
    }
}
