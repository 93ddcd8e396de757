import Foundation
import Testing

/// README's examples are what the binary prints. Every ```console block in README.md and docs/*.md is a script:
/// lines starting with `$ ` are commands (run by /bin/sh with the built `stratumsniff` first on PATH,
/// in a scratch directory where `pcaps/` and `../shared/pcaps/` resolve as in the repository), the
/// lines after a command are its standard output, compared exactly — except the run's wall-clock
/// duration in the table's summary line, which no two runs share.
@Suite struct ReadmeExamplesTests {
    struct Example: CustomStringConvertible {
        var file: String
        var line: Int
        /// Which ```console block: a block is one script (a store made by one command, read by the next).
        var block: Int
        var command: String
        var expected: String
        var description: String { "\(file):\(line): \(command)" }
    }

    /// README.md and every page of docs/.
    static var pages: [String] {
        let docs =
            (try? FileManager.default.contentsOfDirectory(atPath: Binary.root.appendingPathComponent("docs").path))
            ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    static func examples() -> [Example] {
        var out: [Example] = []
        var blocks = 0
        for page in pages {
            guard let text = try? String(contentsOf: Binary.root.appendingPathComponent(page), encoding: .utf8) else {
                continue
            }
            out += examples(in: text, file: page, blocks: &blocks)
        }
        return out
    }

    static func examples(in text: String, file: String, blocks: inout Int) -> [Example] {
        var out: [Example] = []
        var inBlock = false
        var current: Example?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("```") {
                if inBlock, let c = current {
                    out.append(c)
                    current = nil
                }
                inBlock = line == "```console"
                if inBlock { blocks += 1 }
                continue
            }
            guard inBlock else { continue }
            if line.hasPrefix("$ ") {
                if let c = current { out.append(c) }
                current = Example(
                    file: file, line: i + 1, block: blocks, command: String(line.dropFirst(2)), expected: "")
            } else {
                current?.expected += line + "\n"
            }
        }
        return out
    }

    /// The elapsed time of a run ("…, 0.02 s, …") is the one thing that differs between runs.
    static func normalise(_ s: String) -> String {
        s.replacingOccurrences(of: #", \d+\.\d+ s, "#, with: ", ‹elapsed› s, ", options: .regularExpression)
    }

    /// Every relative link of README.md and docs/*.md names a file that exists (the pages moved once; they may again).
    @Test func relativeLinksResolve() throws {
        let link = try Regex(#"\]\(([^)#:]+)(#[^)]*)?\)"#)
        var broken: [String] = []
        for page in Self.pages {
            let url = Binary.root.appendingPathComponent(page)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for match in text.matches(of: link) {
                guard let target = match.output[1].substring.map(String.init), !target.hasPrefix("http") else {
                    continue
                }
                let resolved = url.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL.path
                if !FileManager.default.fileExists(atPath: resolved) { broken.append("\(page): \(target)") }
            }
        }
        #expect(broken.isEmpty, "\(broken)")
    }

    @Test func readmeHasExamples() {
        #expect(Self.examples().count >= 3, "README.md lost its ```console examples")
    }

    @Test func examplesAreWhatTheBinaryPrints() throws {
        let examples = Self.examples()
        let needsShared = examples.contains { $0.command.contains("../shared/pcaps") }
        if needsShared && !Binary.sharedAvailable {
            print("../shared/pcaps is absent: README examples that use it are skipped")
        }
        // A scratch checkout shape: DIR/main/pcaps → the repository's, DIR/shared → ../shared.
        let dir = Lab.tempDir("readme")
        let main = dir + "/main"
        try FileManager.default.createDirectory(atPath: main, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: main + "/pcaps", withDestinationPath: Binary.root.appendingPathComponent("pcaps").path)
        if Binary.sharedAvailable {
            try FileManager.default.createSymbolicLink(
                atPath: dir + "/shared", withDestinationPath: Binary.shared.deletingLastPathComponent().path)
        }
        let bin = URL(fileURLWithPath: Binary.path).deletingLastPathComponent().path
        let needingShared = Set(examples.filter { $0.command.contains("../shared/pcaps") }.map(\.block))
        for example in examples where Binary.sharedAvailable || !needingShared.contains(example.block) {
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            let r = try Binary.run(
                ["-c", example.command], executable: "/bin/sh", directory: URL(fileURLWithPath: main), environment: env)
            let got = Self.normalise(r.stdout)
            let want = Self.normalise(example.expected)
            #expect(got == want, "\(example) prints something else:\n\(got)")
        }
    }
}
