import Foundation
import Testing
import TrafficGen

/// docs/architecture.md "Workers": `analyze` gives byte-identical JSON with 1, 2 and 4 workers on every capture we
/// have, whatever the threads' interleaving (only the run's duration differs).
@Suite struct WorkersEndToEndTests {
    static func json(_ captures: [String], workers: Int) throws -> String {
        BaselineTests.withoutVolatileFields(
            try BaselineTests.run(["analyze", "--quiet", "--format", "json", "--workers", "\(workers)"] + captures))
    }

    static func check(_ captures: [String], workers: [Int]) throws {
        let one = try json(captures, workers: 1)
        #expect(one.contains("\"packets\""), "no JSON for \(captures)")
        for n in workers {
            let many = try json(captures, workers: n)
            if many != one {
                let a = one.split(separator: "\n")
                let b = many.split(separator: "\n")
                let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                Issue.record(
                    "\(captures.joined(separator: " ")): \(n) workers differ from 1 at line \(i + 1): \(i < b.count ? String(b[i]) : "(end)") vs \(i < a.count ? String(a[i]) : "(end)")"
                )
            }
        }
    }

    @Test(arguments: BaselineTests.generated())
    func generatedCaptures(capture: String) throws { try Self.check([capture], workers: [2, 4]) }

    @Test(
        .enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: workers not compared on the real captures"),
        arguments: BaselineTests.shared())
    func realCaptures(capture: String) throws { try Self.check([capture], workers: [2, 4]) }

    /// Every capture as one timeline (times jump back between files: the clock holds).
    @Test func everyCaptureAsOneInput() throws {
        try Self.check(BaselineTests.generated() + BaselineTests.shared(), workers: [2, 3])
    }
}

/// The hostile regression set with 1 and 3 workers: where no cap is reached (a flood's cap fills per
/// worker), the documents are the same; every run survives either way.
@Suite struct HostileWorkersTests {
    @Test(arguments: Hostile.regression.map(\.name))
    func hostileCapturesWithWorkers(_ name: String) throws {
        let path = try HostileEndToEndTests.file(name)
        let one = try Binary.run(["analyze", "--quiet", "--format", "json", "--workers", "1", path])
        let three = try Binary.run(["analyze", "--quiet", "--format", "json", "--workers", "3", path])
        #expect([0, 1].contains(three.status), "\(name): exit \(three.status): \(three.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any]
        let summary = doc?["summary"] as? [String: Any] ?? [:]
        let anomalies = summary["anomalies"] as? [String: Int] ?? [:]
        let capped =
            (summary["evicted_flows"] as? Int ?? 0) > 0
            || [
                "evidence_cap", "host_table_full", "host_evicted", "decoder_memory_cap", "reassembly_memory_cap",
                "fragment_memory_cap", "session_not_stored"
            ].contains { anomalies[$0, default: 0] > 0 }
        if !capped {
            #expect(
                BaselineTests.withoutVolatileFields(three.stdout) == BaselineTests.withoutVolatileFields(one.stdout),
                "\(name): 3 workers differ from 1")
        }
    }
}
