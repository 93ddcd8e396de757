import Foundation
import Testing

/// A live sensor on a veth pair while a miner speaks Stratum over a real TLS stack (OpenSSL through
/// Python's ssl) to a pool at a bare address whose certificate was made the way XMRig makes its own:
/// TLS 1.2 shows it in the clear, and the sensor says so within seconds (the behaviour model needs
/// minutes; `pcaps/encrypted/` covers it).
@Suite(
    .serialized,
    .enabled(
        if: Lab.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
        "needs root, ip netns, python3 and openssl: live TLS test skipped"))
struct EncryptedLiveTests {
    static let script = Binary.root.appendingPathComponent("scripts/encrypted/stratum_tls.py").path

    /// DIR/k.pem and DIR/c.pem: a certificate made as XMRig makes its own (self-signed, X.509 v1,
    /// serial 1, RSA-2048, valid exactly ten years).
    static func makeMinerCertificate(in dir: String) throws {
        for args in [
            ["genrsa", "-out", dir + "/k.pem", "2048"],
            ["req", "-new", "-key", dir + "/k.pem", "-subj", "/CN=localhost", "-out", dir + "/r.csr"],
            [
                "x509", "-req", "-in", dir + "/r.csr", "-signkey", dir + "/k.pem", "-set_serial", "1", "-days", "3650",
                "-out", dir + "/c.pem"
            ]
        ] {
            let (rc, out) = try Lab.run("/usr/bin/openssl", args)
            try #require(rc == 0, "openssl \(args[0]): \(out)")
        }
    }

    @Test(arguments: [false, true])
    func minerCertificateSeenLiveOverRealTLS(probe: Bool) throws {
        let net = try NetPair(probe ? 10 : 9)
        let dir = Lab.tempDir("tls-live")
        try Self.makeMinerCertificate(in: dir)
        // With --probe the sensor asks the pool (a private address: allowed by name) while the miner mines.
        let probing = probe ? ["--probe", "--probe-allow", net.poolIP + "/32", "--commit-interval", "2"] : []
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool(
                [
                    Binary.path, "live", "-i", net.poolIf, "--no-store", "--duration", "12",
                    "--format", "json", "--quiet"
                ] + probing), log: dir + "/sensor.log")
        let pool = try Lab.spawn(
            Lab.ip,
            net.inPool([
                "python3", Self.script, "pool", "--port", "3333", "--cert", dir + "/c.pem", "--key", dir + "/k.pem",
                "--tls12", "--hold", "14"
            ]), log: dir + "/pool.log")
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 1.5)
        let (rc, out) = try Lab.run(
            Lab.ip,
            net.inMiner([
                "python3", Self.script, "miner", "--host", net.poolIP, "--port", "3333",
                "--seconds", "4", "--share", "0.5"
            ]))
        #expect(rc == 0, "miner: \(out)")
        sensor.waitUntilExit()
        let doc =
            try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any] ?? [:]
        let host = Binary.hosts(doc).first { $0["host"] as? String == net.minerIP }
        // A 4-second TLS session with a miner's certificate: suspicious by itself; the pool's answer to
        // the probe makes it likely-mining (brief flows: not yet mining), with the probe's sentence.
        #expect(
            host?["verdict"] as? String == (probe ? "likely-mining" : "suspicious"),
            "sensor: \(Lab.read(dir + "/sensor.log.err"))")
        if probe {
            let reasons = (host?["reasons"] as? [String] ?? []).joined(separator: "\n")
            #expect(
                reasons.contains(
                    "the server \(net.poolIP):3333 answered a CryptoNote login (XMRig) over TLS like a pool: rx/0, monero"
                ), "\(reasons)")
            #expect(Lab.read(dir + "/sensor.log.err").contains("probe: the server \(net.poolIP):3333 answered"))
        }
        let evidence = host?["evidence"] as? [[String: Any]] ?? []
        let cert = evidence.first { $0["kind"] as? String == "miner-certificate" }
        #expect((cert?["details"] as? [String: String])?["miner_certificate"] == "true")
        #expect((cert?["details"] as? [String: String])?["tls_version"] == "TLS 1.2")
        #expect(cert?["peer"] as? String == "\(net.poolIP):3333")
    }

    /// A fleet: sensor "east" probes, sensor "west" (same store, no --probe) never asks — it judges
    /// with east's answer, read from the store at a commit while both run.
    @Test func aSensorWithoutProbeJudgesWithTheFleetsAnswers() throws {
        let net = try NetPair(11)
        let dir = Lab.tempDir("tls-fleet")
        try Self.makeMinerCertificate(in: dir)
        let store = dir + "/fleet.sqlite"
        let common = [
            "live", "-i", net.poolIf, "--store", store, "--duration", "14", "--format", "json", "--quiet",
            "--commit-interval", "2"
        ]
        let west = try Lab.spawn(
            Lab.ip, net.inPool([Binary.path] + common + ["--sensor", "west"]), log: dir + "/west.log")
        let east = try Lab.spawn(
            Lab.ip,
            net.inPool([Binary.path] + common + ["--sensor", "east", "--probe", "--probe-allow", net.poolIP + "/32"]),
            log: dir + "/east.log")
        let pool = try Lab.spawn(
            Lab.ip,
            net.inPool([
                "python3", Self.script, "pool", "--port", "3333", "--cert", dir + "/c.pem", "--key", dir + "/k.pem",
                "--tls12", "--hold", "16"
            ]), log: dir + "/pool.log")
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 1.5)
        let (rc, out) = try Lab.run(
            Lab.ip,
            net.inMiner([
                "python3", Self.script, "miner", "--host", net.poolIP, "--port", "3333",
                "--seconds", "4", "--share", "0.5"
            ]))
        #expect(rc == 0, "miner: \(out)")
        east.waitUntilExit()
        west.waitUntilExit()
        func host(_ log: String) throws -> [String: Any]? {
            let doc =
                try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/" + log).utf8)) as? [String: Any] ?? [:]
            return Binary.hosts(doc).first { $0["host"] as? String == net.minerIP }
        }
        let sentence =
            "the server \(net.poolIP):3333 answered a CryptoNote login (XMRig) over TLS like a pool: rx/0, monero"
        let seenEast = try host("east.log")
        let seenWest = try host("west.log")
        #expect(seenEast?["verdict"] as? String == "likely-mining", "east: \(Lab.read(dir + "/east.log.err"))")
        #expect(seenWest?["verdict"] as? String == "likely-mining", "west: \(Lab.read(dir + "/west.log.err"))")
        let westReasons = (seenWest?["reasons"] as? [String] ?? []).joined(separator: "\n")
        #expect(westReasons.contains(sentence), "\(westReasons)")
        // West never asked anyone.
        #expect(!Lab.read(dir + "/west.log.err").contains("probe: the server"), "\(Lab.read(dir + "/west.log.err"))")
    }
}
