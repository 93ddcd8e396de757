import Foundation
import Locking
import OS
import Synchronization

/// Appends JSON lines to a file, rotating by size (FILE → FILE.1 → … → FILE.N, oldest dropped),
/// and reopening on SIGHUP so external log rotation works too.
public final class EventsFile: Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private struct State {
        var fd: Int32 = -1
        var size = 0
        var writeErrors = 0
    }
    /// Appends come from the capture thread and the store's writer thread (period summaries).
    private let state = Locked(State())
    public var writeErrors: Int { state.withLock { $0.writeErrors } }

    /// The path that means standard output (`--events -`): never rotated or reopened.
    public static let standardOutput = "-"
    /// `-`, or /dev/stdout spelled out (which a sensor that drops root could not reopen).
    public static func isStandardOutput(_ path: String) -> Bool { path == standardOutput || path == "/dev/stdout" }

    public init(path: String, maxBytes: Int = 100 * 1024 * 1024, keep: Int = 5) throws {
        self.path = path
        // Standard output belongs to whatever reads it (a pipe, the journal): not rotated.
        self.maxBytes = Self.isStandardOutput(path) ? Int.max : max(4096, maxBytes)
        self.keep = max(1, keep)
        try reopen()
    }

    deinit { state.withLock { if $0.fd > 2 { OS.close($0.fd) } } }

    public func reopen() throws {
        try state.withLock { s in try reopen(&s) }
    }

    /// Opens the file for appending; never through a symbolic link (one planted at the path
    /// cannot redirect a root-started sensor's writes).
    private func reopen(_ s: inout State) throws {
        if Self.isStandardOutput(path) {
            s.fd = 1
            return
        }
        if s.fd >= 0 { OS.close(s.fd) }
        s.fd = -1
        switch OS.openForAppend(path) {
        case .success(let f):
            s.fd = f.fd
            s.size = f.size
        case .failure(let e): throw OutputError(message: "cannot open events file \(path): \(e.text)")
        }
    }

    /// Appends one line (a newline is added).
    public func append(_ line: String) {
        state.withLock { s in
            if s.size >= maxBytes { rotate(&s) }
            let n = OS.write(s.fd, line + "\n")
            if n < 0 { s.writeErrors += 1 } else { s.size += n }
        }
    }

    private func rotate(_ s: inout State) {
        OS.close(s.fd)
        s.fd = -1
        for i in stride(from: keep - 1, through: 1, by: -1) { OS.rename("\(path).\(i)", "\(path).\(i + 1)") }
        OS.rename(path, "\(path).1")
        try? reopen(&s)
    }
}

/// An output (events file, syslog, webhook) that cannot be set up: the message says what to fix.
public struct OutputError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
