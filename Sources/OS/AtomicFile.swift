import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a file could not be written, in words about the file the user named.
public struct FileWriteError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Report files written whole or not at all: into a temporary file beside the target, then renamed
/// over it, so a reader never sees half a report.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws { try write(to: path) { $0(text) } }

    /// Writes what `produce` hands over, piece by piece: a large report is never whole in memory.
    public static func write(to path: String, _ produce: ((String) -> Void) -> Void) throws {
        if let dir = missingDirectory(of: path) {
            throw FileWriteError(
                "cannot write \(path): the directory \(dir) does not exist; create it or choose another --output")
        }
        // Said in words, about the file the user named (not the temporary one).
        func failure(_ why: String) -> FileWriteError {
            FileWriteError("cannot write \(path): \(why); check the directory is writable or choose another --output")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw failure(reason(errno: errno)) }
        var failed: String?
        produce { piece in
            guard failed == nil else { return }
            do { try handle.write(contentsOf: Data(piece.utf8)) } catch { failed = reason(error) }
        }
        do { try handle.close() } catch { failed = failed ?? reason(error) }
        if failed == nil && rename(temporary, path) != 0 { failed = reason(errno: errno) }
        if let failed {
            unlink(temporary)
            throw failure(failed)
        }
    }

    /// The directory a file at `path` would be written in, when it does not exist (nil when it does).
    public static func missingDirectory(of path: String) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        return dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue)
            ? nil : dir
    }

    private static func reason(errno e: Int32) -> String {
        switch e {
        case EACCES, EPERM: "permission denied"
        case ENOSPC, EDQUOT: "no space left on the device"
        case EROFS: "read-only file system"
        default: "could not write the file (\(String(cString: strerror(e))))"
        }
    }

    private static func reason(_ error: Error) -> String {
        if let e = error as? CocoaError {
            switch e.code {
            case .fileWriteNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on the device"
            case .fileWriteVolumeReadOnly: return "read-only file system"
            default: break
            }
        }
        if let e = error as? POSIXError { return reason(errno: e.code.rawValue) }
        return "could not write the file"
    }
}
