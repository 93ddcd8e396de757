import Detection
import PacketDecoding
import Testing
import TrafficGen

@testable import Pipeline

/// A live worker publishes what its open flows show to the shared table: those copies are memory
/// too, charged to the decoder budget with the flow's analyzer, or a flood of one-packet miners would
/// hold them outside every budget.
@Suite struct PublishedFindingsTests {
    @Test func publishedCopiesAreChargedToTheDecoderBudget() {
        var limits = Limits()
        // Room for the 600 logins' analyzers (1 KiB each), not for their published copies as well.
        limits.reassembly.maxDecoderMemory = 1024 * 1024
        let shared = SharedVerdicts(policy: ScoringPolicy(), limits: limits.hosts)
        let a = PacketPipeline(limits: limits, shared: shared)
        let t0 = Timestamp(seconds: 1_732_000_000)
        for i in 0..<600 {
            var c = Conversation(
                client: "10.8.\(i / 200).\(i % 200 + 1)", clientPort: 40000, server: "198.51.100.9",
                serverPort: 3333, start: t0.adding(seconds: Double(i) / 1000))
            c.handshake()
            c.send(.client, Messages.xmrigLogin())
            for f in c.frames {
                f.frame.withUnsafeBytes {
                    a.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
                }
            }
        }
        #expect(a.statistics.reassembly.decoderMemoryCapHits == 0, "the analyzers alone fit")
        a.publishOpenFindings()
        let s = a.statistics.reassembly
        #expect(s.decoderMemoryCapHits > 0)
        #expect(s.decoderMemory <= limits.reassembly.maxDecoderMemory)
        #expect(a.openFlows < 600)
        // The flows that made room ended: their sessions are in the table, the others still published.
        let miners = Set(shared.snapshotChanges(localNets: nil).filter { $0.verdict.isMiner }.map(\.host))
        #expect(miners.count == 600)
    }
}
