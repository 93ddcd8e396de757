import Foundation
import PacketDecoding
import Testing

@testable import Detection

/// A seeded generator: every run draws the same traffic.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Draws a flow's encrypted messages as (seconds, from client, bytes) and runs them through the model.
struct Traffic {
    var rng = SplitMix(state: 42)
    var events: [(Double, Bool, Int)] = []

    mutating func exponential(_ mean: Double) -> Double { -mean * log1p(-Double.random(in: 0..<1, using: &rng)) }

    /// Server messages at `interval()` seconds apart, sized `size()`.
    mutating func pushes(until end: Double, interval: (inout Traffic) -> Double, size: (inout Traffic) -> Int) {
        var t = 1.0
        while t < end {
            events.append((t, false, size(&self)))
            t += interval(&self)
        }
    }

    /// Client messages, each answered after `answerAfter` seconds (nil: unanswered).
    mutating func sends(
        until end: Double, interval: (inout Traffic) -> Double, size: (inout Traffic) -> Int, answerAfter: Double? = 0.1
    ) {
        var t = 2.0
        while t < end {
            events.append((t, true, size(&self)))
            if let a = answerAfter { events.append((t + a, false, 40)) }
            t += interval(&self)
        }
    }

    func run() -> ExchangeCadence {
        var c = ExchangeCadence()
        for (t, client, bytes) in events.sorted(by: { $0.0 < $1.0 }) {
            c.record(fromClient: client, bytes: bytes, at: Timestamp(nanoseconds: Int64(t * 1e9)))
        }
        return c
    }
}

@Suite struct CadenceTests {
    /// Jobs every 20–60 s of about one size; shares at random (mean `share` s), one size, each answered
    /// by a 40-byte acknowledgement.
    func miner(
        minutes: Double = 10, share: Double = 15, sendSize: @escaping (inout Traffic) -> Int = { _ in 180 }
    ) -> Traffic {
        var t = Traffic()
        t.pushes(
            until: minutes * 60, interval: { Double.random(in: 20...60, using: &$0.rng) },
            size: { Int.random(in: 480...540, using: &$0.rng) })
        t.sends(until: minutes * 60, interval: { $0.exponential(share) }, size: sendSize)
        return t
    }

    @Test func aMiningSessionsShapeMeetsEveryTest() {
        let c = miner().run()
        let m = c.summary
        #expect(m.failedTests == [])
        #expect(m.pushes >= 10 && m.sends >= 20)
        #expect(m.sendIntervals.variation > 0.6)
        #expect(m.answeredSends >= m.sends * 3 / 4)
        #expect(m.repliedPushes <= 1)
        #expect(!c.isBulk)
    }

    @Test func cyclesNotMinutes() {
        // Three minutes of shares every 10 s on average hold enough exchanges; one minute does not.
        #expect(miner(minutes: 3, share: 10).run().summary.looksLikeMining)
        #expect(miner(minutes: 1, share: 10).run().summary.failedTests.contains(.cycles))
    }

    @Test func aHostsSessionsToOneServerAddUp() {
        // A miner that reconnects every 50 s: no session alone has the cycles, together they do.
        var alone: [CadenceMeasures] = []
        for i in 0..<4 {
            var t = Traffic(rng: SplitMix(state: UInt64(i + 1)))
            t.pushes(until: 50, interval: { Double.random(in: 15...25, using: &$0.rng) }, size: { _ in 500 })
            t.sends(until: 50, interval: { $0.exponential(8) }, size: { _ in 180 })
            alone.append(t.run().summary)
        }
        let together = alone.dropFirst().reduce(into: alone[0]) { $0.merge($1) }
        #expect(alone.allSatisfy { !$0.looksLikeMining })
        #expect(together.flows == 4)
        #expect(together.looksLikeMining, "\(together.failedTests)")
        // Order does not matter: sums are exact.
        let reversed = alone.dropLast().reversed().reduce(into: alone[3]) { $0.merge($1) }
        #expect(reversed == together)
    }

    @Test func aClientOnAClockIsNotMining() {
        // MQTT / WebSocket / gRPC keepalive: the server pushes, the client pings every 30 s exactly.
        var t = Traffic()
        t.pushes(until: 600, interval: { Double.random(in: 20...60, using: &$0.rng) }, size: { _ in 300 })
        t.sends(until: 600, interval: { _ in 30 }, size: { _ in 80 })
        #expect(t.run().summary.failedTests.contains(.sendTiming))
    }

    @Test func messagesOfEverySizeAreNotMining() {
        // A chat: the same timing as a miner, messages of any length.
        let m = miner(sendSize: { Int.random(in: 30...600, using: &$0.rng) }).run().summary
        #expect(m.failedTests == [.sendSize])
    }

    @Test func acknowledgedPushesAreNotMining() {
        // A broker's QoS 1 delivery: every push acknowledged by the client (a miner never answers a job).
        var t = miner()
        let pushes = t.events.filter { !$0.1 && $0.2 >= 480 }
        for (time, _, _) in pushes { t.events.append((time + 0.05, true, 30)) }
        #expect(t.run().summary.failedTests.contains(.pushesReplied))
    }

    @Test func pushesOfEverySizeAreNotMining() {
        var t = Traffic()
        t.pushes(
            until: 600, interval: { Double.random(in: 20...60, using: &$0.rng) },
            size: { Int.random(in: 100...2000, using: &$0.rng) })
        t.sends(until: 600, interval: { $0.exponential(15) }, size: { _ in 180 })
        #expect(t.run().summary.failedTests == [.pushSize])
    }

    @Test func longAnswersToShortAsksAreNotMining() {
        // A poller with a server that also pushes: each short question gets a long answer.
        var t = Traffic()
        t.pushes(until: 600, interval: { Double.random(in: 20...60, using: &$0.rng) }, size: { _ in 500 })
        t.sends(until: 600, interval: { $0.exponential(15) }, size: { _ in 90 }, answerAfter: 0.1)
        t.events = t.events.map { $0.1 || $0.2 != 40 ? $0 : ($0.0, false, 900) }
        #expect(t.run().summary.failedTests.contains(.answerSize))
    }

    @Test func pushesAloneOrAsksAloneAreNotMining() {
        var imap = Traffic()  // IMAP IDLE: the server's "still here" every 2 min, nothing from the client
        imap.pushes(until: 1800, interval: { _ in 120 }, size: { _ in 40 })
        #expect(!imap.run().summary.isCandidate)
        var poller = Traffic()  // a status page polled at random times: answers, no pushes
        poller.sends(
            until: 1800, interval: { Double.random(in: 15...60, using: &$0.rng) }, size: { _ in 120 }, answerAfter: 0.05
        )
        #expect(!poller.run().summary.isCandidate)
    }

    @Test func unansweredSendsAreNotMining() {
        var t = Traffic()
        t.pushes(until: 600, interval: { Double.random(in: 20...60, using: &$0.rng) }, size: { _ in 500 })
        t.sends(until: 600, interval: { $0.exponential(15) }, size: { _ in 180 }, answerAfter: nil)
        #expect(!t.run().summary.looksLikeMining)
    }

    @Test func bulkTransferStopsTheWatch() {
        var c = ExchangeCadence()
        for i in 0..<40 { c.record(fromClient: false, bytes: 16_384, at: Timestamp(nanoseconds: Int64(i) * 1_000_000)) }
        #expect(c.isBulk)
    }

    @Test func hostileSumsSaturate() {
        var s = CadenceSeries()
        s.add(Int.max)
        s.add(Int.max)
        #expect(s.sum == Int.max)
        #expect(s.variation.isFinite)
    }
}

/// Measured flows that did not behave like mining are context: bounded, and never at the cost of evidence.
@Suite struct MeasuredEvidenceTests {
    func measured(_ host: String, peer: String) -> Evidence {
        var e = Evidence(
            kind: .tlsMiningCadence, host: IPAddress(host)!, peer: IPAddress(peer)!, peerPort: 443, name: nil,
            pool: nil, first: Timestamp(seconds: 1), last: Timestamp(seconds: 60))
        var t = Traffic()
        t.pushes(until: 60, interval: { _ in 20 }, size: { _ in 500 })
        t.sends(until: 60, interval: { _ in 30 }, size: { _ in 180 })
        e.details.cadence = t.run().summary
        return e
    }

    @Test func atMostSixteenPerHostAndEvidenceStillComes() {
        var v = HostVerdicts()
        for i in 0..<40 { v.add(measured("10.0.0.5", peer: "203.0.113.\(i + 1)")) }
        let lookup = Evidence(
            kind: .dnsPoolLookup, host: IPAddress("10.0.0.5")!, peer: nil, peerPort: 53, name: "pool.supportxmr.com",
            pool: nil, first: Timestamp(seconds: 2), last: Timestamp(seconds: 2))
        #expect(v.add(lookup) == .new)
        let report = v.reports(unflagged: true).first { $0.host == IPAddress("10.0.0.5")! }
        #expect(report?.evidence.filter { $0.kind == .tlsMiningCadence }.count == HostLimits().maxMeasuredPerHost)
        #expect(report?.verdict == .suspicious)
        #expect(v.evidenceDropped == 0)
    }

    @Test func measurementsNeverTakeAnotherHostsPlace() {
        var limits = HostLimits()
        limits.maxHosts = 2
        var v = HostVerdicts(limits: limits)
        let lookup = { (host: String) in
            Evidence(
                kind: .dnsPoolLookup, host: IPAddress(host)!, peer: nil, peerPort: 53, name: "pool.supportxmr.com",
                pool: nil, first: Timestamp(seconds: 2), last: Timestamp(seconds: 2))
        }
        v.add(measured("10.0.0.1", peer: "203.0.113.1"))
        v.add(lookup("10.0.0.2"))
        // The table is full: a measured newcomer is refused, a suspicious one takes the measured host's place.
        #expect(v.add(measured("10.0.0.3", peer: "203.0.113.3")) == .refused)
        #expect(v.add(lookup("10.0.0.4")) == .new)
        #expect(!v.holds(IPAddress("10.0.0.1")!) && v.holds(IPAddress("10.0.0.2")!) && v.holds(IPAddress("10.0.0.4")!))
    }
}
