import Foundation
import Testing

/// README "Workers": `analyze` gives byte-identical JSON with 1, 2 and 4 workers on every capture we
/// have, whatever the threads' interleaving (only the run's duration differs).
@Suite struct WorkersEndToEndTests {
    static func json(_ captures: [String], workers: Int) throws -> String {
        BaselineTests.withoutVolatileFields(try BaselineTests.run(["analyze", "--quiet", "--format", "json", "--workers", "\(workers)"] + captures))
    }

    static func check(_ captures: [String], workers: [Int]) throws {
        let one = try json(captures, workers: 1)
        #expect(one.contains("\"packets\""), "no JSON for \(captures)")
        for n in workers {
            let many = try json(captures, workers: n)
            if many != one {
                let a = one.split(separator: "\n"), b = many.split(separator: "\n")
                let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                Issue.record("\(captures.joined(separator: " ")): \(n) workers differ from 1 at line \(i + 1): \(i < b.count ? String(b[i]) : "(end)") vs \(i < a.count ? String(a[i]) : "(end)")")
            }
        }
    }

    @Test(arguments: BaselineTests.generated())
    func generatedCaptures(capture: String) throws { try Self.check([capture], workers: [2, 4]) }

    @Test(.enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: workers not compared on the real captures"),
          arguments: BaselineTests.shared())
    func realCaptures(capture: String) throws { try Self.check([capture], workers: [2, 4]) }

    /// Every capture as one timeline (times jump back between files: the clock holds).
    @Test func everyCaptureAsOneInput() throws {
        try Self.check(BaselineTests.generated() + BaselineTests.shared(), workers: [2, 3])
    }
}
