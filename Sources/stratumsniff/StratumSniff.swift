import ArgumentParser
import PacketCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        subcommands: [Analyze.self, Live.self, Report.self, Interfaces.self]
    )

    /// ArgumentParser exits 64 on usage errors; our contract is 2 (README).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            FileHandleStderr.write("stratumsniff: " + message + "\n")
            if code == .validationFailure { FileHandleStderr.write("Run 'stratumsniff <command> --help' for usage.\n") }
            Glibc.exit(code == .validationFailure || code.rawValue == 64 ? Exit.usageOrInputError : Exit.usageOrInputError)
        }
    }
}

enum FileHandleStderr {
    static func write(_ s: String) {
        var copy = s
        copy.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }
}
