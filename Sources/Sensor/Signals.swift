#if canImport(Glibc)
import Glibc
#endif

// Signal handlers may only set flags (async-signal-safety); the capture loop polls them.
nonisolated(unsafe) private var stopRequested: Int32 = 0
nonisolated(unsafe) private var reloadRequested: Int32 = 0

/// SIGINT/SIGTERM ask the sensor to stop cleanly; SIGHUP asks it to reopen outputs and reload lists.
public enum Signals {
    public static func install() {
        // A parent may hand us a blocked signal mask (test runners, some supervisors): unblock ours.
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        signal(SIGHUP) { _ in reloadRequested = 1 }
        signal(SIGPIPE, SIG_IGN)   // a closed socket is an error return, not a death
    }

    public static var shouldStop: Bool { stopRequested != 0 }

    /// True once per SIGHUP.
    public static func takeReload() -> Bool {
        guard reloadRequested != 0 else { return false }
        reloadRequested = 0
        return true
    }

    /// For tests and `--duration`.
    public static func requestStop() { stopRequested = 1 }
}
