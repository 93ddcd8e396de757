import OS
import Reporting

/// One line on standard error, redrawn in place; only when stderr is a terminal (and not --quiet),
/// so logs and pipes never see it. Used by `analyze` (progress) and `live` (capture status).
final class StatusLine {
    let enabled: Bool
    private var shown = false

    init(quiet: Bool) { enabled = !quiet && OS.isTerminal(2) }

    /// `text` may carry wire strings (file names): it is escaped for the terminal.
    func show(_ text: String) {
        guard enabled else { return }
        OS.writeStandardError("\r\u{1B}[K" + TerminalSafe.escape(text))
        shown = true
    }

    func clear() {
        if shown {
            OS.writeStandardError("\r\u{1B}[K")
            shown = false
        }
    }
}
