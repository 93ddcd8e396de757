#if canImport(Glibc)
    import Glibc
#endif

public enum PrivilegeError: Error, CustomStringConvertible {
    case noSuchUser(String)
    case failed(String)
    /// A path the unprivileged user could not use: refused before anything changed.
    case refused(String)
    public var description: String {
        switch self {
        case .refused(let why): why
        case .noSuchUser(let u):
            "--user \(u): no such user; create it or name another (the capture handles are open, nothing else needs root)"
        case .failed(let why): "cannot drop privileges: \(why)"
        }
    }
}

/// prctl(2) is variadic in C, which Swift does not import; every option used here takes integer
/// arguments only, for which the fixed five-argument call is the same at the ABI level.
@_silgen_name("prctl")
private func prctl5(_ option: Int32, _ a: UInt, _ b: UInt, _ c: UInt, _ d: UInt) -> Int32
private let PR_SET_NO_NEW_PRIVS: Int32 = 38
private let PR_CAPBSET_DROP: Int32 = 24

/// Dropping root after the capture handles are open, as tcpdump -Z does.
public enum Privileges {
    public static var isRoot: Bool { geteuid() == 0 }

    /// uid and gid of `user`.
    public static func lookup(_ user: String) throws(PrivilegeError) -> (uid: uid_t, gid: gid_t) {
        guard let pw = getpwnam(user) else { throw .noSuchUser(user) }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Switches to `user` for good: no new privileges from any later exec, an empty capability
    /// bounding set, then supplementary groups, gid, uid (which clears the remaining capabilities).
    public static func drop(to user: String) throws(PrivilegeError) {
        let (uid, gid) = try lookup(user)
        guard prctl5(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 else {
            throw .failed("PR_SET_NO_NEW_PRIVS: \(String(cString: strerror(errno)))")
        }
        // Capabilities 0...63 (the kernel knows ~41; an unknown number answers EINVAL, which ends the walk).
        for cap in 0..<64 where prctl5(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) != 0 {
            guard errno == EINVAL else { throw .failed("PR_CAPBSET_DROP \(cap): \(String(cString: strerror(errno)))") }
            break
        }
        var groups = [gid]
        guard setgroups(1, &groups) == 0 else { throw .failed("setgroups: \(String(cString: strerror(errno)))") }
        guard setgid(gid) == 0 else { throw .failed("setgid: \(String(cString: strerror(errno)))") }
        guard setuid(uid) == 0 else { throw .failed("setuid: \(String(cString: strerror(errno)))") }
        // Make sure it cannot be undone.
        if uid != 0 && setuid(0) == 0 { throw .failed("regained root after setuid; refusing to continue") }
    }
}
