import ArgumentParser
import OS
import Reporting

/// `stratumsniff config show`: the settings a command would run with — from its flags, its config
/// file and the defaults — and where each came from, printed as a config file (so it round-trips).
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Config files: show the effective settings.",
        subcommands: [Show.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the settings a command runs with (flags, then --config FILE, then defaults) and where each comes from.",
            discussion: """
                The output is itself a config file: 'stratumsniff config show --config a.yaml > b.yaml' then \
                'stratumsniff live --config b.yaml' runs with the same settings. Example:
                  stratumsniff config show --config /etc/stratumsniff/live.yaml -- -i eth1
                """
        )

        @Option(name: .customLong("for"), help: "The command whose settings to show: live, analyze or report.")
        var command = "live"

        @Option(name: .customLong("config"), help: ArgumentHelp("The config file.", valueName: "file"))
        var path: String?

        @Argument(parsing: .postTerminator, help: "The command's own flags, after --.")
        var arguments: [String] = []

        func validate() throws {
            guard ConfigArguments.commands.contains(command) else {
                throw ValidationError(
                    "--for \(TerminalSafe.escape(command)): one of \(ConfigArguments.commands.sorted().joined(separator: ", "))"
                )
            }
        }

        func run() throws {
            let given = [command] + (path.map { ["--config", $0] } ?? []) + arguments
            let expanded: (arguments: [String], file: ConfigFile?, schema: CommandSchema?)
            do { expanded = try ConfigArguments.expand(given) } catch {
                OS.writeStandardError("stratumsniff: \(error)\n")
                throw ExitCode(Exit.usageOrInputError)
            }
            // The command checks its own settings, as it would when run.
            _ = try StratumSniff.parseAsRoot(expanded.arguments)
            guard let schema = expanded.schema ?? CommandSchema.of(command) else { return }
            print(
                ConfigShow.render(
                    schema: schema, arguments: expanded.arguments, commandLine: arguments, file: expanded.file))
        }
    }
}

/// The effective settings as YAML with a comment naming each one's source. Values are written as
/// JSON strings (valid YAML, any character escaped), so what was read is what is printed back.
enum ConfigShow {
    static func render(schema: CommandSchema, arguments: [String], commandLine: [String], file: ConfigFile?) -> String {
        let effective = schema.values(in: Array(arguments.dropFirst()))
        let fromCommandLine = Set(schema.values(in: commandLine).keys)
        var lines = [
            "# stratumsniff \(schema.command): the effective settings and where each comes from.",
            "# A config file: 'stratumsniff \(schema.command) --config FILE' runs with exactly these."
        ]
        let width = 40
        for s in schema.settings {
            let source: String
            if fromCommandLine.contains(s.name) {
                source = "command line"
            } else if let file, let entry = file.entries.first(where: { $0.key == s.name }) {
                source = "\(file.path):\(entry.line)"
            } else {
                source = "default"
            }
            let text: String
            if !s.takesValue {
                text = "\(s.name): \(effective[s.name] != nil)"
            } else if let values = effective[s.name] {
                text =
                    "\(s.name): "
                    + (s.repeats ? "[" + values.map(quoted).joined(separator: ", ") + "]" : quoted(values[0]))
            } else if s.repeats {
                text = "\(s.name): []"
            } else if let value = s.defaultValue {
                text = "\(s.name): \(quoted(value))"
            } else {
                lines.append("# \(s.name): (not set)")
                continue
            }
            lines.append(
                text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) + " # "
                    + TerminalSafe.escape(source))
        }
        return lines.joined(separator: "\n")
    }

    /// A JSON string literal (YAML reads it unchanged): the project's JSON writer, which escapes every
    /// control and invisible character.
    static func quoted(_ s: String) -> String { JSONOutput.encode(s, pretty: false) }
}
