import Detection
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Testing

@testable import Sensor

/// The packet-source seam: the live loop reads any `PacketSource`, not libpcap handles as such. A
/// source written here replays a capture's frames; the loop finds the capture's miner from it as the
/// offline path does.
@Suite struct PacketSourceTests {
    /// Frames of a capture file, handed out 64 at a time; its descriptor (/dev/null) always polls readable.
    final class ReplaySource: PacketSource {
        let name = "replay"
        let selectableFileDescriptor: Int32
        private var frames: [(time: Timestamp, link: LinkType, bytes: [UInt8], length: Int)] = []
        private var next = 0
        var exhausted: Bool { next >= frames.count }

        init(path: String) throws(CaptureError) {
            selectableFileDescriptor = open("/dev/null", O_RDONLY)
            let file = try PcapFileSource(path: path)
            try file.forEachPacket { p in
                frames.append((p.timestamp, p.linkType, Array(p.bytes), p.originalLength))
            }
        }

        deinit { close(selectableFileDescriptor) }

        func readAvailable(limit: Int, _ body: (CapturedPacket) -> Void) throws(CaptureError) -> Int {
            let end = min(next + min(limit, 64), frames.count)
            for f in frames[next..<end] {
                f.bytes.withUnsafeBytes {
                    body(CapturedPacket(timestamp: f.time, linkType: f.link, bytes: $0, originalLength: f.length))
                }
            }
            defer { next = end }
            return end - next
        }

        func statistics() -> CaptureStatistics {
            var s = CaptureStatistics()
            s.received = UInt64(next)
            return s
        }
    }

    /// The workers open their sources through the factory they are given: a capture method plugs in
    /// without touching them.
    @Test func liveWorkersOpenTheSourcesTheyAreGiven() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path
        let opened = Locked<[String]>([])
        let workers = try LiveWorkers(
            interfaces: ["replay"], options: LiveCapture.Options(), workers: 1, limits: Limits(),
            intel: PoolIntelligence(), localNets: nil, collectRetired: false,
            open: { name, _ throws(CaptureError) in
                opened.withLock { $0.append(name) }
                return try ReplaySource(path: path)
            }, onEvent: nil)
        let start = WallTime.now()
        try workers.run(shouldStop: { WallTime.now().since(start) > 1.5 }, everySecond: { _ in })
        let (reports, _) = workers.finish()
        #expect(opened.withLock { $0 } == ["replay"])
        #expect(reports.first { $0.host.description == "10.0.0.5" }?.verdict == .mining)
    }

    @Test func theLiveLoopReadsAnySource() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path
        let source = try ReplaySource(path: path)
        let loop = LiveLoop(captures: [source], analyzer: PacketPipeline())
        loop.tickInterval = 0
        var ticks = 0
        try loop.run(shouldStop: { source.exhausted && ticks > 0 }, everySecond: { _ in ticks += 1 })
        let (reports, _) = loop.finish()
        #expect(loop.packets > 0 && loop.captureSummary().interfaces == ["replay"])
        let miner = reports.first { $0.host.description == "10.0.0.5" }
        #expect(miner?.verdict == .mining, "\(reports.map { "\($0.host) \($0.verdict)" })")
    }
}
