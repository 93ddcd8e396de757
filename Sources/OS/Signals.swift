import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// Signal handlers may only set flags (async-signal-safety: lock-free atomics are); the capture loop polls them.
private let stopRequested = Atomic<Bool>(false)
private let reloadRequested = Atomic<Bool>(false)

/// SIGINT/SIGTERM ask the sensor to stop cleanly; SIGHUP asks it to reopen outputs and reload lists.
public enum Signals {
    public static func install() {
        // A parent may hand us a blocked signal mask (test runners, some supervisors): unblock ours.
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGHUP) { _ in reloadRequested.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)  // a closed socket is an error return, not a death
    }

    public static var shouldStop: Bool { stopRequested.load(ordering: .relaxed) }

    /// True once per SIGHUP.
    public static func takeReload() -> Bool { reloadRequested.exchange(false, ordering: .relaxed) }

    /// For tests and `--duration`.
    public static func requestStop() { stopRequested.store(true, ordering: .relaxed) }
}
