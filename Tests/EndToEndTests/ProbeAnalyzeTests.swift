import Foundation
import Testing

/// `analyze --probe` on the TLS-miner captures of pcaps/encrypted with their servers brought back to
/// life in a namespace (Tests/Fixtures/probe_targets.sh): pools confirm, an HTTPS server withdraws,
/// a private address is asked only when --probe-allow names it.
@Suite(
    .serialized,
    .enabled(
        if: Lab.available && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/tcprewrite"),
        "needs root, ip netns, nginx and tcprewrite (scripts/test installs them): the analyze --probe tests skipped"))
struct ProbeAnalyzeTests {
    static let encrypted = Binary.root.appendingPathComponent("pcaps/encrypted").path

    /// Runs `analyze --format json` with `args` (inside namespace `ns` when given, where the servers
    /// are); the hosts by address, and standard error.
    func analyze(_ args: [String], in ns: String? = nil, environment: [String: String]? = nil) throws
        -> (status: Int32, hosts: [String: [String: Any]], stderr: String)
    {
        let command = ["analyze", "--format", "json", "--quiet"] + args
        let r =
            try ns.map {
                try Binary.run(
                    ["netns", "exec", $0, Binary.path] + command, executable: Lab.ip, environment: environment)
            }
            ?? Binary.run(command, environment: environment)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        let hosts = Binary.hosts(doc)
        return (
            r.status, Dictionary(hosts.map { ($0["host"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a }),
            r.stderr
        )
    }

    func reasons(_ host: [String: Any]?) -> String { (host?["reasons"] as? [String] ?? []).joined(separator: "\n") }

    @Test func poolsConfirmAnHTTPSServerWithdrawsAndPrivateAddressesWaitForPermission() throws {
        let fixture = try NamespaceFixture("probe_targets.sh", within: 60)
        defer { fixture.down() }
        try #require(fixture.ready && fixture.errors.isEmpty, "probe_targets.sh: \(fixture.errors)")
        let ns = try fixture.namespace()
        let dir = fixture.dir

        // TLS without SNI to a bare address: likely-mining by behaviour; the probe makes it a fact.
        let before = try analyze([Self.encrypted + "/tls-miner-tls13-nosni.pcap"])
        #expect(before.hosts["10.66.3.10"]?["verdict"] as? String == "likely-mining")
        let after = try analyze(["--probe", Self.encrypted + "/tls-miner-tls13-nosni.pcap"], in: ns)
        #expect(after.status == 1)
        let miner = after.hosts["10.66.3.10"]
        #expect(miner?["verdict"] as? String == "mining")
        #expect(
            reasons(miner).contains(
                "the server 203.0.113.3:14444 answered a CryptoNote login (XMRig) over TLS like a pool: rx/0, monero"))
        #expect((miner?["evidence"] as? [[String: Any]] ?? []).contains { $0["kind"] as? String == "probed-pool" })
        #expect(after.stderr.contains("probe: the server 203.0.113.3:14444 answered"))

        // An innocuous SNI on 443 whose server is an HTTPS site: the behaviour flag is withdrawn, said why.
        let cleared = try analyze(["--probe", Self.encrypted + "/tls-miner-sni-unlisted.pcap"], in: ns)
        let host = cleared.hosts["10.66.2.10"]
        #expect(host?["verdict"] as? String == "none")
        #expect(reasons(host).contains("withdrawn: TLS to 203.0.113.2:443"))
        // nginx answers the JSON lines 400 and the WebSocket upgrade to / 403 (no index): an HTTP server either way.
        #expect(
            reasons(host).contains("is not a pool: an HTTP server (HTTP/1.1 403 Forbidden) over TLS"),
            "\(reasons(host))")
        #expect(cleared.status == 0)

        // The same miner with its pool on a private address: not asked until allowed.
        let rewritten = dir + "/private-pool.pcap"
        let (rw, rwOut) = try Lab.run(
            "/usr/bin/tcprewrite",
            [
                "--pnat=203.0.113.1/32:10.66.99.1/32", "--infile=" + Self.encrypted + "/tls-miner-xmrig-cert.pcap",
                "--outfile=" + rewritten
            ])
        try #require(rw == 0, "tcprewrite: \(rwOut)")
        let refused = try analyze(["--probe", rewritten], in: ns)
        #expect(refused.hosts["10.66.1.10"]?["verdict"] as? String == "likely-mining")
        #expect(
            refused.stderr.contains(
                "not asking 10.66.99.1:3333: a local or private address (allow it with --probe-allow)"))
        let allowed = try analyze(["--probe", "--probe-allow", "10.66.99.0/24", rewritten], in: ns)
        #expect(allowed.hosts["10.66.1.10"]?["verdict"] as? String == "mining")
        let denied = try analyze(
            ["--probe", "--probe-allow", "10.66.99.0/24", "--probe-deny", "10.66.99.1/32", rewritten], in: ns)
        #expect(denied.hosts["10.66.1.10"]?["verdict"] as? String == "likely-mining")

        // Encrypted Stratum V2 (only its handshake's shape on the wire): the probe speaks the Noise
        // handshake to the pool and opens a channel — the guess becomes a fact, with the pool's difficulty.
        let sv2 = Binary.root.appendingPathComponent("pcaps/stratum-v2.pcap").path
        #expect(try analyze([sv2]).hosts["10.0.0.71"]?["verdict"] as? String == "likely-mining")
        let confirmed = try analyze(["--probe", sv2], in: ns)
        let sv2Miner = confirmed.hosts["10.0.0.71"]
        #expect(sv2Miner?["verdict"] as? String == "mining", "\(confirmed.stderr)")
        #expect(
            reasons(sv2Miner).contains(
                "the server 198.51.100.90:3336 answered a Stratum V2 Noise handshake + OpenStandardMiningChannel like a pool: sha256d, bitcoin, difficulty 1 024"
            ),
            "\(reasons(sv2Miner))")
    }

    /// A pool one sensor confirmed reaches another through the store: it judges its own capture with
    /// the answer, without probing (the server is gone by then), and does not ask again with --probe.
    @Test(arguments: ["sqlite", "postgresql"])
    func aConfirmedPoolReachesTheOtherSensorsThroughTheStore(_ kind: String) throws {
        if kind == "postgresql" && !PostgresLab.available {
            print("Debian's postgresql is absent: the PostgreSQL half of the probe fleet test skipped")
            return
        }
        let pg = kind == "postgresql" ? try PostgresLab() : nil
        var env = ProcessInfo.processInfo.environment
        if let pg { env.merge(pg.environment) { $1 } }
        let fixture = try NamespaceFixture("probe_targets.sh", within: 60)
        defer { fixture.down() }
        try #require(fixture.ready, "probe_targets.sh did not finish")
        let ns = try fixture.namespace()
        let dir = fixture.dir
        let store = pg?.url ?? dir + "/fleet.sqlite"
        let capture = Self.encrypted + "/tls-miner-tls13-nosni.pcap"
        let east = try analyze(
            ["--probe", "--store", pg?.socketURL ?? store, "--sensor", "east", capture], in: ns, environment: env)
        #expect(east.hosts["10.66.3.10"]?["verdict"] as? String == "mining")
        fixture.down()

        let west = try analyze(["--store", store, "--sensor", "west", capture], environment: env)
        #expect(west.hosts["10.66.3.10"]?["verdict"] as? String == "mining", "\(west.stderr)")
        #expect(
            reasons(west.hosts["10.66.3.10"]).contains(
                "the server 203.0.113.3:14444 answered a CryptoNote login (XMRig) over TLS like a pool"))
        let again = try analyze(["--probe", "--store", store, "--sensor", "west", capture], environment: env)
        #expect(again.hosts["10.66.3.10"]?["verdict"] as? String == "mining")
        #expect(!again.stderr.contains("probe: the server"), "asked again: \(again.stderr)")
        // The report names the servers asked and what they said.
        let md = try Binary.run(["report", "--store", store, "--since", "all", "--format", "md"], environment: env)
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.contains("## Servers asked whether they are pools"))
        #expect(md.stdout.contains("| 203.0.113.3:14444 | pool | monero | rx/0 |"), "\(md.stdout)")
        let json = try Binary.run(["report", "--store", store, "--since", "all", "--format", "json"], environment: env)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        let probed = doc["probed_servers"] as? [[String: Any]] ?? []
        #expect(probed.count == 1 && probed.first?["answer"] as? String == "pool", "\(json.stdout.prefix(2000))")
        // Without the store the same capture is only a guess.
        let alone = try analyze([capture])
        #expect(alone.hosts["10.66.3.10"]?["verdict"] as? String == "likely-mining")
    }

    @Test func probeOptionsAreChecked() throws {
        let r = try Binary.run([
            "analyze", "--probe-allow", "10.0.0.0/8", Self.encrypted + "/tls-miner-tls13-nosni.pcap"
        ])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--probe-allow and --probe-deny need --probe"))
        let rate = try Binary.run([
            "analyze", "--probe", "--probe-rate", "0", Self.encrypted + "/tls-miner-tls13-nosni.pcap"
        ])
        #expect(rate.status == 2)
        #expect(rate.stderr.contains("--probe-rate must be"))
    }
}
