import Detection
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Reporting

/// Reads several live interfaces from one thread (poll on their selectable descriptors) into
/// the same `PacketPipeline` the offline path uses. Quiet links still advance the clock: a tick
/// every `tickInterval` expires idle flows by wall time.
public final class LiveLoop: LiveSensor {
    public let captures: [any PacketSource]
    public let analyzer: PacketPipeline
    public var tickInterval: Double = 1
    public private(set) var packets = 0

    public init(captures: [any PacketSource], analyzer: PacketPipeline) {
        self.captures = captures
        self.analyzer = analyzer
    }

    public var workers: Int { 1 }

    public func snapshotChanges() -> [HostReport] { analyzer.snapshotChanges() }
    public func rejudge(_ hosts: Set<IPAddress>) { analyzer.rejudge(hosts) }
    public func holds(_ host: IPAddress) -> Bool { analyzer.holds(host) }
    public var statistics: AnalysisStats { analyzer.statistics }
    public func drainRetiredSessions() -> [SessionRecord] { analyzer.drainRetiredSessions() }
    public func replaceIntel(_ intel: PoolIntelligence) { analyzer.replaceIntel(intel) }
    /// One thread: a stall shows as the metrics no longer being updated (it is the thread that updates them).
    public func stalled(at now: Timestamp) -> [Int] { [] }
    public func finish() -> (reports: [HostReport], stats: AnalysisStats) { (analyzer.finish(), analyzer.statistics) }

    public func captureSummary() -> CaptureSummary {
        CaptureSummary(interfaces: captures.map(\.name), stats: captureStatistics())
    }

    /// Statistics per interface.
    public func captureByInterface() -> [(interface: String, worker: Int, stats: CaptureStatistics)] {
        captures.map { ($0.name, 0, $0.statistics()) }
    }

    /// Statistics over all interfaces.
    public func captureStatistics() -> CaptureStatistics {
        captures.reduce(CaptureStatistics()) { $0 + $1.statistics() }
    }

    /// Runs until `shouldStop` says so; calls `everyTick` about once per `tickInterval`.
    public func run(shouldStop: () -> Bool, everySecond everyTick: (Timestamp) -> Void) throws(CaptureError) {
        let fds = captures.map(\.selectableFileDescriptor)
        var lastTick = WallTime.now()
        while !shouldStop() {
            let ready = OS.waitReadable(fds, milliseconds: 200)
            for (i, c) in captures.enumerated() where ready[i] {
                // Drain what is there, in batches, so one busy link cannot starve the others forever.
                var rounds = 0
                while rounds < 16 {
                    let n = try c.readAvailable { p in
                        analyzer.process(
                            time: p.timestamp, linkType: p.linkType, frame: p.bytes, originalLength: p.originalLength)
                    }
                    packets += n
                    if n == 0 { break }
                    rounds += 1
                }
            }
            let now = WallTime.now()
            if now.since(lastTick) >= tickInterval {
                analyzer.tick(time: now)
                everyTick(now)
                lastTick = now
            }
        }
    }
}
