import PacketDecoding
import Pipeline
import Testing
import TrafficGen

/// What a TLS flow keeps after its handshake (the analyzer, the parsed ClientHello) is charged to the
/// decoder memory budget: finished handshakes held open reach the budget like buffered bytes do.
/// Before, only the record buffers counted — released when the handshake ends — so a flood of
/// finished handshakes held 2.4 KB a flow against nothing charged.
struct DecoderBudgetTests {
    /// `count` TLS 1.3 handshakes (ClientHello, ServerHello), every connection left open.
    static func handshakes(_ count: Int, into analyzer: PacketPipeline) {
        for i in 0..<count {
            let client = "10.9.\(i / 250).\(i % 250 + 1)"
            var c = Conversation(
                client: client, clientPort: 41_000, server: "198.51.100.7", serverPort: 443,
                start: Timestamp(seconds: 1_732_000_000).adding(seconds: Double(i) * 0.001))
            c.handshake()
            c.send(.client, Wire.clientHello(sni: "www.example.org"))
            c.send(.server, Wire.serverHello13())
            for f in c.frames {
                f.frame.withUnsafeBytes {
                    analyzer.process(time: f.time, linkType: .ethernet, frame: $0, originalLength: $0.count)
                }
            }
        }
    }

    @Test func finishedHandshakesHeldOpenAreChargedAndBounded() {
        var limits = Limits()
        limits.reassembly.maxDecoderMemory = 1 << 20
        let analyzer = PacketPipeline(limits: limits)
        Self.handshakes(3000, into: analyzer)
        let stats = analyzer.finishInput().stats
        // 3000 flows × ≥ 700 B is past 1 MiB: the least recently active flows make room.
        #expect(stats.anomalies[.decoderMemoryCap] > 0, "no flow was evicted for the decoder budget")
        #expect(
            stats.reassembly.peakFlows < 3000 && stats.reassembly.peakFlows > 500,
            "peak flows \(stats.reassembly.peakFlows)")
    }

    @Test func ordinaryNumbersOfHandshakesAreUntouched() {
        let analyzer = PacketPipeline()
        Self.handshakes(3000, into: analyzer)
        let stats = analyzer.finishInput().stats
        #expect(stats.anomalies[.decoderMemoryCap] == 0 && stats.reassembly.peakFlows == 3000)
    }
}
