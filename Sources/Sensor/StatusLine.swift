import OS
import Reporting

/// One line on standard error, redrawn in place; only when stderr is a terminal (and not --quiet),
/// so logs and pipes never see it. Used by `analyze` (progress) and `live` (capture status).
public final class StatusLine {
    public let enabled: Bool
    private var shown = false

    public init(quiet: Bool) { enabled = !quiet && OS.isTerminal(2) }

    /// `text` may carry wire strings (file names): it is escaped for the terminal.
    public func show(_ text: String) {
        guard enabled else { return }
        OS.writeStandardError("\r\u{1B}[K" + TerminalSafe.escape(text))
        shown = true
    }

    public func clear() {
        if shown {
            OS.writeStandardError("\r\u{1B}[K")
            shown = false
        }
    }
}
