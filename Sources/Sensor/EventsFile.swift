import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Appends JSON lines to a file, rotating by size (FILE → FILE.1 → … → FILE.N, oldest dropped),
/// and reopening on SIGHUP so external log rotation works too.
public final class EventsFile: @unchecked Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private var fd: Int32 = -1
    private var size = 0
    /// Appends come from the capture thread and the store's writer thread (period summaries).
    private let lock = NSLock()
    public private(set) var writeErrors = 0

    public init(path: String, maxBytes: Int = 100 * 1024 * 1024, keep: Int = 5) throws {
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        self.keep = max(1, keep)
        try reopen()
    }

    deinit { if fd >= 0 { close(fd) } }

    public func reopen() throws {
        lock.lock(); defer { lock.unlock() }
        try reopenLocked()
    }

    private func reopenLocked() throws {
        if fd >= 0 { close(fd) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw OutputError(message: "cannot open events file \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Appends one line (a newline is added).
    public func append(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        if size >= maxBytes { rotate() }
        var text = line + "\n"
        let n = text.withUTF8 { buf in write(fd, buf.baseAddress, buf.count) }
        if n < 0 { writeErrors += 1 } else { size += n }
    }

    private func rotate() {
        close(fd)
        for i in stride(from: keep - 1, through: 1, by: -1) { rename("\(path).\(i)", "\(path).\(i + 1)") }
        rename(path, "\(path).1")
        try? reopenLocked()
    }
}

/// An output (events file, syslog, webhook) that cannot be set up: the message says what to fix.
public struct OutputError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
