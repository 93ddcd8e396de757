import Foundation
import Testing

/// Every session of every capture (ours and `../shared/pcaps`) carries the Community ID that the
/// reference implementation (PyPI `communityid`, which `scripts/test` installs) computes for its tuple.
@Suite struct CommunityIDEndToEndTests {
    static let referenceAvailable: Bool = {
        (try? Binary.run(["python3", "-c", "import communityid"], executable: "/usr/bin/env").status) == 0
    }()

    static let pcapToolAvailable: Bool = {
        (try? Binary.run(
            ["sh", "-c", "command -v community-id-pcap && python3 -c 'import dpkt'"], executable: "/usr/bin/env"
        ).status) == 0
    }()

    /// (miner, pool, community_id) of every session in an `analyze --format json` document.
    static func sessions(_ json: String) throws -> [[String]] {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        var out: [[String]] = []
        for h in doc["hosts"] as? [[String: Any]] ?? [] {
            for s in (h["sessions"] as? [[String: Any]] ?? []) + (h["served_sessions"] as? [[String: Any]] ?? []) {
                out.append([
                    s["miner"] as? String ?? "", s["pool"] as? String ?? "", s["community_id"] as? String ?? "(none)"
                ])
            }
        }
        return out
    }

    /// Every Community ID a document gives: its sessions' and its evidence records'.
    static func communityIDs(_ json: String) throws -> (
        sessions: Set<String>, evidence: Set<String>, evidenceWithout: Int
    ) {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        var sessions = Set<String>()
        var evidence = Set<String>()
        var without = 0
        for h in doc["hosts"] as? [[String: Any]] ?? [] {
            for s in (h["sessions"] as? [[String: Any]] ?? []) + (h["served_sessions"] as? [[String: Any]] ?? []) {
                if let c = s["community_id"] as? String { sessions.insert(c) }
            }
            for e in h["evidence"] as? [[String: Any]] ?? [] {
                if let c = e["community_id"] as? String { evidence.insert(c) } else { without += 1 }
            }
        }
        return (sessions, evidence, without)
    }

    /// The reference's own reading of the capture (`community-id-pcap`, over dpkt): every session's and
    /// every evidence record's Community ID is one of the capture's flows as the reference sees them.
    @Test(
        .enabled(if: pcapToolAvailable, "community-id-pcap (PyPI communityid with dpkt) is absent: flows not checked"))
    func everyIDIsAFlowOfTheCaptureAsTheReferenceReadsIt() throws {
        var checked = 0
        var evidenceChecked = 0
        for capture in BaselineTests.generated() + BaselineTests.shared() {
            var file = capture
            if capture.hasSuffix(".pcapng") {  // the reference's reader takes classic pcap only
                file =
                    FileManager.default.temporaryDirectory.appendingPathComponent("cid-\(UUID().uuidString).pcap").path
                let converted = try Binary.run(["editcap", "-F", "pcap", capture, file], executable: "/usr/bin/env")
                guard converted.status == 0 else { continue }  // nanosecond pcapng and the like: not comparable
            }
            defer { if file != capture { try? FileManager.default.removeItem(atPath: file) } }
            let ours = try Self.communityIDs(try BaselineTests.run(["analyze", "--quiet", "--format", "json", capture]))
            guard !ours.sessions.isEmpty || !ours.evidence.isEmpty else { continue }
            let r = try Binary.run(["community-id-pcap", file], executable: "/usr/bin/env", directory: Binary.root)
            let flows = Set(
                r.stdout.split(separator: "\n").compactMap { line in
                    line.split(separator: "|").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
                })
            // dpkt, the reference's reader, takes Ethernet, not Linux "any"-interface captures (SLL2):
            // those it reads as packets that are not IP at all.
            if flows == ["<not IP>"] { continue }
            #expect(!flows.isEmpty, "\(capture): the reference read no flows: \(r.stderr)")
            guard !flows.isEmpty else { continue }
            for id in ours.sessions.union(ours.evidence) where !flows.contains(id) {
                Issue.record("\(capture): \(id) is no flow the reference found")
            }
            checked += ours.sessions.count + ours.evidence.count
            evidenceChecked += ours.evidence.count
            #expect(
                ours.evidenceWithout == 0, "\(capture): \(ours.evidenceWithout) evidence records without a Community ID"
            )
        }
        #expect(
            checked >= 30 && evidenceChecked >= 10, "Community IDs checked: \(checked), of evidence \(evidenceChecked)")
    }

    @Test(
        .enabled(
            if: referenceAvailable,
            "python3's communityid module is absent (scripts/test installs it): Community IDs not checked"))
    func everySessionMatchesTheReference() throws {
        var all: [[String]] = []
        for capture in BaselineTests.generated() + BaselineTests.shared() {
            all += try Self.sessions(try BaselineTests.run(["analyze", "--quiet", "--format", "json", capture]))
        }
        #expect(all.count >= 30, "sessions found: \(all.count)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cid-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: all).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // "ip:port" or "[v6]:port" as the reports write endpoints.
        let check = """
            import json, sys, communityid
            cid = communityid.CommunityID()
            def split(e):
                host, port = e.rsplit(":", 1)
                return host.strip("[]"), int(port)
            bad = 0
            for miner, pool, got in json.load(open(sys.argv[1])):
                (a, ap), (b, bp) = split(miner), split(pool)
                want = cid.calc(communityid.FlowTuple.make_tcp(a, b, ap, bp))
                if want != got:
                    bad += 1
                    print(f"{miner} {pool}: {got}, reference {want}")
            print(f"checked {len(json.load(open(sys.argv[1])))}, differing {bad}")
            """
        let r = try Binary.run(["python3", "-c", check, file.path], executable: "/usr/bin/env")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("differing 0\n"), "\(r.stdout)")
    }
}
