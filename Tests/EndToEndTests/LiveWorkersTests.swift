import Foundation
import PacketDecoding
import Testing
import TrafficGen

/// docs/architecture.md "Workers", live: `live --workers 2` on a veth pair, a capture replayed onto the other end
/// at its own pace (tcpreplay). Twelve hosts each look the pool up in DNS and then mine at the
/// address the answer gave — half over plain Stratum, half over TLS without SNI, where only the DNS
/// answer names the pool. The kernel's fanout hash spreads the 24 flows over the two workers
/// independently, so the chance that no host's lookup and connection land on different workers is
/// 2^-12; the test also checks that both workers received packets.
@Suite(
    .serialized, .enabled(if: Lab.available, "needs root, iproute2 (ip netns) and python3: live-capture tests skipped"))
struct LiveWorkersTests {
    static let hosts = 12

    /// The capture: lookups through a resolver, then the sessions, hosts starting 0.15 s apart.
    static func capture(to path: String) throws {
        let t0 = Timestamp(seconds: 1_732_200_000)
        var frames: [(time: Timestamp, frame: [UInt8])] = []
        for i in 0..<hosts {
            let client = IPAddress("10.62.0.\(i + 1)")!
            let resolver = IPAddress("10.62.0.250")!
            let pool = "198.51.100.\(10 + i)"
            let start = t0.adding(seconds: Double(i) * 0.15)
            let query = FrameBuilder.frame(
                src: client, dst: resolver, proto: 17,
                transport: FrameBuilder.udp(
                    src: client, dst: resolver, srcPort: UInt16(50_000 + i), dstPort: 53,
                    payload: Wire.dnsQuery(id: i, name: "pool.supportxmr.com")))
            let answer = FrameBuilder.frame(
                src: resolver, dst: client, proto: 17,
                transport: FrameBuilder.udp(
                    src: resolver, dst: client, srcPort: 53, dstPort: UInt16(50_000 + i),
                    payload: Wire.dnsAnswer(id: i, name: "pool.supportxmr.com", addresses: [pool])),
                forward: false)
            frames += [(start, query), (start.adding(seconds: 0.003), answer)]
            var c = Conversation(
                client: client.description, clientPort: UInt16(40_000 + i), server: pool,
                serverPort: i % 2 == 0 ? 3333 : 443,
                start: start.adding(seconds: 0.02))
            c.handshake()
            if i % 2 == 0 {
                c.cryptoNoteMining(shares: 2, interval: 0.5)
            } else {
                c.send(.client, Wire.clientHello(sni: nil))
                c.send(.server, Wire.serverHello13())
                for j in 0..<4 {  // jobs and shares as records, a few seconds' worth
                    c.send(.server, Wire.appData(180, seed: j), after: 0.3)
                    c.send(.client, Wire.appData(120, seed: j))
                }
            }
            c.close()
            frames += c.frames
        }
        try write(frames, to: path)
    }

    /// Frames in time order into a pcap file.
    static func write(_ frames: [(time: Timestamp, frame: [UInt8])], to path: String) throws {
        var w = PcapWriter()
        for f in frames.sorted(by: { $0.time < $1.time }) { w.add(time: f.time, frame: f.frame) }
        try PcapWriter.write(w.drain(), to: path)
    }

    /// `live --workers 2` on the pool's end of `net` while tcpreplay sends `pcap` from the miner's end
    /// at its own pace; `running` looks at the sensor before it is stopped. The final JSON report.
    static func live(_ net: NetPair, dir: String, pcap: String, options: [String] = [], running: () throws -> Void = {})
        throws -> [String: Any]
    {
        let tcpreplay = try #require(Lab.tcpreplay, "tcpreplay is not installed (scripts/test installs it)")
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool(
                [Binary.path, "live", "-i", net.poolIf, "--workers", "2", "--no-store"] + options
                    + ["--format", "json", "--quiet"]), log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        let (rc, out) = try Lab.run(Lab.ip, net.inMiner([tcpreplay, "-i", net.minerIf, pcap]))
        #expect(rc == 0, "tcpreplay: \(out)")
        Thread.sleep(forTimeInterval: 1.5)
        try running()
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0, "sensor: \(Lab.read(dir + "/sensor.log.err"))")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any])
    }

    @Test func twoWorkersFindEveryMinerWhateverWorkerSawTheLookup() throws {
        let net = try NetPair(9)
        let dir = Lab.tempDir("workers")
        let pcap = dir + "/lookups-then-mining.pcap"
        try Self.capture(to: pcap)
        let doc = try Self.live(
            net, dir: dir, pcap: pcap, options: ["--commit-interval", "1", "--metrics", "127.0.0.1:19977"]
        ) {
            Thread.sleep(forTimeInterval: 1)
            // The operator's view while it runs: Prometheus metrics and the health check.
            let scrape = """
                import urllib.request, sys
                for p in ("/healthz", "/metrics"):
                    r = urllib.request.urlopen("http://127.0.0.1:19977" + p, timeout=5)
                    sys.stdout.write("%d %s\\n" % (r.status, r.read().decode()))
                """
            let (src, metrics) = try Lab.run(Lab.ip, net.inPool(["python3", "-c", scrape]))
            #expect(src == 0, "scrape: \(metrics)")
            #expect(metrics.hasPrefix("200 ok"), "healthz: \(metrics.prefix(200))")
            func value(_ series: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                    Double($0.split(separator: " ").last ?? "")
                }
            }
            for w in 0..<2 {
                let received =
                    value("stratumsniff_packets_received_total{interface=\"\(net.poolIf)\",worker=\"\(w)\"}") ?? 0
                #expect(received > 0, "worker \(w) received nothing, by the metrics")
            }
            #expect(
                (value("stratumsniff_hosts{verdict=\"mining\"}") ?? 0) >= Double(Self.hosts / 2),
                "hosts per verdict: \(metrics)")
            #expect((value("stratumsniff_flows_total") ?? 0) >= Double(2 * Self.hosts))
            #expect(value("stratumsniff_workers") == 2)
        }
        let capture = try #require((doc["summary"] as? [String: Any])?["capture"] as? [String: Any])
        let workers = capture["workers"] as? [[String: Any]] ?? []
        #expect(workers.count == 2)
        #expect(
            workers.allSatisfy { ($0["packets_received"] as? Int ?? 0) > 0 }, "a worker received nothing: \(workers)")
        #expect(capture["packets_dropped_by_kernel"] as? Int == 0)
        let hosts = doc["hosts"] as? [[String: Any]] ?? []
        for i in 0..<Self.hosts {
            let ip = "10.62.0.\(i + 1)"
            let host = hosts.first { $0["host"] as? String == ip }
            let text =
                host.flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map {
                    String(decoding: $0, as: UTF8.self)
                } ?? ""
            if i % 2 == 0 {
                #expect(host?["verdict"] as? String == "mining", "\(ip) (Stratum) not found mining: \(text)")
            } else {
                #expect(
                    text.contains("tls-to-pool"), "\(ip) (TLS, named only by DNS) has no tls-to-pool evidence: \(text)")
            }
            #expect(text.contains("pool.supportxmr.com"), "\(ip): the pool's name from the DNS answer is missing")
        }
    }

    /// Fanout in hash mode with defragmentation: a session whose shares travel as IP fragments while
    /// its login and the pool's answers do not is still one flow in one worker — one session with its
    /// login and both shares. Fragments carry no ports: without the kernel reassembling before it
    /// hashes, they could go to another worker than the rest of their stream, which would cut the
    /// session in two. Eight such miners, two workers.
    @Test func fragmentedSessionsStayWhole() throws {
        let net = try NetPair(10)
        let dir = Lab.tempDir("fragments")
        let pcap = dir + "/fragmented-mining.pcap"
        let t0 = Timestamp(seconds: 1_732_300_000)
        var frames: [(time: Timestamp, frame: [UInt8])] = []
        for i in 0..<8 {
            var c = Conversation(
                client: "10.63.0.\(i + 1)", clientPort: UInt16(41_000 + i), server: "198.51.100.\(40 + i)",
                serverPort: 3333,
                start: t0.adding(seconds: Double(i) * 0.1))
            c.handshake()
            // The login and the answers whole, the shares in fragments: one TCP stream, two shapes.
            let plan = SegmentPlan(ipFragmentSize: 64)
            c.send(.client, Messages.xmrigLogin(rig: "frag-\(i)"))
            c.send(.server, Messages.cnLoginResult())
            for n in 0..<2 {
                c.send(.client, Messages.cnSubmit(id: 2 + n, job: 1, nonce: n), plan: plan, after: 0.3)
                c.send(.server, Messages.cnOK(id: 2 + n))
            }
            c.close()
            frames += c.frames
        }
        try Self.write(frames, to: pcap)
        let doc = try Self.live(net, dir: dir, pcap: pcap)
        let hosts = doc["hosts"] as? [[String: Any]] ?? []
        for i in 0..<8 {
            let host = hosts.first { $0["host"] as? String == "10.63.0.\(i + 1)" }
            #expect(
                host?["verdict"] as? String == "mining",
                "10.63.0.\(i + 1): \(host.map { "\($0["reasons"] ?? "")" } ?? "not reported")")
            let sessions = host?["sessions"] as? [[String: Any]] ?? []
            #expect(
                sessions.count == 1 && (host?["shares_accepted"] as? Int) == 2,
                "10.63.0.\(i + 1): the session was cut (\(sessions.count) sessions, \(host?["shares_accepted"] ?? "-") shares)"
            )
        }
    }
}
