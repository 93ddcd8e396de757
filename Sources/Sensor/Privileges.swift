#if canImport(Glibc)
import Glibc
#endif

public enum PrivilegeError: Error, CustomStringConvertible {
    case noSuchUser(String)
    case failed(String)
    public var description: String {
        switch self {
        case .noSuchUser(let u): "--user \(u): no such user; create it or name another (the capture handles are open, nothing else needs root)"
        case .failed(let why): "cannot drop privileges: \(why)"
        }
    }
}

/// Dropping root after the capture handles are open, as tcpdump -Z does.
public enum Privileges {
    public static var isRoot: Bool { geteuid() == 0 }

    /// uid and gid of `user`.
    public static func lookup(_ user: String) throws(PrivilegeError) -> (uid: uid_t, gid: gid_t) {
        guard let pw = getpwnam(user) else { throw .noSuchUser(user) }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Hands `path` (a file or directory we will write after dropping) to `user`.
    public static func handOver(_ path: String, to user: String) throws(PrivilegeError) {
        let (uid, gid) = try lookup(user)
        if chown(path, uid, gid) != 0 && errno != ENOENT {
            throw .failed("chown \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Switches to `user` for good: supplementary groups, then gid, then uid.
    public static func drop(to user: String) throws(PrivilegeError) {
        let (uid, gid) = try lookup(user)
        var groups = [gid]
        guard setgroups(1, &groups) == 0 else { throw .failed("setgroups: \(String(cString: strerror(errno)))") }
        guard setgid(gid) == 0 else { throw .failed("setgid: \(String(cString: strerror(errno)))") }
        guard setuid(uid) == 0 else { throw .failed("setuid: \(String(cString: strerror(errno)))") }
        // Make sure it cannot be undone.
        if uid != 0 && setuid(0) == 0 { throw .failed("regained root after setuid; refusing to continue") }
    }
}
