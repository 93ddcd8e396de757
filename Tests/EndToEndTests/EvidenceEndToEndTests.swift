import Foundation
import PacketDecoding
import Testing
import TrafficGen

/// End-to-end checks of the evidence paths beyond cleartext Stratum: what each verdict says,
/// the list options, scoping to local networks, and event streams.
@Suite(.serialized) struct EvidenceEndToEndTests {
    func scenario(_ name: String) throws -> String {
        try Binary.temp(name, Corpus.all.first { $0.name == name }!.build())
    }

    func host(_ doc: [String: Any], _ ip: String) -> [String: Any]? {
        Binary.hosts(doc).first { $0["host"] as? String == ip }
    }

    @Test func tlsToAPoolNameExplainsItself() throws {
        let (status, doc) = try Binary.json([try scenario("tls-to-pool.pcap")])
        #expect(status == 1)
        let h = host(doc, "10.0.0.40")!
        #expect(h["verdict"] as? String == "likely-mining")
        let reasons = h["reasons"] as! [String]
        #expect(
            reasons[0].hasPrefix("TLS to gulf.moneroocean.stream:443") && reasons[0].contains("2.0 h")
                && reasons[0].contains("periodic small messages"))
        let tls = (h["evidence"] as! [[String: Any]]).first { $0["kind"] as? String == "tls-to-pool" }!
        let details = tls["details"] as! [String: String]
        #expect(details["sni"] == "gulf.moneroocean.stream")
        // Cross-checked with tshark 4.0 (tls.handshake.ja3) on the same capture.
        #expect(details["ja3"] == "bfae4fad5e932c914b53a6dc4acafb36")
        #expect(details["ja4"]?.hasPrefix("t13d") == true)
        #expect(tls["coin"] as? String == "monero")
        // The SNI-less short connection is attributed through the name the address was known by when
        // it began — the DNS answer: 10.0.0.40's SNI, fewer than 16 384 packets before it, is not yet
        // seen by other flows (docs/detection.md "Names for addresses") — and is only suspicious.
        let other = host(doc, "10.0.0.42")!
        #expect((other["reasons"] as! [String])[0].contains("name from a DNS answer"))
        #expect(other["verdict"] as? String == "suspicious")
        // TLS 1.2 without SNI: the certificate sent in the clear names the pool.
        let cert = (host(doc, "10.0.0.43")!["evidence"] as! [[String: Any]])[0]
        let certDetails = cert["details"] as! [String: String]
        #expect(certDetails["tls_version"] == "TLS 1.2" && certDetails["sni"] == nil)
        #expect(certDetails["certificate_names"] == "*.2miners.com, xmr.2miners.com, 2miners.com")
        #expect(certDetails["name_from"] == "this flow's certificate")
    }

    @Test func poolListFormatsAllowListAndWarnings() throws {
        let path = try scenario("stratum-v2.pcap")
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("pools-\(UUID()).txt")
        try "# our own intel\n198.51.100.91:4000\n||not a rule\n".write(to: list, atomically: true, encoding: .utf8)
        let r = try Binary.run(["analyze", "--quiet", "--format", "json", "--pool-list", list.path, path])
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        // The 64-byte Noise shape to an address on our list now counts; the bad line is reported and skipped.
        #expect(Binary.verdicts(doc)["10.0.0.72"] == "likely-mining")
        #expect(r.stderr.contains("\(list.path):3: "))
        let allow = FileManager.default.temporaryDirectory.appendingPathComponent("allow-\(UUID()).txt")
        try "0.0.0.0 v2.stratum.braiins.com\n10.0.0.70\n".write(to: allow, atomically: true, encoding: .utf8)
        let (_, allowed) = try Binary.json(["--allow-list", allow.path, path])
        let v = Binary.verdicts(allowed)
        #expect(v["10.0.0.71"] == nil && v["10.0.0.70"] == nil)
        #expect(v["10.0.0.2"] == nil)  // its only client is allowed
        // Without the built-in list nothing names the encrypted session's pool.
        let (_, bare) = try Binary.json(["--no-builtin-pools", path])
        #expect(Binary.verdicts(bare)["10.0.0.71"] == nil && Binary.verdicts(bare)["10.0.0.70"] == "mining")
    }

    @Test func badListOptionsAreUsageErrors() throws {
        let path = try scenario("stratum-v2.pcap")
        let missing = try Binary.run(["analyze", "--pool-list", "/nonexistent/pools.txt", path])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read list file /nonexistent/pools.txt"))
        let badNet = try Binary.run(["analyze", "--local-net", "10.0.0.0/33", path])
        #expect(badNet.status == 2 && badNet.stderr.contains("--local-net 10.0.0.0/33"))
    }

    @Test func localNetCentresTheReport() throws {
        let (_, doc) = try Binary.json(["--local-net", "10.0.0.0/24", try scenario("dns-and-nodes.pcap")])
        #expect(
            Binary.verdicts(doc) == [
                "10.0.0.80": "suspicious", "10.0.0.81": "mining", "10.0.0.82": "crypto-node", "10.0.0.83": "crypto-node"
            ])
        // The external pool still appears inside the miner's evidence.
        let miner = host(doc, "10.0.0.81")!
        let session = (miner["sessions"] as! [[String: Any]])[0]
        #expect(session["pool"] as? String == "198.51.100.100:3333")
        #expect((session["pool_hostnames"] as? [String])?.first == "pool.supportxmr.com")
        #expect((session["pool_list_match"] as? String)?.hasPrefix("supportxmr.com") == true)
    }

    @Test func webMinerAndGetworkSessions() throws {
        let (_, web) = try Binary.json([try scenario("webminer-websocket.pcap")])
        let s = (host(web, "10.0.0.50")!["sessions"] as! [[String: Any]])[0]
        #expect(s["transport"] as? String == "websocket" && s["dialect"] as? String == "web-miner")
        #expect(s["shares_accepted"] as? Int == 6 && s["coin"] as? String == "monero")
        // Stratum JSON-RPC inside WebSocket frames (a web-miner proxy).
        let p = (host(web, "10.0.0.53")!["sessions"] as! [[String: Any]])[0]
        #expect(
            p["transport"] as? String == "websocket" && p["dialect"] as? String == "cryptonote"
                && p["shares_accepted"] as? Int == 3)
        let (_, gw) = try Binary.json([try scenario("http-getwork.pcap")])
        let g = (host(gw, "10.0.0.60")!["sessions"] as! [[String: Any]])[0]
        #expect(g["transport"] as? String == "http" && g["dialect"] as? String == "http-getwork")
        #expect(g["miner_software"] as? String == "cgminer/2.7.4")
        #expect(
            g["shares_accepted"] as? Int == 3 && g["shares_rejected"] as? Int == 1 && g["jobs_received"] as? Int == 4)
        let (_, v2) = try Binary.json([try scenario("stratum-v2.pcap")])
        let m = (host(v2, "10.0.0.70")!["sessions"] as! [[String: Any]])[0]
        #expect(
            m["dialect"] as? String == "stratum-v2"
                && m["miner_software"] as? String == "Bitmain S19j Pro braiins-os 23.03")
        #expect((m["workers"] as? [String]) == ["rack4-miner07", "rack4"])
    }

    @Test func jsonlCarriesEvidenceEvents() throws {
        let r = try Binary.run(["analyze", "--quiet", "--format", "jsonl", try scenario("dns-and-nodes.pcap")])
        let lines = r.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let evidence = lines.filter { $0["event"] as? String == "evidence" }
        let kinds = Set(evidence.compactMap { ($0["evidence"] as? [String: Any])?["kind"] as? String })
        #expect(kinds == ["dns-pool-lookup", "p2p-node"])
        #expect(evidence.allSatisfy { $0["session"] is NSNull && ($0["host"] as? String)?.isEmpty == false })
        // README's key list is what every event line carries (null where it does not apply).
        let keys: Set<String> = [
            "type", "time", "event", "host", "accepted", "user", "target", "reason", "session", "evidence", "sensor",
            "site"
        ]
        let mining = try Binary.run(["analyze", "--quiet", "--format", "jsonl", try scenario("xmrig-cryptonote.pcap")])
            .stdout
            .split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let events = (lines + mining).filter { $0["type"] as? String == "event" }
        #expect(
            Set(events.compactMap { $0["event"] as? String }).isSuperset(of: [
                "evidence", "session_seen", "login_accepted", "share_accepted", "session_end"
            ]))
        for e in events { #expect(Set(e.keys) == keys, "\(e["event"] ?? "?") has \(e.keys.sorted())") }
        #expect(
            (lines + mining).filter { $0["type"] as? String == "summary" }.allSatisfy {
                ($0["summary"] as? [String: Any])?["capture"] is NSNull
            })
    }

    @Test func dnsOverTCPAndPPPoE() throws {
        // A pool lookup over TCP (2-byte framing, split mid-length), answered in a second message.
        var c = Conversation(
            client: "10.9.0.5", clientPort: 41000, server: "10.9.0.1", serverPort: 53,
            start: Timestamp(seconds: 1_732_000_000))
        c.handshake()
        let q = Wire.dnsQuery(id: 77, name: "eu.nicehash.com")
        let a = Wire.dnsAnswer(id: 77, name: "eu.nicehash.com", addresses: ["192.0.2.9"])
        c.send(.client, [UInt8(q.count >> 8), UInt8(q.count & 0xFF)] + q, plan: SegmentPlan(sizes: [1, 5]))
        c.send(.server, [UInt8(a.count >> 8), UInt8(a.count & 0xFF)] + a)
        c.close()
        let (_, doc) = try Binary.json([try Binary.temp("dnstcp.pcap", c.frames.pcap())])
        #expect(Binary.verdicts(doc) == ["10.9.0.5": "suspicious"])
        let reason = (host(doc, "10.9.0.5")!["reasons"] as! [String])[0]
        #expect(reason.contains("eu.nicehash.com") && reason.contains("marketplace") && reason.contains("192.0.2.9"))
    }
}
