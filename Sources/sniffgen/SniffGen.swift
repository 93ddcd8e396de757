import ArgumentParser
import Foundation
import TrafficGen

@main
struct SniffGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sniffgen",
        abstract: "Generate StratumSniff's own test and benchmark captures.",
        subcommands: [CorpusCommand.self, BenchCommand.self, HostileCommand.self, FloodCommand.self, MixedCommand.self]
    )
}

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "Write the scripted captures and their README into DIR.")
    @Argument(help: "Output directory (pcaps/).") var directory: String

    func run() throws {
        var readme = """
            # Generated captures

            Written by `scripts/gen-pcaps` (`sniffgen corpus pcaps`) from the scripted conversations in
            `Sources/TrafficGen/Scenarios.swift`; nothing here was captured on a real network. Message shapes
            follow the real captures in `../shared/pcaps` and the miners' protocols. Hosts not listed under a
            file must not be flagged.

            | file | what it holds | expected verdicts |
            |---|---|---|

            """
        for s in Corpus.all {
            try PcapWriter.write(s.build(), to: directory + "/" + s.name)
            let expected =
                s.expected.isEmpty
                ? "nothing flagged"
                : s.expected.sorted { $0.key < $1.key }.map { "\($0.key) `\($0.value)`" }.joined(separator: ", ")
            readme += "| \(s.name) | \(s.description) | \(expected) |\n"
            print("wrote \(directory)/\(s.name)")
        }
        try PcapWriter.write(Array(readme.utf8), to: directory + "/README.md")
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Write the large benchmark capture.")
    @Argument(help: "Output file.") var output: String
    @Option(help: "Approximate size in megabytes.") var megabytes = 1100
    @Option(help: "Concurrent bulk TCP flows.") var flows = 30_000
    @Option(help: "Stratum sessions mixed in.") var stratum = 300
    @Option(help: "Packets per second of capture time (a small office: a few hundred).") var packetsPerSecond: Double =
        50_000
    @Flag(help: "Quiet spells of 1-10 minutes now and then.") var idleGaps = false
    @Flag(help: "Short flows with small responses and a DNS lookup every 8 packets (an office's traffic).")
    var shortFlows = false
    @Flag(help: "A day at a small office: --short-flows --idle-gaps --packets-per-second 300 --flows 300.") var office =
        false

    func validate() throws {
        guard megabytes > 0, flows > 0, stratum >= 0 else {
            throw ValidationError("--megabytes and --flows must be positive, --stratum not negative")
        }
        guard packetsPerSecond.isFinite, packetsPerSecond > 0 else {
            throw ValidationError("--packets-per-second must be a positive number")
        }
    }

    func run() throws {
        var gen = BenchCapture(
            targetBytes: megabytes * 1_000_000, concurrentFlows: office ? 300 : flows, stratumSessions: stratum,
            packetsPerSecond: office ? 300 : packetsPerSecond, idleGaps: idleGaps || office)
        gen.shortFlows = shortFlows || office
        let r = try gen.write(to: output)
        print("wrote \(output): \(r.packets) packets, \(r.bytes) bytes")
    }
}

struct HostileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile",
        abstract: "Write one small hostile capture per attack class into DIR (the regression set).")
    @Argument(help: "Output directory.") var directory: String

    func run() throws {
        for c in Hostile.regression {
            try PcapWriter.write(c.bytes, to: directory + "/" + c.name)
            print("\(directory)/\(c.name)\t\(c.what)")
        }
    }
}

struct FloodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood", abstract: "Stream one flood class into a capture (scripts/flood).")
    @Argument(help: "Class: \(Hostile.FloodClass.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
    @Argument(help: "Output file.") var output: String
    @Option(help: "Units (packets, or flows for the per-flow classes).") var count = 100_000

    func validate() throws {
        guard Hostile.FloodClass(rawValue: kind) != nil else {
            throw ValidationError(
                "unknown class \(kind): one of \(Hostile.FloodClass.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        let w = try PcapFileWriter(path: output)
        Hostile.flood(Hostile.FloodClass(rawValue: kind)!, count: count, into: w)
        w.close()
        print("wrote \(output): \(w.bytesWritten) bytes")
    }
}

struct MixedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixed",
        abstract: "Every flood class and real captures interleaved on one timeline (scripts/flood --mixed).")
    @Argument(help: "Output file.") var output: String
    @Option(help: "Units per class (the per-flow classes take fewer, as in scripts/flood).") var count = 100_000
    @Option(name: .customLong("with"), help: "A real capture (classic pcap, Ethernet) to interleave; repeatable.")
    var captures: [String] = []
    @Option(help: "Copies of each real capture, a minute apart.") var repeats = 1

    func validate() throws {
        guard count > 0, repeats > 0 else { throw ValidationError("--count and --repeats must be positive") }
    }

    func run() throws {
        let scratch = (output as NSString).deletingLastPathComponent
        try Hostile.mixed(
            count: count, captures: captures, repeats: repeats, scratch: scratch.isEmpty ? "." : scratch, into: output)
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("wrote \(output): \(size) bytes")
    }
}
