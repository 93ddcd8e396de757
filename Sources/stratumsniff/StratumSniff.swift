import ArgumentParser
import OS
import PacketCapture
import Sensor

/// Exit statuses (README "Exit status").
enum Exit {
    static let clean: Int32 = 0
    static let minerFound: Int32 = 1
    static let usageOrInputError: Int32 = 2
}

@main
struct StratumSniff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stratumsniff",
        abstract: "Find cryptocurrency miners (cryptojacking) in network traffic.",
        version: "0.1.0 (\(PcapFileSource.libraryVersion))",
        subcommands: [
            Analyze.self, Live.self, Report.self, Prune.self, Probe.self, Interfaces.self, Intel.self, Config.self
        ]
    )

    /// ArgumentParser exits 64 on usage errors; our contract is 2 (README "Exit status").
    static func main() {
        // No command at all is a usage mistake, not a request for help: the help goes to standard
        // error and the status says it failed (a script that forgot its arguments must notice).
        if CommandLine.arguments.count == 1 {
            OS.writeStandardError(helpMessage() + "\n")
            OS.exit(Exit.usageOrInputError)
        }
        var configFile: ConfigFile?
        do {
            let arguments: [String]
            do {
                let expanded = try ConfigArguments.expand(Array(CommandLine.arguments.dropFirst()))
                (arguments, configFile) = (expanded.arguments, expanded.file)
            } catch {
                OS.writeStandardError("stratumsniff: \(error)\n")
                OS.exit(Exit.usageOrInputError)
            }
            var command = try parseAsRoot(arguments)
            Diagnostics.bootstrap(level: (command as? HasDiagnostics)?.diagnostics.level ?? .notice)
            try command.run()
        } catch let exit as ExitCode {
            OS.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                OS.exit(0)
            }
            // A setting from the config file: its line is named at the end of the error's first line.
            var lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if let origin = configFile?.origin(of: message), !lines.isEmpty { lines[0] += origin }
            OS.writeStandardError("stratumsniff: " + lines.joined(separator: "\n") + "\n")
            // ArgumentParser's usage text already names the command's help; a validation error does not.
            if !message.contains("--help") {
                let command = CommandLine.arguments.dropFirst().first { name in subcommandNames.contains(name) }
                OS.writeStandardError("Run 'stratumsniff \(command.map { "\($0) " } ?? "")--help' for usage.\n")
            }
            OS.exit(Exit.usageOrInputError)
        }
    }

    static let subcommandNames = configuration.subcommands.compactMap {
        $0.configuration.commandName ?? String(describing: $0).lowercased()
    }
}
