import Foundation
import Testing

/// One capture stored twice is the same bytes: every document the store keeps — the host's report,
/// the record it was judged from, each session and evidence record — is written with its keys and
/// lists in a fixed order, whatever order this process's hashing gives sets and dictionaries.
@Suite struct StoreDeterminismTests {
    @Test func aCaptureStoredTwiceGivesTheSameDocuments() throws {
        let dir = Lab.tempDir("store-twice")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let captures = ["xmrig-cryptonote.pcap", "stratum-v1-vlan.pcap", "tls-to-pool.pcap", "socks-proxy.pcap"].map {
            Binary.root.path + "/pcaps/" + $0
        }
        func documents(_ name: String) throws -> String {
            let store = dir + "/" + name + ".sqlite"
            let run = try Binary.run(["analyze", "--format", "none", "--quiet", "--store", store] + captures)
            #expect(run.status == 1, Comment(rawValue: run.stderr))
            // sqlite3 is installed by scripts/test: its absence fails the test, never skips it.
            let read = try Binary.run(
                [
                    store,
                    "SELECT address, report_json, record_json FROM hosts ORDER BY 1;"
                        + " SELECT miner, miner_port, pool, pool_port, flow_first_seen, json FROM sessions ORDER BY 1, 2, 3, 4, 5;"
                        + " SELECT host, kind, name, peer, json FROM evidence ORDER BY 1, 2, 3, 4;"
                ], executable: "/usr/bin/sqlite3")
            #expect(read.status == 0, Comment(rawValue: read.stderr))
            return read.stdout
        }
        let first = try documents("first")
        let second = try documents("second")
        #expect(first.contains("commonTLSPorts") && first.contains("10.0.0.5"))
        #expect(first == second)
    }
}
