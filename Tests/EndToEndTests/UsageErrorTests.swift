import Foundation
import Testing

/// Mistakes on the command line get one line that says what is wrong with what was typed.
struct UsageErrorTests {
    static let capture = Binary.root.appendingPathComponent("pcaps/relay.pcap").path

    @Test(arguments: [
        (["analyze", "--workers", "-3"], "--workers must be between 1 and 256 (got -3)"),
        (["analyze", "--workers", "0"], "--workers must be between 1 and 256 (got 0)"),
        (["analyze", "--max-flows", "-1"], "--max-flows must be between 1 and 2^40 (got -1)"),
        (["analyze", "--tcp-idle-timeout", "-5"], "--tcp-idle-timeout must be a positive number of seconds"),
        (
            ["live", "-i", "lo", "--duration", "1", "--format", "none", "--no-store", "--workers", "-2"],
            "--workers must be between 1 and 256 (got -2)"
        )
    ])
    func negativeNumbersAreRefusedWithTheirReason(args: [String], reason: String) throws {
        let r = try Binary.run(args + (args[0] == "analyze" ? [Self.capture] : []))
        #expect(
            r.status == 2 && r.stderr.contains(reason) && !r.stderr.contains("Missing value"),
            Comment(rawValue: r.stderr))
    }

    @Test func intelStatusWithoutACacheSaysWhatToRunAndNoUsage() throws {
        let r = try Binary.run(["intel", "status", "--cache", "/nonexistent/stratumsniff-intel"])
        #expect(r.status == 2, Comment(rawValue: r.stderr))
        #expect(
            r.stderr.contains("intel update") && !r.stderr.contains("Usage:")
                && r.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: r.stderr))
    }
}
