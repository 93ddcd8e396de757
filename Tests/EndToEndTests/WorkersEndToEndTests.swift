import Foundation
import Testing
import TrafficGen

/// docs/architecture.md "Workers": `analyze` gives byte-identical JSON with 1, 2, 3 and 4 workers on every capture
/// we have, whatever the threads' interleaving (only the run's duration differs).
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
    func generatedCaptures(capture: String) throws { try Self.check([capture], workers: [2, 3, 4]) }

    @Test(
        .enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: workers not compared on the real captures"),
        arguments: BaselineTests.shared())
    func realCaptures(capture: String) throws { try Self.check([capture], workers: [2, 3, 4]) }

    /// Every capture as one timeline (times jump back between files: the clock holds).
    @Test func everyCaptureAsOneInput() throws {
        try Self.check(BaselineTests.generated() + BaselineTests.shared(), workers: [2, 3, 4])
    }
}

/// The hostile regression set with 1, 2, 3 and 4 workers: the same documents, floods that fill a
/// cap included (each shard has its share of every cap, whichever worker holds it).
@Suite struct HostileWorkersTests {
    @Test(arguments: Hostile.regression.map(\.name))
    func hostileCapturesWithWorkers(_ name: String) throws {
        let path = try HostileEndToEndTests.file(name)
        var documents: [Int: String] = [:]
        for n in [1, 2, 3, 4] {
            let run = try Binary.run(["analyze", "--quiet", "--format", "json", "--workers", "\(n)", path])
            #expect([0, 1].contains(run.status), "\(name): exit \(run.status) with \(n) workers: \(run.stderr)")
            documents[n] = BaselineTests.withoutVolatileFields(run.stdout)
        }
        for n in [2, 3, 4] { #expect(documents[n] == documents[1], "\(name): \(n) workers differ from 1") }
    }
}

/// At the caps: a flood that fills the flow table (a small `--max-flows`) and the fragment budget,
/// with real miners inside, gives one document for 1, 2, 3 and 4 workers and run after run — the
/// same flows evicted, the same sessions kept.
@Suite struct WorkersAtTheCapsTests {
    @Test func aFullFlowTableEvictsTheSameFlowsForAnyNumberOfWorkers() throws {
        let dir = Lab.tempDir("workers-caps")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let capture = try MemoryBoundTests.mixedFlood(in: dir, count: 5000)
        func document(_ workers: Int) throws -> String {
            let run = try Binary.run([
                "analyze", "--quiet", "--format", "json", "--max-flows", "4096", "--workers", "\(workers)", capture
            ])
            #expect(run.status == 1, Comment(rawValue: run.stderr))
            return BaselineTests.withoutVolatileFields(run.stdout)
        }
        let one = try document(1)
        let doc = try JSONSerialization.jsonObject(with: Data(one.utf8)) as? [String: Any]
        let summary = doc?["summary"] as? [String: Any] ?? [:]
        #expect((summary["evicted_flows"] as? Int ?? 0) > 1000, "the table never filled: \(summary)")
        #expect(one.contains("\"10.0.0.5\""), "the real miner is missing")
        for n in [2, 3, 4, 2, 4] {
            let many = try document(n)
            #expect(many == one, "\(n) workers differ from 1 at the flow cap")
        }
    }
}
