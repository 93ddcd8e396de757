import Foundation
import Locking
import Logging
import OS
import Reporting

/// Diagnostics — what the program says about itself, not what it found — through swift-log, with
/// one handler that decides their form: `stratumsniff: message` lines on stderr, or, under systemd
/// (stderr connected to the journal, `JOURNAL_STREAM`), lines with the kernel-style `<N>` priority
/// prefix the journal files by. Every message is made terminal-safe (wire strings reach them).
public enum Diagnostics {
    /// The program's logger; its level is set once by `bootstrap`.
    public static var log: Logger { Logger(label: "stratumsniff") }

    /// Levels as `--log-level` spells them.
    public static let levels = Logger.Level.allCases.map(\.rawValue)

    /// The level every new logger starts with (`log` makes one per use, so a change applies at once).
    private static let level = Locked(Logger.Level.notice)

    /// Installs the handler; call once, before anything logs.
    public static func bootstrap(
        level: Logger.Level, journald: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    ) {
        setLevel(level)
        LoggingSystem.bootstrap { _ in
            var h = DiagnosticLine(journald: journald)
            h.logLevel = Diagnostics.level.withLock { $0 }
            return h
        }
    }

    /// A new level from now on (SIGHUP with a config file).
    public static func setLevel(_ level: Logger.Level) { Self.level.withLock { $0 = level } }
}

/// One diagnostic, one line, on stderr.
struct DiagnosticLine: LogHandler {
    var logLevel: Logger.Level = .notice
    var metadata: Logger.Metadata = [:]
    let journald: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let text = TerminalSafe.escape(event.message.description)
        // On a terminal a warning says so; the journal files it by its priority instead.
        let out =
            journald
            ? "<\(Self.priority(level))>\(text)\n" : "stratumsniff: \(level == .warning ? "warning: " : "")\(text)\n"
        OS.writeStandardError(out)
    }

    /// syslog(3) priorities, as sd-daemon(3) prefixes expect them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
