import Detection
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel

/// One run of the live sensor, from opening the interfaces to the final report: the handles opened
/// as root, privileges dropped, outputs and store opened as the user, the periodic tasks on one
/// clock (`SensorRuntime`) while capturing, and on stop the final commit and report. The command line
/// only builds its `LiveSettings`.
public final class LiveSession {
    let settings: LiveSettings
    /// The lists as read now (start, SIGHUP, schedule).
    var lists: any LiveLists
    var pools: PoolIntelligence
    var localNets: AddressSet?
    let started: Timestamp
    /// How an interface is opened: a libpcap handle, or another `PacketSource`.
    let openSource: LiveWorkers.OpenSource

    /// `intel` and `localNets`: the lists as the command line read them at start (a list that does
    /// not read then is a usage error, not a warning).
    public init(
        _ settings: LiveSettings, lists: any LiveLists, intel: PoolIntelligence, localNets: AddressSet?,
        open: @escaping LiveWorkers.OpenSource = { name, options throws(CaptureError) in
            try LiveCapture(interface: name, options: options)
        }
    ) {
        self.settings = settings
        openSource = open
        self.lists = lists
        pools = intel
        self.localNets = localNets
        started = WallTime.now()
    }

    /// How a run that started ended.
    public enum Outcome: Sendable {
        /// SIGINT, SIGTERM or `duration`: a clean stop.
        case stopped
        /// A capture failed (an interface gone): the final report is written, and the supervisor
        /// should restart the sensor.
        case captureFailed
    }

    /// Runs until stopped; throws (before capturing) when an interface, the store or an output
    /// cannot be opened, having opened nothing it keeps.
    public func run() throws(LiveStartFailure) -> Outcome {
        Allocator.limitArenas()
        // The handles are opened now, as root: several workers open theirs and wait for `run`.
        // Events go to the outputs once they are open (after privileges are dropped).
        let events = EventRelay()
        let sensor = try openSensor { events.send($0) }
        // The metrics port, like the handles, may need root (below 1024).
        var metrics: SensorMetrics?
        var metricsServer: MetricsServer?
        if let address = settings.metricsAddress {
            let served = SensorMetrics(sensor: settings.identity.sensor, site: settings.identity.site)
            do { metricsServer = try MetricsServer(address: address, metrics: served) } catch {
                throw LiveStartFailure(error)
            }
            metrics = served
        }
        defer { metricsServer?.stop() }
        // The handles are open: nothing else needs root.
        try dropPrivileges()
        let (outputs, recorder) = try openOutputs()
        events.outputs = outputs
        Signals.install()
        let commits = LiveCommits(
            analyzer: sensor, outputs: outputs, recorder: recorder, reportDir: settings.reportDirectory,
            maxHosts: settings.limits.hosts.maxHosts
        ) { sensor.captureSummary() }
        commits.prober = makeProber(recorder: recorder)
        defer { commits.prober?.stop(within: 1) }
        let status = StatusLine(quiet: !settings.statusLine)
        let deadline = settings.duration.map { started.adding(seconds: $0) }
        let shouldStop = { Signals.shouldStop || deadline.map { WallTime.now() >= $0 } == true }
        var runtime = SensorRuntime(
            tasks(
                sensor: sensor, commits: commits, outputs: outputs, recorder: recorder, metrics: metrics, status: status
            ))
        var outcome = Outcome.stopped
        do {
            try sensor.run(shouldStop: shouldStop) { runtime.tick(at: $0) }
        } catch {
            status.clear()
            Diagnostics.log.error("\(error); writing the final report and stopping")
            outcome = .captureFailed
        }
        status.clear()
        finish(sensor.finish(), commits, outputs: outputs, recorder: recorder)
        return outcome
    }

    /// One loop over every interface, or a thread per core each in a fanout group; every handle is
    /// opened here, and any that cannot be stops the start.
    private func openSensor(events: @escaping @Sendable (AnalysisEvent) -> Void) throws(LiveStartFailure)
        -> any LiveSensor
    {
        var limits = settings.limits
        limits.maxHostsSeen = 0  // hosts without evidence are listed by `analyze --all-hosts` only
        let collectRetired = settings.store != nil
        do {
            if settings.workers > 1 {
                return try LiveWorkers(
                    interfaces: settings.interfaces, options: settings.capture, workers: settings.workers,
                    limits: limits, intel: pools, localNets: localNets, collectRetired: collectRetired,
                    open: openSource,
                    onEvent: events)
            }
            let options = settings.capture
            let captures = try settings.interfaces.map { name throws(CaptureError) in try openSource(name, options) }
            let analyzer = PacketPipeline(limits: limits, intel: pools, localNets: localNets, onEvent: events)
            analyzer.collectRetiredSessions = collectRetired
            return LiveLoop(captures: captures, analyzer: analyzer)
        } catch {
            throw LiveStartFailure(error)
        }
    }

    /// Events from the capture workers' threads, to the outputs once they are open (the workers open
    /// their handles before the outputs exist: privileges are dropped in between).
    final class EventRelay: Sendable {
        private let target = Locked<Outputs?>(nil)
        var outputs: Outputs? {
            get { target.withLock { $0 } }
            set { target.withLock { $0 = newValue } }
        }
        func send(_ event: AnalysisEvent) { target.withLock { $0?.event(event) } }
    }
}
