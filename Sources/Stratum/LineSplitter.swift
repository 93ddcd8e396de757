/// Splits a byte stream into `\n`-terminated lines with a maximum line length.
///
/// Complete lines inside one chunk are handed out straight from the borrowed
/// chunk; only a trailing partial line is copied. A line longer than the cap
/// is dropped (counted), and so is the partial line cut by a gap: after either,
/// the splitter resynchronises at the next newline.
public struct LineSplitter: Sendable {
    public let maxLineLength: Int
    private var partial: [UInt8] = []
    /// Discarding bytes until the next newline (after a gap, an overlong line, or a mid-stream start).
    public private(set) var resyncing: Bool
    /// Bytes discarded while resynchronising since the last complete line.
    public private(set) var resyncBytes = 0
    public private(set) var overlongLines = 0

    public init(maxLineLength: Int, startResyncing: Bool = false) {
        self.maxLineLength = maxLineLength
        self.resyncing = startResyncing
    }

    /// Bytes allocated for an incomplete line (for the global decoder budget: capacity, not count).
    public var bufferedBytes: Int { partial.capacity }

    /// Feeds a chunk; calls `line` for each complete line (without `\n`; a
    /// trailing `\r` is kept for the caller to trim). Return false from `line`
    /// to stop early (the rest of the chunk is discarded).
    /// - Complexity: O(n) in the chunk length.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Bool) {
        var start = 0
        let n = chunk.count
        while start < n {
            guard let nl = Self.firstNewline(chunk, from: start) else {
                // No newline in the rest: keep it as a partial line, within the cap.
                let rest = n - start
                if resyncing {
                    resyncBytes += rest
                } else if partial.count + rest > maxLineLength {
                    overlongLines += 1
                    partial.removeAll(keepingCapacity: false)
                    resyncing = true
                    resyncBytes = 0
                } else {
                    partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<n]))
                }
                return
            }
            if resyncing {
                resyncing = false
                resyncBytes = 0
                start = nl + 1
                continue
            }
            let keepGoing: Bool
            if partial.isEmpty {
                if nl - start > maxLineLength {
                    overlongLines += 1
                    start = nl + 1
                    continue
                }
                keepGoing = line(UnsafeRawBufferPointer(rebasing: chunk[start..<nl]))
            } else {
                if partial.count + (nl - start) > maxLineLength {
                    overlongLines += 1
                    partial.removeAll(keepingCapacity: false)
                    start = nl + 1
                    continue
                }
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<nl]))
                keepGoing = partial.withUnsafeBytes { line($0) }
                partial.removeAll(keepingCapacity: true)
            }
            if !keepGoing { return }
            start = nl + 1
        }
    }

    /// Bytes were lost: the partial line is unusable; resynchronise at the next newline.
    public mutating func gap() {
        partial.removeAll(keepingCapacity: false)
        resyncing = true
        resyncBytes = 0
    }

    private static func firstNewline(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from < b.count, let base = b.baseAddress else { return nil }
        guard let p = memchr(base + from, 0x0A, b.count - from) else { return nil }
        return UnsafeRawPointer(p) - base
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
