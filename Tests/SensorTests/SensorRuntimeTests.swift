import PacketDecoding
import Testing

@testable import Sensor

/// The live sensor's periodic tasks on a made-up clock: what runs when, without a capture or a store.
@Suite struct SensorRuntimeTests {
    /// Not on a minute: the first period report is the first whole minute after it.
    let start = Timestamp(seconds: 1_732_000_030)

    /// Ticks once a second from `start` for `seconds`, as the capture loop does.
    func run(_ runtime: inout SensorRuntime, seconds: Int, from: Timestamp? = nil) {
        let t0 = from ?? start
        for s in 0...seconds { runtime.tick(at: t0.adding(seconds: Double(s))) }
    }

    final class Log {
        var lines: [String] = []
        func add(_ s: String) { lines.append(s) }
    }

    func seconds(_ t: Timestamp) -> Int { Int(t.nanoseconds / 1_000_000_000) }

    @Test func commitsEveryIntervalAndAReportAtEachBoundaryRightAfterACommit() {
        let log = Log()
        var runtime = SensorRuntime([
            CommitsAndReports(
                every: 7, reportEvery: 60, started: start, writerBehind: { false },
                commit: { log.add("commit \(seconds($0))") },
                report: { log.add("report \(seconds($0))-\(seconds($1))") })
        ])
        run(&runtime, seconds: 130)
        let commits = log.lines.filter { $0.hasPrefix("commit") }.map { Int($0.split(separator: " ")[1])! }
        let gaps = zip(commits.dropFirst(), commits).map { $0 - $1 }
        #expect(commits.first == 1_732_000_037)
        // Every 7 s, except where a report boundary came first (a commit then, and the count restarts):
        // 7 does not divide the boundaries, so those commits are the report's own.
        #expect(gaps.allSatisfy { $0 <= 7 && $0 >= 1 }, "\(commits)")
        #expect(commits.count >= 18)
        let reports = log.lines.enumerated().filter { $0.element.hasPrefix("report") }
        #expect(reports.map(\.element) == ["report 1732000020-1732000080", "report 1732000080-1732000140"])
        for (i, r) in reports {
            let end = r.split(separator: "-")[1]
            #expect(log.lines[i - 1] == "commit \(end)", "the commit just before \(r): \(log.lines[i - 1])")
        }
    }

    @Test func aWriterBehindHoldsCommitsButNotTheReport() {
        let log = Log()
        var behind = false
        var runtime = SensorRuntime([
            CommitsAndReports(
                every: 5, reportEvery: 60, started: start, writerBehind: { behind },
                commit: { log.add("commit \(seconds($0))") },
                report: { log.add("report \(seconds($0))-\(seconds($1))") })
        ])
        behind = true
        run(&runtime, seconds: 60)  // 1732000030 … 1732000090: the writer behind all along
        #expect(log.lines == ["report 1732000020-1732000080"])
        behind = false
        runtime.tick(at: start.adding(seconds: 61))
        #expect(log.lines.last == "commit 1732000091", "the first tick with the writer caught up commits")
    }

    @Test func everyRunsFirstThenAPeriodAfterItLastRanAndOnceAfterAJump() {
        let log = Log()
        var runtime = SensorRuntime([Every(3600, first: start) { log.add("prune \(seconds($0) - 1_732_000_030)") }])
        run(&runtime, seconds: 7300)
        #expect(log.lines == ["prune 0", "prune 3600", "prune 7200"])
        runtime.tick(at: start.adding(seconds: 100_000))  // a suspended machine wakes up
        runtime.tick(at: start.adding(seconds: 100_001))
        #expect(log.lines.last == "prune 100000")
        #expect(log.lines.count == 4)
    }

    @Test func aSignalTaskRunsOnlyOnTheTickAfterTheSignal() {
        let log = Log()
        var raised = false
        var runtime = SensorRuntime([
            OnSignal({
                defer { raised = false }
                return raised
            }) { log.add("reload") }
        ])
        run(&runtime, seconds: 10)
        #expect(log.lines.isEmpty)
        raised = true
        run(&runtime, seconds: 10, from: start.adding(seconds: 11))
        #expect(log.lines == ["reload"])
    }

    @Test func tasksRunInTheOrderGivenOnEveryTick() {
        let log = Log()
        var runtime = SensorRuntime([
            EveryTick { _ in log.add("a") }, Every(2, first: start) { _ in log.add("b") },
            EveryTick { _ in log.add("c") }
        ])
        run(&runtime, seconds: 2)
        #expect(log.lines == ["a", "b", "c", "a", "c", "a", "b", "c"])
    }

    @Test func reportBoundariesAreWholePeriodsOfTheClock() {
        #expect(nextBoundary(after: Timestamp(seconds: 3_599), every: 3600) == Timestamp(seconds: 3_600))
        #expect(nextBoundary(after: Timestamp(seconds: 3_600), every: 3600) == Timestamp(seconds: 7_200))
        #expect(nextBoundary(after: Timestamp(seconds: 90_000), every: 86_400) == Timestamp(seconds: 172_800))
    }
}
