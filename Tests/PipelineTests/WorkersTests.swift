import Detection
import PacketDecoding
import PoolIntel
import Reporting
import Testing
import TrafficGen

@testable import Pipeline

/// docs/architecture.md "Workers": several workers give what one analyzer gives, also when what names a flow's
/// server (a DNS answer, an earlier SNI) was seen by another worker.
@Suite struct WorkersTests {
    let t0 = Timestamp(seconds: 1_732_100_000)
    typealias Frames = [(time: Timestamp, frame: [UInt8])]

    /// A DNS answer naming `server`, from the resolver to `client`.
    func dnsAnswer(client: String, resolver: String, name: String, server: String, at time: Timestamp) -> Frames {
        let c = IPAddress(client)!
        let r = IPAddress(resolver)!
        let query = FrameBuilder.frame(
            src: c, dst: r, proto: 17,
            transport: FrameBuilder.udp(
                src: c, dst: r, srcPort: 50_000, dstPort: 53,
                payload: Wire.dnsQuery(id: 7, name: name)))
        let answer = FrameBuilder.frame(
            src: r, dst: c, proto: 17,
            transport: FrameBuilder.udp(
                src: r, dst: c, srcPort: 53, dstPort: 50_000,
                payload: Wire.dnsAnswer(id: 7, name: name, addresses: [server])),
            forward: false)
        return [(time, query), (time.adding(seconds: 0.002), answer)]
    }

    /// A TLS 1.3 connection (SNI or none) that mines for `minutes` by its records.
    func tls(client: String, server: String, sni: String?, at time: Timestamp, port: UInt16 = 443) -> Frames {
        var c = Conversation(client: client, clientPort: 41_000, server: server, serverPort: port, start: time)
        c.handshake()
        c.send(.client, Wire.clientHello(sni: sni))
        c.send(.server, Wire.serverHello13())
        c.tlsMiningRecords(jobs: 4, shareEvery: 2)
        c.close()
        return c.frames
    }

    /// `batched`: the frames are handed over as `analyze` hands a mapped file's — in batches of 32,
    /// retained until the end (workers read them in place, the reader's own share waits a batch).
    /// `namePackets`: `Limits.learnedNamePackets` — small here, so that these captures of a few dozen
    /// packets test the hold-back in both its dimensions.
    func run(
        _ frames: Frames, workers: Int, assign: (@Sendable (IPAddress, IPAddress) -> Int)? = nil, batched: Bool = false,
        namePackets: Int = 8, sessionsPerHost: Int? = nil, names: Int? = nil, parallel: Bool = false,
        spare: Dealer.Spare = .whenBehind
    ) -> String {
        let sorted = frames.sorted { $0.time < $1.time }
        var limits = Limits()
        limits.learnedNamePackets = namePackets
        if let n = sessionsPerHost { limits.hosts.maxSessionsPerHost = n }
        if let n = names { limits.maxNameCacheEntries = n }
        let analysis: any InputAnalysis =
            workers == 1 && !parallel
            ? PacketPipeline(limits: limits)
            : ParallelAnalysis(workers: workers, limits: limits, assign: assign, spare: spare)
        let bytes = sorted.flatMap(\.frame)
        let part = bytes.withUnsafeBytes { all -> AnalysisPart in
            var offset = 0
            let packets = sorted.map { f -> CapturedPacket in
                defer { offset += f.frame.count }
                return CapturedPacket(
                    timestamp: f.time, linkType: .ethernet,
                    bytes: UnsafeRawBufferPointer(rebasing: all[offset..<offset + f.frame.count]),
                    originalLength: f.frame.count)
            }
            if batched {
                for start in stride(from: 0, to: packets.count, by: 32) {
                    packets[start..<min(start + 32, packets.count)].withUnsafeBufferPointer {
                        analysis.process(batch: $0, retained: true)
                    }
                }
            } else {
                for p in packets {
                    analysis.process(
                        time: p.timestamp, linkType: p.linkType, frame: p.bytes, originalLength: p.originalLength)
                }
            }
            return analysis.finishInput()
        }
        let s = part.stats
        let r = s.reassembly
        var out =
            "packets \(s.packets) flows \(r.flowsCreated) peak \(r.peakFlows) expired \(r.expired) bypassed \(r.bypassedFlows) "
            + "\(s.protocolCounts.byName.sorted { $0.key < $1.key }) sessions \(s.stratumSessions) anomalies \(s.anomalies.nonZero.map { "\($0.0)=\($0.1)" })\n"
        for h in part.reports(localNets: nil) { out += JSONOutput.encode(HostJSON(h), pretty: true) + "\n" }
        return out
    }

    /// Which worker an address pair goes to: the listed pairs to worker 1, every other to worker 0.
    static func apart(_ pairs: [(String, String)]) -> @Sendable (IPAddress, IPAddress) -> Int {
        let set = Set(
            pairs.flatMap {
                [
                    IPAddress($0.0)!.description + "|" + IPAddress($0.1)!.description,
                    IPAddress($0.1)!.description + "|" + IPAddress($0.0)!.description
                ]
            })
        return { a, b in set.contains(a.description + "|" + b.description) ? 1 : 0 }
    }

    @Test func aLookupAndItsConnectionOnDifferentWorkers() {
        var frames = dnsAnswer(
            client: "10.8.0.1", resolver: "10.8.0.53", name: "pool.supportxmr.com", server: "198.51.100.77", at: t0)
        frames += tls(client: "10.8.0.1", server: "198.51.100.77", sni: nil, at: t0.adding(seconds: 0.01))
        let one = run(frames, workers: 1)
        #expect(one.contains("name from a DNS answer"))
        // The connection's pair goes to worker 1, the lookup's to worker 0.
        let two = run(frames, workers: 2, assign: Self.apart([("10.8.0.1", "198.51.100.77")]))
        #expect(two == one)
    }

    /// The reader parses a DNS query for its worker only when that worker is behind (`Dealer.Spare`):
    /// queries for pools (evidence against the asker), an answer without records, a message that is
    /// not DNS and answers that teach names give the same findings whoever parsed them.
    @Test func aQueryParsedByTheReaderOrByItsWorkerIsJudgedTheSame() {
        var frames: Frames = []
        for i in 0..<6 {
            let client = "10.9.0.\(i + 1)"
            let at = t0.adding(seconds: Double(i))
            frames += dnsAnswer(
                client: client, resolver: "10.9.0.53", name: "xmr-eu\(i).nanopool.org", server: "198.51.100.\(80 + i)",
                at: at)
            frames += tls(client: client, server: "198.51.100.\(80 + i)", sni: nil, at: at.adding(seconds: 0.01))
        }
        let c = IPAddress("10.9.0.9")!
        let r = IPAddress("10.9.0.53")!
        func udp(_ payload: [UInt8], at seconds: Double, fromResolver: Bool) -> (time: Timestamp, frame: [UInt8]) {
            let (src, dst) = fromResolver ? (r, c) : (c, r)
            let (sp, dp): (UInt16, UInt16) = fromResolver ? (53, 50_001) : (50_001, 53)
            return (
                t0.adding(seconds: seconds),
                FrameBuilder.frame(
                    src: src, dst: dst, proto: 17,
                    transport: FrameBuilder.udp(src: src, dst: dst, srcPort: sp, dstPort: dp, payload: payload),
                    forward: !fromResolver)
            )
        }
        // An unlisted name whose answer goes through a CNAME to a pool: the reader must still learn it.
        let alias = "edge.cdn-example.net"
        var viaCNAME: [UInt8] = [0, 10, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]
        for label in alias.split(separator: ".") { viaCNAME += [UInt8(label.utf8.count)] + Array(label.utf8) }
        viaCNAME += [0, 0, 1, 0, 1]
        var target: [UInt8] = []
        for label in "xmr.2miners.com".split(separator: ".") { target += [UInt8(label.utf8.count)] + Array(label.utf8) }
        target += [0]
        viaCNAME += [0xC0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, UInt8(target.count)] + target
        viaCNAME += [0xC0, UInt8(12 + alias.utf8.count + 2 + 4 + 12), 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 99]
        frames.append(udp(Wire.dnsQuery(id: 10, name: alias), at: 6, fromResolver: false))
        frames.append(udp(viaCNAME, at: 6.01, fromResolver: true))
        frames += tls(client: "10.9.0.9", server: "198.51.100.99", sni: nil, at: t0.adding(seconds: 6.1))
        // And an answer for a name no list holds, left to the worker.
        frames.append(
            udp(Wire.dnsAnswer(id: 11, name: "www.example.com", addresses: ["192.0.2.80"]), at: 6.5, fromResolver: true)
        )
        frames.append(udp(Wire.dnsQuery(id: 9, name: "pool.supportxmr.com"), at: 7, fromResolver: false))
        frames.append(
            udp(Wire.dnsAnswer(id: 9, name: "pool.supportxmr.com", addresses: []), at: 7.01, fromResolver: true))
        frames.append(udp([0x01, 0x02, 0x03], at: 7.02, fromResolver: false))
        let one = run(frames, workers: 1)
        #expect(one.contains("dns-pool-lookup"))
        #expect(one.contains("xmr.2miners.com") && one.contains("198.51.100.99"))
        #expect(one.contains("dns_malformed"))
        // Every pair but the resolver's own goes to worker 1, so the reader decides for its queries.
        let apart = Self.apart(
            (1...9).map { ("10.9.0.\($0)", "10.9.0.53") }
                + (0..<6).map { ("10.9.0.\($0 + 1)", "198.51.100.\(80 + $0)") } + [("10.9.0.9", "198.51.100.99")])
        for spare in [Dealer.Spare.never, .always, .whenBehind] {
            #expect(run(frames, workers: 2, assign: apart, spare: spare) == one, "\(spare)")
            #expect(run(frames, workers: 2, assign: apart, batched: true, spare: spare) == one, "\(spare), batched")
        }
    }

    @Test func anEarlierSNINamesAnotherHostsFlowOnAnotherWorker() {
        var frames = tls(client: "10.8.0.2", server: "198.51.100.78", sni: "gulf.moneroocean.stream", at: t0)
        frames += tls(client: "10.8.0.3", server: "198.51.100.78", sni: nil, at: t0.adding(seconds: 5))
        let one = run(frames, workers: 1)
        #expect(one.contains("name from an earlier flow's TLS SNI"))
        let two = run(frames, workers: 2, assign: Self.apart([("10.8.0.3", "198.51.100.78")]))
        #expect(two == one)
        let reversed = run(frames, workers: 2, assign: Self.apart([("10.8.0.2", "198.51.100.78")]))
        #expect(reversed == one)
        // In batches, as `analyze` hands over a mapped file: the reader's own share waits up to a batch
        // and workers read frames in place — the same result. (Removing the reader's flush of its own
        // share before a later packet goes to a worker does not make this fail: the name still reaches
        // the flow as of its last packet, `FlowApp.laterHint`.)
        for _ in 0..<20 {
            #expect(run(frames, workers: 2, assign: Self.apart([("10.8.0.3", "198.51.100.78")]), batched: true) == one)
        }
        #expect(run(frames, workers: 1, batched: true) == one)
    }

    /// A name learned inside a flow names other flows one second later, with one worker or many: a
    /// flow over within 0.5 s of the SNI is not named by it, whichever worker has it; a longer one is
    /// (as of its last packet).
    @Test func namesLearnedInsideFlowsWaitASecondForEveryone() {
        var frames = tls(client: "10.8.0.4", server: "198.51.100.79", sni: "gulf.moneroocean.stream", at: t0)
        // The ClientHello is the handshake's 4th frame, ~0.15 s in; this flow is over by ~0.5 s.
        var short = Conversation(
            client: "10.8.0.5", clientPort: 41_001, server: "198.51.100.79", serverPort: 443,
            start: t0.adding(seconds: 0.2))
        short.handshake()
        short.send(.client, Wire.clientHello(sni: nil))
        short.close()
        frames += short.frames
        frames += tls(client: "10.8.0.6", server: "198.51.100.79", sni: nil, at: t0.adding(seconds: 0.6))
        let one = run(frames, workers: 1)
        #expect(!one.contains("\"10.8.0.5\""))
        #expect(one.contains("\"10.8.0.6\""))
        #expect(
            run(frames, workers: 2, assign: Self.apart([("10.8.0.5", "198.51.100.79"), ("10.8.0.6", "198.51.100.79")]))
                == one)
    }

    /// A name learned inside a flow names other flows only `learnedNamePackets` packets later too
    /// (the distance that lets workers run apart on sparse captures): not within them, with one worker
    /// or two.
    @Test func namesLearnedInsideFlowsWaitTheirPacketsForEveryone() {
        var frames = tls(client: "10.8.0.7", server: "198.51.100.80", sni: "gulf.moneroocean.stream", at: t0)
        frames += tls(client: "10.8.0.8", server: "198.51.100.80", sni: nil, at: t0.adding(seconds: 30))
        let near = run(frames, workers: 1, namePackets: 10_000)
        #expect(!near.contains("name from an earlier flow's TLS SNI"))
        #expect(
            run(frames, workers: 2, assign: Self.apart([("10.8.0.8", "198.51.100.80")]), namePackets: 10_000) == near)
        let far = run(frames, workers: 1, namePackets: 8)
        #expect(far.contains("name from an earlier flow's TLS SNI"))
        #expect(run(frames, workers: 2, assign: Self.apart([("10.8.0.8", "198.51.100.80")]), namePackets: 8) == far)
    }

    /// A miner with more sessions than a host keeps (here 16 of 60, to 20 pools; sessions of different
    /// lengths, so flows end in another order than they start): the same kept sessions, first and last
    /// seen, pool list and retired count with 1, 2, 3 and 4 workers, and the cap counted.
    @Test func aHostPastItsSessionCapIsTheSameForAnyNumberOfWorkers() {
        var frames: Frames = []
        for i in 0..<60 {
            var c = Conversation(
                client: "10.8.1.1", clientPort: UInt16(42_000 + i), server: "198.51.100.\(150 + i % 20)",
                serverPort: 3333,
                start: t0.adding(seconds: Double(i) * 2))
            c.handshake()
            c.cryptoNoteMining(shares: 1 + (i * 7) % 5, interval: Double(1 + (i * 13) % 9))
            c.close()
            frames += c.frames
        }
        let one = run(frames, workers: 1, sessionsPerHost: 16)
        #expect(one.contains("session_retired=44"))
        #expect(one.contains("and 44 earlier sessions"))
        for n in 2...4 { #expect(run(frames, workers: n, sessionsPerHost: 16) == one, "\(n) workers") }
    }

    /// Many hosts, spread however the seeded hash spreads them: 1, 2, 3 and 4 workers agree.
    @Test func manyHostsAnyNumberOfWorkers() {
        var frames: Frames = []
        for i in 0..<24 {
            let client = "10.9.\(i / 8).\(i % 8 + 1)"
            let server = "198.51.100.\(100 + i % 6)"
            let start = t0.adding(seconds: Double(i) * 0.7)
            if i % 3 == 0 {
                frames += dnsAnswer(
                    client: client, resolver: "10.9.9.53", name: "pool.supportxmr.com", server: server, at: start)
            }
            frames += tls(
                client: client, server: server, sni: i % 4 == 1 ? "gulf.moneroocean.stream" : nil,
                at: start.adding(seconds: 0.01))
            var c = Conversation(client: client, clientPort: 42_000, server: server, serverPort: 3333, start: start)
            c.handshake()
            c.cryptoNoteMining(shares: 2 + i % 3, interval: 1)
            c.close()
            frames += c.frames
        }
        let one = run(frames, workers: 1)
        #expect(one.contains("\"verdict\" : \"mining\""))
        for n in 2...4 { #expect(run(frames, workers: n) == one, "\(n) workers") }
    }

    /// More pool addresses than the name memory holds (here 4: 2 for the reader's DNS answers), each
    /// looked up and then connected to, later and later: whether a connection still finds its name is
    /// decided by the input — what the memory forgets is marked with the insertion that pushed it out
    /// and counts only for lookups that know of it — not by how far the reader ran ahead of the
    /// workers. 1, 2, 3 and 4 workers agree, run after run (fails with names dropped at once).
    @Test func aFullNameMemoryForgetsTheSameNamesForAnyNumberOfWorkers() {
        var frames: Frames = []
        for i in 0..<40 {
            let client = "10.7.\(i / 8).\(i % 8 + 1)"
            let server = "198.51.100.\(10 + i)"
            let start = t0.adding(seconds: Double(i) * 0.1)
            frames += dnsAnswer(
                client: client, resolver: "10.7.9.53", name: "pool.supportxmr.com", server: server, at: start)
            // Connected to a little later: some answers in between, fewer than the memory holds for the
            // first ones and more for later ones (the gap grows).
            frames += tls(client: client, server: server, sni: nil, at: start.adding(seconds: 0.01 + Double(i) * 0.02))
        }
        let one = run(frames, workers: 1, names: 4, parallel: true)
        #expect(one.contains("name from a DNS answer"))
        #expect(one.components(separatedBy: "name from a DNS answer").count - 1 < 40, "nothing was forgotten")
        for n in [2, 3, 4, 2, 4] {
            #expect(run(frames, workers: n, names: 4, parallel: true) == one, "\(n) workers")
        }
    }
}
