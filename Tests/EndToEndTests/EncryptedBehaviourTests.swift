import Foundation
import Testing

/// The behaviour model and the miner-certificate profile on encrypted traffic made by real programs
/// (`scripts/record-encrypted`: pcaps/encrypted/README.md lists them) with real timing: every positive
/// flagged as that README says, every negative not flagged at all. The same captures have JSON
/// baselines (`BaselineTests`).
@Suite struct EncryptedBehaviourTests {
    static let directory = Binary.root.appendingPathComponent("pcaps/encrypted")

    static func captures() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".pcap") }
            .sorted()
    }

    /// Per positive capture, each flagged host's verdict and evidence kinds; any other capture is a negative.
    static let positives: [String: [String: (verdict: String, kinds: Set<String>)]] = [
        // TLS 1.2, no SNI, port 3333, the certificate XMRig makes: both kinds, fused.
        "tls-miner-xmrig-cert.pcap": ["10.66.1.10": ("likely-mining", ["tls-mining-cadence", "miner-certificate"])],
        // TLS 1.3 (certificate hidden), no SNI, a port with no web service.
        "tls-miner-tls13-nosni.pcap": ["10.66.3.10": ("likely-mining", ["tls-mining-cadence"])],
        // TLS 1.3 to port 443 with an SNI on no list: behaviour alone.
        "tls-miner-sni-unlisted.pcap": ["10.66.2.10": ("likely-mining", ["tls-mining-cadence"])],
        // A browser miner over wss:// (webminerpool's protocol, permessage-deflate): behaviour alone.
        "wss-webminer.pcap": ["10.66.4.10": ("likely-mining", ["tls-mining-cadence"])],
        // Sessions of 2.5–4 minutes, no SNI, port 443: judged together.
        "tls-miner-reconnect.pcap": ["10.66.5.10": ("likely-mining", ["tls-mining-cadence"])],
        // 30 minutes behind an innocuous SNI on 443, and its first 5 and 10 minutes.
        "tls-miner-sni-long.pcap": ["10.66.10.10": ("likely-mining", ["tls-mining-cadence"])],
        "tls-miner-sni-long-05min.pcap": ["10.66.10.10": ("likely-mining", ["tls-mining-cadence"])],
        "tls-miner-sni-long-10min.pcap": ["10.66.10.10": ("likely-mining", ["tls-mining-cadence"])],
        // Through a SOCKS5 proxy, an HTTP CONNECT proxy and both in a chain, to a listed pool's name.
        "tls-miner-socks.pcap": ["10.66.6.10": ("likely-mining", ["tls-to-pool"])],
        "tls-miner-connect.pcap": ["10.66.7.10": ("likely-mining", ["tls-to-pool"])],
        "tls-miner-chain.pcap": ["10.66.8.10": ("likely-mining", ["tls-to-pool"])],
        // Through SOCKS5 to a name on no list: behaviour alone, the proxy named.
        "tls-miner-socks-unlisted.pcap": ["10.66.12.10": ("likely-mining", ["tls-mining-cadence"])],
        // aiostratum-proxy, a real Stratum proxy, mining Equihash upstream over TLS for miners on its own host.
        "tls-stratum-proxy.pcap": ["10.66.11.10": ("likely-mining", ["tls-mining-cadence"])],
        // A LAN relay serving two miners (both from 10.66.9.20) in the clear on 10.66.9.1 and mining
        // upstream over TLS from its other address, 10.66.9.10: the relay to pull, and its upstream.
        "tls-relay.pcap": [
            "10.66.9.1": ("mining", []), "10.66.9.10": ("likely-mining", ["tls-mining-cadence"]),
            "10.66.9.20": ("mining", [])
        ]
    ]

    /// Real programs, none of them mining: nothing may be flagged.
    static let negatives: Set<String> = [
        "mqtt-tls.pcap", "ssh-keepalive.pcap", "wss-chat.pcap", "wss-ticker.pcap",
        "grpc-keepalive.pcap", "https-poll.pcap", "mqtt-device.pcap", "wss-chat-text.pcap",
        "imap-idle.pcap", "openvpn-tcp.pcap", "postgres-listen.pcap", "redis-queue.pcap", "xmpp-chat.pcap",
        "irc-chat.pcap", "syslog-tls.pcap", "etcd-watch.pcap", "nats-pubsub.pcap", "nginx-events.pcap",
        "prometheus-scrape.pcap", "mumble-voip.pcap", "amqp-broker.pcap", "vnc-desktop.pcap", "memcached-tls.pcap",
        "stunnel-rsync.pcap", "nrpe-checks.pcap", "syncthing-pair.pcap",
        // A miner's first 3 minutes: fewer exchanges than the model needs (docs/detection.md).
        "tls-miner-sni-long-03min.pcap"
    ]

    @Test func everyScenarioWasRecorded() {
        let names = Set(Self.captures())
        #expect(names.isSuperset(of: Self.positives.keys), "run scripts/record-encrypted")
        #expect(names.subtracting(Self.positives.keys) == Self.negatives, "run scripts/record-encrypted")
    }

    @Test(arguments: captures())
    func verdict(capture: String) throws {
        let (status, doc) = try Binary.json(
            ["pcaps/encrypted/" + capture].map { Binary.root.appendingPathComponent($0).path })
        let flagged = Binary.hosts(doc)
        guard let expected = Self.positives[capture] else {
            #expect(flagged.isEmpty, "\(capture): \(flagged.map { "\($0["host"]!) \($0["verdict"]!)" })")
            #expect(status == 0)
            return
        }
        let hosts = Dictionary(flagged.map { ($0["host"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(hosts.keys) == Set(expected.keys), "\(capture): flagged \(hosts.keys.sorted())")
        for (address, want) in expected {
            guard let host = hosts[address] else { continue }
            #expect(host["verdict"] as? String == want.verdict, "\(capture) \(address)")
            let kinds = Set((host["evidence"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
            #expect(kinds.isSuperset(of: want.kinds), "\(capture) \(address): \(kinds)")
            let reasons = host["reasons"] as? [String] ?? []
            if want.kinds.contains("tls-mining-cadence") {
                #expect(reasons.contains { $0.contains("behaving like mining: the server pushed") })
            }
        }
    }

    /// A measured flow that failed the model's tests is no flag, but `--all-hosts` shows what was
    /// measured and which tests failed (an analyst asking "why not?" gets an answer).
    @Test func allHostsShowsWhatWasMeasuredAndWhy() throws {
        let capture = Self.directory.appendingPathComponent("mqtt-device.pcap").path
        let (_, plain) = try Binary.json([capture])
        #expect(Binary.hosts(plain).isEmpty)
        let (status, all) = try Binary.json(["--all-hosts", capture])
        #expect(status == 0)
        let host = Binary.hosts(all).first { $0["host"] as? String == "10.66.26.10" }
        #expect(host?["verdict"] as? String == "none")
        let reasons = host?["reasons"] as? [String] ?? []
        #expect(
            reasons.contains {
                $0.contains("measured but not behaving like mining (the client answered the server's messages")
            }, "\(reasons)")
        let evidence = host?["evidence"] as? [[String: Any]] ?? []
        let details = evidence.first?["details"] as? [String: String] ?? [:]
        #expect(details["cadence_mining"] == "false" && details["cadence_failed_tests"] != nil)
    }

    /// docs/detection.md's per-capture table and its numbers for both halves are what
    /// `scripts/behaviour-table` prints from the captures now: a new recording or a changed model
    /// that leaves the documentation behind fails here.
    @Test func theDocumentedTableIsWhatTheCapturesGive() throws {
        let r = try Binary.run(
            ["scripts/behaviour-table", "--markdown", "--binary", Binary.path], executable: "/usr/bin/env",
            directory: Binary.root)
        #expect(r.status == 0, "\(r.stderr)")
        let docs = try String(
            contentsOf: Binary.root.appendingPathComponent("docs/detection.md"), encoding: .utf8)
        let rows = r.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count > 40)
        for row in rows where !docs.contains(row) {
            Issue.record("docs/detection.md lacks: \(row) — run scripts/behaviour-table --markdown and paste its table")
        }
        // The halves: "half A: positives at least likely-mining 5/5; ordinary programs flagged 0/12; …"
        for line in r.stderr.split(separator: "\n") where line.hasPrefix("half ") {
            let numbers = line.split(whereSeparator: { !$0.isNumber && $0 != "/" }).filter { $0.contains("/") }
            guard numbers.count >= 2 else { continue }
            let positives = numbers[0].split(separator: "/")
            let flagged = numbers[1].split(separator: "/")
            #expect(positives[0] == positives[1], "\(line)")
            #expect(flagged[0] == "0", "\(line)")
            let half = line.dropFirst(5).prefix(1)
            #expect(
                docs.contains("| half \(half) (")
                    && docs.contains("\(positives[0]) of \(positives[1]) | 0 of \(flagged[1]) |"),
                "docs/detection.md's numbers for half \(half) are not \(line)")
        }
    }
}
