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

/// `--max-memory` divides: the fixed part, then the flow table, then the three budgets in fixed shares.
@Suite struct MemoryPlanTests {
    @Test func theDefaultsAreThePlanOf256MiB() {
        let l = Limits()
        let plan = MemoryPlan(total: 256 << 20, maxFlows: 131_072)
        #expect(l.reassembly.maxFlows == 131_072)
        #expect(l.reassembly.maxReassemblyMemory == plan.reassembly)
        #expect(l.reassembly.maxDecoderMemory == plan.decoder)
        #expect(l.hosts.maxBytes == plan.hostTable)
        // Every byte of the total is given out once.
        #expect(MemoryPlan.fixed + plan.flowTable + plan.reassembly + plan.decoder + plan.hostTable == 256 << 20)
        #expect(plan.decoder > plan.reassembly && plan.reassembly > 20 << 20)
    }

    @Test func moreFlowsLeaveLessForTheBudgetsAndTooManyAreRefused() throws {
        let small = MemoryPlan(total: 256 << 20, maxFlows: 65_536)
        let large = MemoryPlan(total: 256 << 20, maxFlows: 200_000)
        #expect(small.decoder > large.decoder)
        try small.check()
        let refused = MemoryPlan(total: 256 << 20, maxFlows: 400_000)
        #expect(throws: MemoryPlan.TooSmall.self) { try refused.check() }
        #expect(
            "\(MemoryPlan.TooSmall(plan: refused))"
                == "--max-memory 256 MiB is too small for --max-flows 400000: the flow table alone takes 228 MiB; raise --max-memory to at least 349 or lower --max-flows"
        )
        // The way out it names works.
        try MemoryPlan(total: 349 << 20, maxFlows: 400_000).check()
        // A flow cap beyond any memory is refused, not overflowed.
        #expect(throws: MemoryPlan.TooSmall.self) { try MemoryPlan(total: 1 << 40, maxFlows: Int.max).check() }
    }
}
