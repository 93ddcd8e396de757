import Foundation
import Testing

/// Golden baselines: what the binary reports for every capture in `pcaps/` and `../shared/pcaps/`
/// (the `analyze --format json` document) and for a store made from each set (the Markdown period
/// report), byte for byte. Fields that differ between two honest runs are excluded by name.
/// `scripts/update-baselines` rewrites the files and shows the diff: never commit one unread.
@Suite struct BaselineTests {
    static let directory = Binary.root.appendingPathComponent("Tests/Baselines")
    static let updating = ProcessInfo.processInfo.environment["STRATUMSNIFF_UPDATE_BASELINES"] == "1"
    /// Wall-clock bookkeeping: the run's duration and the report's generation time.
    static let volatileFields = ["elapsed_seconds", "generated"]

    /// `pcaps/` and `pcaps/encrypted/` (recorded from real programs by `scripts/record-encrypted`).
    static func generated() -> [String] {
        ["pcaps", "pcaps/encrypted"].flatMap { dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: Binary.root.appendingPathComponent(dir).path)) ?? [])
                .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { dir + "/" + $0 }
        }
    }

    static func shared() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Binary.shared.path)) ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { "../shared/pcaps/" + $0 }
    }

    /// Runs the binary in the repository root, so that paths in errors read as they do here.
    static func run(_ args: [String]) throws -> String { try Binary.run(args, directory: Binary.root).stdout }

    static func withoutVolatileFields(_ text: String) -> String {
        volatileFields.reduce(text) { t, name in
            t.replacingOccurrences(
                of: "(\"\(name)\" : )[^,\\n]+", with: "$1\"‹not compared›\"", options: .regularExpression)
        }
    }

    /// Compares `actual` with the baseline `name`, or writes it when updating.
    static func check(_ actual: String, baseline name: String) throws {
        let url = directory.appendingPathComponent(name)
        let text = withoutVolatileFields(actual)
        if updating {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("no baseline Tests/Baselines/\(name): run scripts/update-baselines and review the result")
            return
        }
        if expected != text {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let a = text.split(separator: "\n", omittingEmptySubsequences: false)
            let i = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
            Issue.record(
                """
                Tests/Baselines/\(name) differs from the output, first at line \(i + 1):
                  baseline: \(i < e.count ? String(e[i]) : "(end)")
                  now:      \(i < a.count ? String(a[i]) : "(end)")
                If the change is intended, run scripts/update-baselines and review the diff.
                """)
        }
    }

    static func baselineName(_ capture: String) -> String {
        let dir =
            capture.hasPrefix("../shared/")
            ? "analyze-shared/" : capture.hasPrefix("pcaps/encrypted/") ? "analyze/encrypted/" : "analyze/"
        return dir + URL(fileURLWithPath: capture).lastPathComponent + ".json"
    }

    @Test(arguments: generated())
    func analyzeJSON(capture: String) throws {
        try Self.check(
            try Self.run(["analyze", "--quiet", "--format", "json", capture]), baseline: Self.baselineName(capture))
    }

    @Test(
        .enabled(if: Binary.sharedAvailable, "../shared/pcaps is absent: baselines of the real captures skipped"),
        arguments: shared())
    func analyzeJSONOfRealCaptures(capture: String) throws {
        try Self.check(
            try Self.run(["analyze", "--quiet", "--format", "json", capture]), baseline: Self.baselineName(capture))
    }

    /// A store made from each set (one `analyze --store` run per capture, as an analyst adds the captures
    /// of an incident one by one), rendered as Markdown over all of it.
    @Test(arguments: ["generated", "shared"])
    func storeReport(set: String) throws {
        let captures = set == "generated" ? Self.generated() : Self.shared()
        if set == "shared" && !Binary.sharedAvailable { return }
        let store = Lab.tempDir("baseline") + "/\(set).sqlite"
        for capture in captures {
            _ = try Self.run(["analyze", "--quiet", "--format", "none", "--store", store, capture])
        }
        try Self.check(
            try Self.run(["report", "--store", store, "--since", "all", "--format", "md"]), baseline: "report/\(set).md"
        )
    }

    /// Every baseline belongs to a capture that still exists (a renamed capture leaves no orphan).
    @Test func noOrphanBaselines() throws {
        guard !Self.updating else { return }
        let expected = Set(Self.generated().map(Self.baselineName))
        let present = ["analyze", "analyze/encrypted"].flatMap { dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: Self.directory.appendingPathComponent(dir).path))
                ?? [])
                .filter { $0.hasSuffix(".json") }.map { dir + "/" + $0 }
        }
        #expect(
            Set(present) == expected,
            "baselines without captures, or captures without baselines: run scripts/update-baselines")
    }
}
