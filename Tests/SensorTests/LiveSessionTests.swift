import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import PoolIntel
import Store
import Testing

@testable import Sensor

/// The live sensor as one value the command line builds (`LiveSettings`) and one runtime that does
/// the rest: here with a replayed capture behind the packet-source seam, so without root, an
/// interface or the `stratumsniff` binary.
@Suite(.serialized) struct LiveSessionTests {
    /// Lists that count how often the sensor read them again.
    struct CountingLists: LiveLists {
        let loads = Locked(0)
        let rereads = Locked(0)
        func load() throws -> (PoolIntelligence, AddressSet?) {
            loads.withLock { $0 += 1 }
            return (PoolIntelligence(), nil)
        }
        mutating func reread() { rereads.withLock { $0 += 1 } }
    }

    static let capture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path

    func settings(workers: Int, events: String) -> LiveSettings {
        var settings = LiveSettings(
            interfaces: ["replay"], identity: StoreIdentity(sensor: "test-sensor"), version: "test")
        settings.workers = workers
        // Already who it should be: a test process must not give up root.
        settings.user = "root"
        settings.events = (path: events, eve: false, maxBytes: 1 << 20)
        settings.duration = 2.5
        settings.reloadListsEvery = 1
        settings.finalReport = .none
        settings.statusLine = false
        return settings
    }

    @Test(arguments: [1, 2]) func aSessionFromSettingsAloneFindsTheMinerAndRunsItsSchedule(workers: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-session-\(getpid())-\(workers)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = dir.appendingPathComponent("events.jsonl").path
        let lists = CountingLists()
        let opened = Locked<[String]>([])
        let session = LiveSession(
            settings(workers: workers, events: events), lists: lists, intel: PoolIntelligence(), localNets: nil,
            open: { name, _ throws(CaptureError) in
                opened.withLock { $0.append(name) }
                return try PacketSourceTests.ReplaySource(path: Self.capture)
            })
        let outcome = try session.run()
        #expect(outcome == .stopped)
        // Every worker opened the one interface through the factory it was given.
        #expect(opened.withLock { $0 } == Array(repeating: "replay", count: workers))
        // The schedule reloaded the lists (every second of a 2.5 s run), and no SIGHUP came.
        #expect(lists.loads.withLock { $0 } >= 1)
        #expect(lists.rereads.withLock { $0 } == 0)
        // The new miner went to the events output, with the identity the settings gave.
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let alert = lines.first { $0.contains("\"type\":\"alert\"") }
        #expect(alert?.contains("10.0.0.5") == true, "\(lines)")
        #expect(alert?.contains("test-sensor") == true, "\(lines)")
    }

    @Test func anInterfaceThatDoesNotOpenStopsTheStartWithItsReason() throws {
        let session = LiveSession(
            settings(workers: 1, events: "/nonexistent/never-written"), lists: CountingLists(),
            intel: PoolIntelligence(), localNets: nil,
            open: { name, _ throws(CaptureError) in throw CaptureError.noSuchInterface(interface: name) })
        #expect(throws: LiveStartFailure.self) { try session.run() }
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never-written"))
    }
}
