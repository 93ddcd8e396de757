import ArgumentParser
import Logging
import Sensor

/// `--log-level`: how much the program says about itself on stderr (or to the journal).
struct DiagnosticOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "notice"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel): use one of \(Diagnostics.levels.joined(separator: ", "))")
        }
    }

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .notice }
}

/// A command whose diagnostics follow its `--log-level`.
protocol HasDiagnostics { var diagnostics: DiagnosticOptions { get } }

extension Analyze: HasDiagnostics {}
extension Live: HasDiagnostics {}
extension Report: HasDiagnostics {}
