import PacketDecoding

/// One job the live sensor does on its clock: told the time on every tick (about once a second), it
/// decides itself whether it is due. A task knows nothing of capture, stores or the command line — it
/// is given what to do as closures — so its schedule can be tested with a made-up clock.
public protocol PeriodicTask {
    mutating func tick(at now: Timestamp)
}

/// The live sensor's periodic work — reload, retention, commit and report, metrics, status — on one
/// clock: each a small task, run in the order given on every tick. `live` builds the list; the capture
/// loop calls `tick` with the wall clock. Adding a periodic job is one task and one line in that list.
public struct SensorRuntime {
    private var tasks: [any PeriodicTask]

    public init(_ tasks: [any PeriodicTask]) { self.tasks = tasks }

    public mutating func tick(at now: Timestamp) {
        for i in tasks.indices { tasks[i].tick(at: now) }
    }
}

/// The first multiple of `every` seconds since the epoch after `t`: period reports cover whole
/// hours or days of the wall clock, not spans that begin whenever the sensor started.
public func nextBoundary(after t: Timestamp, every: Double) -> Timestamp {
    let step = max(Int64(saturating: every * 1e9), 1)
    return Timestamp(nanoseconds: (t.nanoseconds / step + 1).multipliedSaturated(by: step))
}

/// Runs `body` on every tick (metrics, the status line).
public struct EveryTick: PeriodicTask {
    private let body: (Timestamp) -> Void
    public init(_ body: @escaping (Timestamp) -> Void) { self.body = body }
    public mutating func tick(at now: Timestamp) { body(now) }
}

/// Runs `body` at `first`, then every `period` seconds after it last ran (retention, scheduled list
/// reloads). A clock that jumps runs it once, not once per missed period.
public struct Every: PeriodicTask {
    private var next: Timestamp
    private let period: Double
    private let body: (Timestamp) -> Void

    public init(_ period: Double, first: Timestamp, _ body: @escaping (Timestamp) -> Void) {
        self.period = period
        next = first
        self.body = body
    }

    public mutating func tick(at now: Timestamp) {
        guard now >= next else { return }
        next = now.adding(seconds: period)
        body(now)
    }
}

/// Runs `body` on a tick where `happened` says something happened since the last (SIGHUP).
public struct OnSignal: PeriodicTask {
    private let happened: () -> Bool
    private let body: () -> Void
    public init(_ happened: @escaping () -> Bool, _ body: @escaping () -> Void) {
        self.happened = happened
        self.body = body
    }
    public mutating func tick(at now: Timestamp) { if happened() { body() } }
}

/// Commits what changed every `interval` seconds and writes a period report at every boundary of
/// `period` (whole hours, days …), with a commit just before it so that the report holds everything up
/// to its end. While the store's writer is behind, commits wait (the changes stay with the analyzer,
/// the writer being behind by at most one batch); a report due then is still written, from what the
/// store holds.
public struct CommitsAndReports: PeriodicTask {
    private let interval: Double
    private let period: Double?
    private var lastCommit: Timestamp
    private var nextReport: Timestamp?
    private let writerBehind: () -> Bool
    private let commit: (Timestamp) -> Void
    private let report: (_ from: Timestamp, _ to: Timestamp) -> Void

    public init(
        every interval: Double, reportEvery period: Double?, started: Timestamp, writerBehind: @escaping () -> Bool,
        commit: @escaping (Timestamp) -> Void, report: @escaping (_ from: Timestamp, _ to: Timestamp) -> Void
    ) {
        self.interval = interval
        self.period = period
        lastCommit = started
        nextReport = period.map { nextBoundary(after: started, every: $0) }
        self.writerBehind = writerBehind
        self.commit = commit
        self.report = report
    }

    public mutating func tick(at now: Timestamp) {
        let reportDue = nextReport.map { now >= $0 } ?? false
        if reportDue || now.since(lastCommit) >= interval, !writerBehind() {
            commit(now)
            lastCommit = now
        }
        if reportDue, let p = period, let due = nextReport {
            report(due.adding(seconds: -p), due)
            nextReport = nextBoundary(after: now, every: p)
        }
    }
}
