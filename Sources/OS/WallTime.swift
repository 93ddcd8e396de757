import PacketDecoding

#if canImport(Glibc)
    import Glibc
#endif

/// The clocks besides packet time, in one place. Packet time is the one clock of the evidence;
/// these serve only run bookkeeping: wall time for live ticks, report periods and the store's run
/// records, and a monotonic clock for how long something took.
public enum WallTime {
    /// Nanoseconds since the epoch, as the system clock says.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanos: Int64(ts.tv_nsec))
    }

    /// Whole seconds since the epoch, as the system clock says (file stamps such as a list's fetch time).
    public static func epochSeconds() -> Int64 { now().nanoseconds / 1_000_000_000 }

    /// A point on the monotonic clock, for durations (a clock step cannot make one negative).
    public static func mark() -> ContinuousClock.Instant { ContinuousClock.now }

    /// Seconds since `mark`.
    public static func seconds(since mark: ContinuousClock.Instant) -> Double {
        let d = mark.duration(to: ContinuousClock.now).components
        return Double(d.seconds) + Double(d.attoseconds) / 1e18
    }
}
