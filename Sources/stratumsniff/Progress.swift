import ArgumentParser
import Detection
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Sensor
import Store
import StreamReassembly
import Synchronization

/// Whole lines to standard output from any thread.
final class LinePrinter: Sendable {
    private let lock = Locked(())
    func print(_ line: String) { lock.withLock { _ in Swift.print(line) } }
}

/// A progress line on standard error, redrawn at most twice a second.
final class Progress {
    private let line: StatusLine
    private let start = WallTime.mark()
    private var last = 0.0
    private var counter = 0
    init(quiet: Bool) { line = StatusLine(quiet: quiet) }

    func tick(file: String, analysis: any InputAnalysis, packets: Int) {
        guard line.enabled else { return }
        counter += packets
        guard counter >= 0x4000 else { return }
        counter = 0
        let now = WallTime.seconds(since: start)
        guard now - last > 0.5 else { return }
        last = now
        line.show("\(file): \(analysis.packetsSeen) packets")
    }

    func clear() { line.clear() }
}
