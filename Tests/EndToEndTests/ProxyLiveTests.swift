import Foundation
import Testing

/// Mining through a real SOCKS server: Debian's dante-server between a scripted miner and pool in
/// three namespaces (Tests/Fixtures/socks_through_dante.sh), the capture taken between miner and
/// proxy, where the proxy request is the only place the pool is named.
@Suite(
    .serialized,
    .enabled(
        if: Lab.available && FileManager.default.isExecutableFile(atPath: "/usr/sbin/danted"),
        "needs root, ip netns and dante-server (scripts/test installs it): the real-SOCKS test skipped"))
struct ProxyLiveTests {
    @Test func miningThroughDanteIsAttributedToThePoolItNames() throws {
        let pcap = Lab.tempDir("dante") + "/socks.pcap"
        let (status, out) = try Lab.run("/bin/bash", [Lab.fixtures + "/socks_through_dante.sh", pcap])
        try #require(status == 0, "socks_through_dante.sh: \(out)")
        let (_, doc) = try Binary.json([pcap])
        let hosts = Binary.hosts(doc)
        try #require(hosts.count == 1, "\(hosts.map { $0["host"] ?? "" })")
        let miner = hosts[0]
        #expect(miner["host"] as? String == "10.67.0.10")
        #expect(miner["verdict"] as? String == "mining")
        let reasons = (miner["reasons"] as? [String] ?? []).joined(separator: "\n")
        // SOCKS5 with the name: dante resolved it, the capture holds no DNS — the request names the pool.
        #expect(reasons.contains("at pool.supportxmr.com:3333 via SOCKS5 proxy 10.67.0.1:1080 (listed: supportxmr.com"))
        #expect(reasons.contains("at 10.68.0.20:3333 via SOCKS5 proxy 10.67.0.1:1080"))
        #expect(reasons.contains("at 10.68.0.20:3333 via SOCKS4 proxy 10.67.0.1:1080"))
        let sessions = miner["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == 3)
        #expect(sessions.allSatisfy { ($0["proxy"] as? [String: Any])?["kind"] != nil })
        // The proxy is never called a pool.
        #expect(!hosts.contains { $0["host"] as? String == "10.67.0.1" })
    }
}
