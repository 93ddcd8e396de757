import Foundation
import Testing

/// The behaviour model and the miner-certificate profile on encrypted traffic made by real programs
/// (`scripts/record-encrypted`: OpenSSL through Python's ssl, mosquitto, OpenSSH, python3-websockets,
/// python3-grpcio, curl) with real timing: every positive flagged as README says, every negative not
/// flagged at all. The same captures have JSON baselines (`BaselineTests`).
@Suite struct EncryptedBehaviourTests {
    static let directory = Binary.root.appendingPathComponent("pcaps/encrypted")

    static func captures() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".pcap") }
            .sorted()
    }

    /// The scripted miner's verdict and evidence kinds per positive capture; any other capture is a negative.
    static let positives: [String: (verdict: String, kinds: Set<String>)] = [
        // TLS 1.2, no SNI, port 3333, the certificate XMRig makes: both kinds, fused.
        "tls-miner-xmrig-cert.pcap": ("likely-mining", ["tls-mining-cadence", "miner-certificate"]),
        // TLS 1.3 (certificate hidden), no SNI, a port with no web service.
        "tls-miner-tls13-nosni.pcap": ("likely-mining", ["tls-mining-cadence"]),
        // TLS 1.3 to port 443 with an SNI on no list: behaviour alone.
        "tls-miner-sni-unlisted.pcap": ("suspicious", ["tls-mining-cadence"]),
        // A browser miner over wss:// (webminerpool's protocol, permessage-deflate): behaviour alone.
        "wss-webminer.pcap": ("suspicious", ["tls-mining-cadence"])
    ]

    /// Real programs, none of them mining: nothing may be flagged.
    static let negatives: Set<String> = [
        "mqtt-tls.pcap", "ssh-keepalive.pcap", "wss-chat.pcap", "wss-ticker.pcap",
        "grpc-keepalive.pcap", "https-poll.pcap", "mqtt-device.pcap", "wss-chat-text.pcap",
        "imap-idle.pcap", "openvpn-tcp.pcap"
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
        try #require(flagged.count == 1, "\(capture): \(flagged.count) hosts flagged")
        let host = flagged[0]
        #expect(host["verdict"] as? String == expected.verdict)
        let kinds = Set((host["evidence"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds == expected.kinds)
        let reasons = host["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("behaving like mining: the server pushed") })
    }
}
