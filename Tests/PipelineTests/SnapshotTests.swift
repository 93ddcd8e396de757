import Detection
import PacketDecoding
import PoolIntel
import Testing
import TrafficGen

@testable import Pipeline

/// A live sensor's commits: each snapshot re-judges only the hosts whose flows moved, looking at
/// only those flows (not the whole table), and still sees open sessions.
@Suite struct SnapshotTests {
    func feed(_ a: PacketPipeline, _ frames: ArraySlice<(time: Timestamp, frame: [UInt8])>) {
        for f in frames {
            f.frame.withUnsafeBytes {
                a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
            }
        }
    }

    @Test func onlyMovedHostsAreRejudged() {
        let t0 = Timestamp(seconds: 1_732_000_000)
        var busy = Conversation(
            client: "10.5.0.1", clientPort: 40001, server: "198.51.100.1", serverPort: 3333, start: t0)
        busy.handshake()
        busy.cryptoNoteMining(shares: 1, interval: 1)
        var idle = Conversation(
            client: "10.5.0.2", clientPort: 40002, server: "198.51.100.2", serverPort: 3333, start: t0)
        idle.handshake()
        idle.cryptoNoteMining(shares: 1, interval: 1)
        let a = PacketPipeline()
        feed(a, busy.frames[...])
        feed(a, idle.frames[...])
        // The first snapshot looks at everything open: both miners, mid-session.
        let first = a.snapshotChanges()
        #expect(
            Set(first.filter { $0.verdict == .mining }.map(\.host)) == [IPAddress("10.5.0.1")!, IPAddress("10.5.0.2")!])
        // Nothing moved: nothing to re-judge.
        #expect(a.snapshotChanges().isEmpty)
        // One more share on the busy flow: only its two hosts come back, with the share counted.
        let before = busy.frames.count
        busy.send(.client, Messages.cnSubmit(id: 9, job: 1, nonce: 9), after: 1)
        busy.send(.server, Messages.cnOK(id: 9))
        feed(a, busy.frames[before...])
        let next = a.snapshotChanges()
        #expect(Set(next.map(\.host)) == [IPAddress("10.5.0.1")!, IPAddress("198.51.100.1")!])
        #expect(next.first { $0.host == IPAddress("10.5.0.1") }?.minerSessions.first?.summary.sharesAccepted == 2)
    }

    /// A miner mid-session is tracked (the `stratumsniff_hosts` gauge and the flagged count filter by
    /// `holds`): its session has not ended, so the host table has nothing of it yet, but its open flow
    /// is indexed once snapshots run.
    @Test func aMinerMidSessionIsHeld() {
        var miner = Conversation(
            client: "10.5.0.7", clientPort: 40007, server: "198.51.100.7", serverPort: 3333,
            start: Timestamp(seconds: 1_732_000_000))
        miner.handshake()
        miner.cryptoNoteMining(shares: 2, interval: 1)
        let a = PacketPipeline()
        feed(a, miner.frames[...])
        let reports = a.snapshotChanges()
        #expect(reports.contains { $0.host == IPAddress("10.5.0.7") && $0.verdict == .mining })
        #expect(a.holds(IPAddress("10.5.0.7")!) && a.holds(IPAddress("198.51.100.7")!))
        #expect(!a.holds(IPAddress("10.5.0.8")!))
    }
}

/// A flood that changes more hosts than one snapshot reports: the most serious come first, the rest
/// in the snapshots after, none lost and none twice.
@Suite struct BoundedSnapshotTests {
    @Test func aSnapshotReportsAtMostItsLimitMostSeriousFirst() {
        var limits = Limits()
        limits.hosts.maxReportsPerSnapshot = 2
        let a = PacketPipeline(limits: limits)
        for i in 1...4 {
            var c = Conversation(
                client: "10.5.0.\(i)", clientPort: 40000 + UInt16(i), server: "198.51.100.\(i)", serverPort: 3333,
                start: Timestamp(seconds: 1_732_000_000))
            c.handshake()
            c.cryptoNoteMining(shares: 2, interval: 1)
            for f in c.frames {
                f.frame.withUnsafeBytes {
                    a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
                }
            }
        }
        var snapshots: [[HostReport]] = []
        while true {
            let s = a.snapshotChanges()
            if s.isEmpty { break }
            snapshots.append(s)
            if snapshots.count > 10 { break }
        }
        #expect(snapshots.map(\.count) == [2, 2, 2, 2])
        // Miners (the most serious verdict) before pools; within a verdict, by address.
        #expect(
            snapshots.map { $0.map(\.verdict) } == [
                [.mining, .mining], [.mining, .mining], [.pool, .pool], [.pool, .pool]
            ])
        let order = snapshots.flatMap { $0.map(\.host.description) }
        #expect(
            order == [
                "10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4", "198.51.100.1", "198.51.100.2", "198.51.100.3",
                "198.51.100.4"
            ])
    }
}

/// A host with several open flows keeps all of them in the index as flows come and go.
@Suite struct OpenFlowIndexTests {
    @Test func aHostsOtherOpenFlowsStayInItsSnapshot() {
        let t0 = Timestamp(seconds: 1_732_000_000)
        var a = Conversation(
            client: "10.7.0.1", clientPort: 40001, server: "198.51.100.11", serverPort: 3333, start: t0)
        var b = Conversation(
            client: "10.7.0.1", clientPort: 40002, server: "198.51.100.12", serverPort: 3333, start: t0)
        var c = Conversation(
            client: "10.7.0.1", clientPort: 40003, server: "198.51.100.13", serverPort: 3333, start: t0)
        for i in [0, 1, 2] {
            switch i {
            case 0:
                a.handshake()
                a.cryptoNoteMining(shares: 1, interval: 1)
            case 1:
                b.handshake()
                b.cryptoNoteMining(shares: 1, interval: 1)
            default:
                c.handshake()
                c.cryptoNoteMining(shares: 1, interval: 1)
            }
        }
        let analyzer = PacketPipeline()
        func feed(_ frames: ArraySlice<(time: Timestamp, frame: [UInt8])>) {
            for f in frames {
                f.frame.withUnsafeBytes {
                    analyzer.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
                }
            }
        }
        feed(a.frames[...])
        feed(b.frames[...])
        feed(c.frames[...])
        #expect(analyzer.snapshotChanges().first { $0.host == IPAddress("10.7.0.1") }?.minerSessions.count == 3)
        // b ends (and leaves the table after its linger); a moves on; c sits idle but is still open.
        let (nb, na) = (b.frames.count, a.frames.count)
        b.close()
        feed(b.frames[nb...])
        a.send(.client, Messages.cnSubmit(id: 9, job: 1, nonce: 9), after: 10)
        a.send(.server, Messages.cnOK(id: 9))
        feed(a.frames[na...])
        let report = analyzer.snapshotChanges().first { $0.host == IPAddress("10.7.0.1") }
        #expect(report?.minerSessions.count == 3)  // a (open, moved), b (ended), c (open, idle)
        #expect(report?.minerSessions.reduce(0) { $0 + $1.summary.sharesAccepted } == 4)
    }
}

/// The encrypted Stratum V2 shape — a 64-byte Noise hello before the server speaks, then the
/// server's 234-byte answer before the client speaks again — whatever the segmentation. The hello
/// alone counts only toward a server already known as a pool; hello and answer count on their own.
@Suite struct NoiseShapeTests {
    func run(
        _ hello: [UInt8], plan: SegmentPlan, answer: Int = 170, answerPlan: SegmentPlan = SegmentPlan(),
        listed: Bool = true
    ) -> [Evidence.Kind] {
        var intel = PoolIntelligence(builtin: false)
        if listed { intel.add(poolList: "198.51.100.90:3336\n", name: "test") }
        let a = PacketPipeline(intel: intel)
        var c = Conversation(
            client: "10.6.0.1", clientPort: 41000, server: "198.51.100.90", serverPort: 3336,
            start: Timestamp(seconds: 1_732_000_000))
        c.handshake()
        c.send(.client, hello, plan: plan)
        c.send(.server, [UInt8](repeating: 0x5A, count: answer), plan: answerPlan)
        for i in 0..<12 {
            c.send(.client, [UInt8](repeating: 1, count: 60), after: 1)
            c.send(.server, [UInt8](repeating: UInt8(i), count: 90), after: 30)
        }
        c.close()
        for f in c.frames {
            f.frame.withUnsafeBytes {
                a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
            }
        }
        return a.finish().first { $0.host == IPAddress("10.6.0.1") }?.evidence.map(\.kind) ?? []
    }

    @Test func helloSplitOrWholeIsTheShape() {
        let hello = [UInt8](repeating: 0xA7, count: 64)
        #expect(run(hello, plan: SegmentPlan()) == [.stratumV2Encrypted])
        #expect(run(hello, plan: SegmentPlan(sizes: [20, 44])) == [.stratumV2Encrypted])
        #expect(run(hello, plan: SegmentPlan(sizes: [1])) == [.stratumV2Encrypted])
        // Not 64 bytes before the server speaks: not this shape (only a connection to a listed address).
        #expect(run([UInt8](repeating: 0xA7, count: 70), plan: SegmentPlan()) == [.connectionToPool])
    }

    @Test func helloAndAnswerAreTheShapeOnTheirOwn() {
        let hello = [UInt8](repeating: 0xA7, count: 64)
        // No list names the server: the reference implementation's 234-byte answer, in any segments.
        #expect(run(hello, plan: SegmentPlan(sizes: [10]), answer: 234, listed: false) == [.stratumV2Encrypted])
        #expect(
            run(hello, plan: SegmentPlan(), answer: 234, answerPlan: SegmentPlan(sizes: [100, 34, 7]), listed: false)
                == [.stratumV2Encrypted])
        // One byte off either way, or the hello alone: nothing without a pool name.
        #expect(run(hello, plan: SegmentPlan(), answer: 233, listed: false) == [])
        #expect(run(hello, plan: SegmentPlan(), answer: 235, listed: false) == [])
        #expect(run([UInt8](repeating: 0xA7, count: 63), plan: SegmentPlan(), answer: 234, listed: false) == [])
    }
}
