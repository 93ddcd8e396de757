import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prepares what a sensor started as root will write after it drops to an unprivileged user,
/// without ever giving that user something it did not create:
///
/// - Every check runs first, before anything changes: a refusal leaves the system as it was.
/// - Only directories this run creates are handed to the user (chown); an existing directory or
///   file is never chowned — it must already be usable by the user, or the start is refused with
///   what to do (systemd's `StateDirectory=`/`LogsDirectory=` prepare them for a service).
/// - Symbolic links are never followed for files the sensor writes (a planted `store.db-shm`
///   link cannot redirect anything).
/// - Permissions are judged as the target user (owner, primary group, mode bits, every ancestor
///   searchable), because `access(2)` would answer for root.
public struct HandOver {
    public let user: String
    let uid: uid_t
    let gid: gid_t
    /// Directories to create (outermost first), then hand to the user.
    private(set) var create: [String] = []

    public init(user: String) throws(PrivilegeError) {
        self.user = user
        (uid, gid) = try Privileges.lookup(user)
    }

    /// A file the sensor will create or append to (the store and its -wal/-shm, the events file).
    public mutating func file(_ path: String, what: String) throws(PrivilegeError) {
        let abs = Self.absolute(path)
        try directory(Self.parent(abs), what: "the directory of the \(what)")
        var st = stat()
        if lstat(abs, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFLNK {
                throw .refused(
                    "\(what) \(abs) is a symbolic link: refusing to follow it; remove it or choose another path")
            }
            guard st.st_mode & S_IFMT == S_IFREG else { throw .refused("\(what) \(abs) is not a regular file") }
            guard permits(st, 6) else {
                throw .refused(
                    "\(what) \(abs) is not writable by user \(user) (owner uid \(st.st_uid), mode \(Self.mode(st))): "
                        + "chown it to \(user), or run with --user of its owner")
            }
        }
    }

    /// A directory the sensor writes into (created, and handed over, when missing).
    public mutating func directory(_ path: String, what: String) throws(PrivilegeError) {
        let abs = Self.absolute(path)
        // Walk down from the root: every existing ancestor must be searchable by the user.
        var missing: [String] = []
        var existing = abs
        var st = stat()
        while stat(existing, &st) != 0 {
            guard errno == ENOENT else { throw .refused("\(what) \(existing): \(String(cString: strerror(errno)))") }
            missing.insert(existing, at: 0)
            existing = Self.parent(existing)
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .refused("\(what): \(existing) is not a directory") }
        var prefix = ""
        for component in existing.split(separator: "/") {
            prefix += "/" + component
            var a = stat()
            guard stat(prefix, &a) == 0 else { continue }
            if prefix != existing && !permits(a, 1) {
                throw .refused(
                    "\(what) \(abs): user \(user) cannot enter \(prefix) (owner uid \(a.st_uid), mode \(Self.mode(a))); "
                        + "choose a path \(user) can reach, or --user")
            }
        }
        if missing.isEmpty {
            guard permits(st, 3) else {
                throw .refused(
                    "\(what) \(abs) is not writable by user \(user) (owner uid \(st.st_uid), mode \(Self.mode(st))); "
                        + "as a service let systemd prepare it (StateDirectory=, LogsDirectory=), or `install -d -o \(user) \(abs)`"
                )
            }
        } else if !permits(st, 1) && existing != "/" {
            throw .refused("\(what) \(abs): user \(user) cannot enter \(existing) (mode \(Self.mode(st)))")
        }
        for m in missing where !create.contains(m) { create.append(m) }
    }

    /// Creates the missing directories (mode 0750) and hands exactly those to the user.
    public func apply() throws(PrivilegeError) {
        for d in create {
            guard mkdir(d, 0o750) == 0 || errno == EEXIST else {
                throw .failed("cannot create \(d): \(String(cString: strerror(errno)))")
            }
            // Hand over only what this run created, by descriptor (no path race, no link followed).
            let fd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw .failed("cannot open \(d): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard fchown(fd, uid, gid) == 0 else {
                throw .failed("cannot hand \(d) to \(user): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Whether the user may read (4) / write (2) / search (1) per the mode bits.
    private func permits(_ st: stat, _ bits: mode_t) -> Bool {
        if uid == 0 { return true }
        let m = st.st_mode
        if st.st_uid == uid { return (m >> 6) & bits == bits }
        if st.st_gid == gid { return (m >> 3) & bits == bits }
        return m & bits == bits
    }

    static func mode(_ st: stat) -> String { "0" + String(st.st_mode & 0o7777, radix: 8) }

    static func absolute(_ path: String) -> String {
        // Lexically (".", ".." and doubled slashes), never through symbolic links: a link must stay visible to `lstat`.
        let p = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for c in p.split(separator: "/") {
            if c == "." { continue }
            if c == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func parent(_ path: String) -> String {
        let p = (path as NSString).deletingLastPathComponent
        return p.isEmpty ? "/" : p
    }
}
