import Testing
@testable import Pipeline
import PacketDecoding
import TrafficGen
import PoolIntel
import Detection

/// A live sensor's commits: each snapshot re-judges only the hosts whose flows moved, looking at
/// only those flows (not the whole table), and still sees open sessions.
@Suite struct SnapshotTests {
    func feed(_ a: Analyzer, _ frames: ArraySlice<(time: Timestamp, frame: [UInt8])>) {
        for f in frames { f.frame.withUnsafeBytes { a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count) } }
    }

    @Test func onlyMovedHostsAreRejudged() {
        let t0 = Timestamp(seconds: 1_732_000_000)
        var busy = Conversation(client: "10.5.0.1", clientPort: 40001, server: "198.51.100.1", serverPort: 3333, start: t0)
        busy.handshake()
        busy.cryptoNoteMining(shares: 1, interval: 1)
        var idle = Conversation(client: "10.5.0.2", clientPort: 40002, server: "198.51.100.2", serverPort: 3333, start: t0)
        idle.handshake()
        idle.cryptoNoteMining(shares: 1, interval: 1)
        let a = Analyzer()
        feed(a, busy.frames[...])
        feed(a, idle.frames[...])
        // The first snapshot looks at everything open: both miners, mid-session.
        let first = a.snapshotChanges()
        #expect(Set(first.filter { $0.verdict == .mining }.map(\.host)) == [IPAddress("10.5.0.1")!, IPAddress("10.5.0.2")!])
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
}

/// The encrypted Stratum V2 shape (a 64-byte Noise hello before the server speaks) is recognised
/// whatever the segmentation, and only toward a server already known as a pool.
@Suite struct NoiseShapeTests {
    func run(_ hello: [UInt8], plan: SegmentPlan) -> [Evidence.Kind] {
        var intel = PoolIntelligence(builtin: false)
        intel.add(poolList: "198.51.100.90:3336\n", name: "test")
        let a = Analyzer(intel: intel)
        var c = Conversation(client: "10.6.0.1", clientPort: 41000, server: "198.51.100.90", serverPort: 3336, start: Timestamp(seconds: 1_732_000_000))
        c.handshake()
        c.send(.client, hello, plan: plan)
        c.send(.server, [UInt8](repeating: 0x5A, count: 170))
        for i in 0..<12 { c.send(.server, [UInt8](repeating: UInt8(i), count: 90), after: 30); c.send(.client, [UInt8](repeating: 1, count: 60)) }
        c.close()
        for f in c.frames { f.frame.withUnsafeBytes { a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count) } }
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
}
