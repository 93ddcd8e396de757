import Foundation
import Testing

/// `stratumsniff probe` against real servers: scripted pools of every dialect (in the clear and over
/// TLS) and Debian's own daemons that are not pools, all in one network namespace
/// (Tests/Fixtures/probe_servers.sh).
/// A namespace fixture (Tests/Fixtures/probe_servers.sh, probe_targets.sh): `up DIR` started, not
/// waited for — the daemons it leaves running keep Foundation's Process from seeing the script end —
/// until it says it is done with DIR/ready; `down` removes it all.
struct NamespaceFixture {
    let script: String
    let dir: String
    /// It finished setting up (DIR/ready), and what it said on standard error.
    let ready: Bool
    let errors: String

    init(_ name: String, within seconds: Double) throws {
        script = Lab.fixtures + "/" + name
        dir = Lab.tempDir(String(name.dropLast(3)).replacingOccurrences(of: "_", with: "-"))
        let starter = try Lab.spawn("/bin/bash", [script, "up", dir], log: dir + "/up.log")
        let dir = self.dir
        ready = Lab.waitFor(seconds) { FileManager.default.fileExists(atPath: dir + "/ready") }
        starter.terminate()
        errors = (try? String(contentsOfFile: dir + "/up.log.err", encoding: .utf8)) ?? ""
    }

    /// The namespace the servers are in (the probing side runs inside it).
    func namespace() throws -> String {
        try String(contentsOfFile: dir + "/ns", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func down() { _ = try? Lab.run("/bin/bash", [script, "down", dir]) }
}

/// The daemons the fixture starts (scripts/test installs them).
let probeDaemons = [
    "/usr/sbin/nginx", "/usr/sbin/sshd", "/usr/sbin/smtpd", "/usr/sbin/dovecot", "/usr/sbin/vsftpd",
    "/usr/sbin/mosquitto",
    "/usr/bin/redis-server", "/usr/bin/memcached", "/usr/bin/prosody", "/usr/sbin/kamailio"
]

@Suite(
    .serialized,
    .enabled(
        if: Lab.available && probeDaemons.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) },
        "needs root, ip netns and the servers scripts/test installs (nginx, sshd, smtpd, dovecot, vsftpd, mosquitto, redis, memcached, prosody, kamailio): the probe's server tests skipped"
    ))
struct ProbeServersTests {
    /// What each server must be called: the conclusion, then the pool's dialect and algorithm or the reply's kind.
    static let expected: [String: (conclusion: String, what: String, algorithm: String?)] = [
        "pool-cryptonote": ("pool", "cryptonote", "rx/0"),
        "pool-stratum-v1": ("pool", "stratum-v1", "sha256d"),
        "pool-ethereumstratum": ("pool", "ethereumstratum", "ethash"),
        "pool-eth-proxy": ("pool", "eth-proxy", "ethash"),
        "pool-kawpow": ("pool", "stratum-v1", "kawpow"),
        // Browser miners' servers: the JSON lines meet an HTTP server, the WebSocket dialects a pool.
        "pool-webminer": ("pool", "webminer", "cn/r"),
        "pool-webminerpool": ("pool", "webminerpool", "cn"),
        // Stratum V2 behind its Noise handshake: a pool, and a template provider that speaks SV2 but refuses mining.
        "sv2-pool": ("pool", "stratum-v2", "sha256d"),
        "sv2-template-provider": ("unconfirmed", "SetupConnection.Error 'unsupported-protocol'", nil),
        "http": ("not-pool", "http", nil), "ssh": ("not-pool", "ssh", nil), "smtp": ("not-pool", "smtp", nil),
        "imap": ("not-pool", "imap", nil), "ftp": ("not-pool", "ftp", nil), "mqtt": ("not-pool", "closed", nil),
        "redis": ("not-pool", "redis", nil), "memcached": ("not-pool", "text", nil), "xmpp": ("not-pool", "xmpp", nil),
        "sip": ("not-pool", "silence", nil), "postgresql": ("not-pool", "closed", nil),
        // ElectrumX: line-delimited JSON-RPC like a pool's, answering every pool method with an error.
        "electrum": ("not-pool", "json-rpc", nil)
    ]

    @Test func everyPoolDialectIsAPoolAndEveryOtherServerIsNot() throws {
        let fixture = try NamespaceFixture("probe_servers.sh", within: 90)
        defer { fixture.down() }
        try #require(fixture.ready, "probe_servers.sh did not finish: \(fixture.errors)")
        let listed = try String(contentsOfFile: fixture.dir + "/servers", encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ")
        }
        let servers = Dictionary(listed.map { (String($0[0]), String($0[1])) }, uniquingKeysWith: { a, _ in a })
        let wanted = Set(Self.expected.keys.flatMap { $0.hasPrefix("pool-") ? [$0, $0 + "-tls"] : [$0] })
        let missing = wanted.subtracting(servers.keys).sorted()
        try #require(missing.isEmpty, "servers that did not start: \(missing)")

        let names = servers.keys.sorted()
        let ns = try fixture.namespace()
        let run = try Binary.run(
            ["netns", "exec", ns, Binary.path, "probe", "--format", "json", "--timeout", "1"]
                + names.map { "10.77.0.2:" + servers[$0]! }, executable: Lab.ip)
        #expect(run.status == 1, "a pool was found: exit 1 (\(run.stderr))")
        let lines = run.stdout.split(separator: "\n")
        try #require(lines.count == names.count, "\(run.stdout)\(run.stderr)")
        var notPools = 0
        for (name, line) in zip(names, lines) {
            let doc = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            let tls = name.hasSuffix("-tls")
            guard let want = Self.expected[tls ? String(name.dropLast(4)) : name] else { continue }
            #expect(doc["conclusion"] as? String == want.conclusion, "\(name): \(line)")
            if want.conclusion == "pool" {
                let pool = doc["pool"] as? [String: Any] ?? [:]
                #expect(pool["dialect"] as? String == want.what, "\(name): \(line)")
                #expect(pool["algorithm"] as? String == want.algorithm, "\(name): \(line)")
                #expect(doc["tls"] as? Bool == tls, "\(name): \(line)")
                if tls {
                    let certificate = doc["certificate"] as? [String: Any] ?? [:]
                    #expect(certificate["subject"] as? String == "pool.example.org", "\(name): \(line)")
                }
                if name.hasPrefix("pool-cryptonote") { #expect(pool["coin"] as? String == "monero") }
                if name.hasPrefix("pool-kawpow") { #expect(pool["coin"] as? String == "ravencoin") }
                if name.hasPrefix("pool-stratum-v1") { #expect(pool["coin"] as? String == "bitcoin") }
                if name == "sv2-pool" {
                    // The scripted pool's channel target is difficulty 1024; its job id 41; its static key 32 bytes.
                    #expect(
                        pool["coin"] as? String == "bitcoin" && pool["difficulty"] as? Double == 1024
                            && pool["job_id"] as? String == "41",
                        "\(line)")
                    #expect((pool["server_key"] as? String)?.count == 64, "\(line)")
                }
            } else if want.conclusion == "unconfirmed" {
                #expect((doc["reason"] as? String)?.contains(want.what) == true, "\(name): \(line)")
            } else {
                notPools += 1
                #expect((doc["reply"] as? [String: Any])?["kind"] as? String == want.what, "\(name): \(line)")
                // Never more than the four dialects and one TLS try.
                #expect(((doc["attempts"] as? [Any])?.count ?? 0) <= 5, "\(name): \(line)")
            }
        }
        #expect(notPools >= 10)
    }

    @Test func tablesNameTheServerAndAnUnreachableOneSaysWhy() throws {
        let closed = try Binary.run(["probe", "127.0.0.1:1", "--timeout", "1"])
        #expect(closed.status == 3)
        #expect(closed.stdout.contains("127.0.0.1:1: unreachable"))
        #expect(closed.stdout.contains("Connection refused"))
        let bad = try Binary.run(["probe", "10.0.0.1"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("is not HOST:PORT"))
        let both = try Binary.run(["probe", "10.0.0.1:1", "--tls", "--no-tls"])
        #expect(both.status == 2)
    }
}
