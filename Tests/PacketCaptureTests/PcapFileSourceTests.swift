import Foundation
import PacketCapture
import PacketDecoding
import Testing
import TrafficGen

private func tempFile(_ bytes: [UInt8]) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ss-cap-\(UUID().uuidString).pcap")
    try Data(bytes).write(to: url)
    return url.path
}

private func sample(nanosecond: Bool) -> [UInt8] {
    var w = PcapWriter(nanosecond: nanosecond)
    let seg = FrameBuilder.tcp(
        src: IPAddress("10.0.0.1")!, dst: IPAddress("10.0.0.2")!, srcPort: 1, dstPort: 2, seq: 1, ack: 0, flags: [.syn],
        payload: [])
    let frame = FrameBuilder.frame(src: IPAddress("10.0.0.1")!, dst: IPAddress("10.0.0.2")!, proto: 6, transport: seg)
    w.add(time: Timestamp(seconds: 1_700_000_000, nanos: 123_456_789), frame: frame)
    w.add(time: Timestamp(seconds: 1_700_000_001, nanos: 5_000), frame: frame)
    return w.bytes
}

@Suite struct PcapFileSourceTests {
    @Test(arguments: [false, true])
    func readsPacketsWithTimestamps(nanosecond: Bool) throws {
        let source = try PcapFileSource(path: try tempFile(sample(nanosecond: nanosecond)))
        #expect(source.linkType == .ethernet)
        var times: [Int64] = []
        try source.forEachPacket { times.append($0.timestamp.nanoseconds) }
        // Microsecond files lose the sub-microsecond digits; both read as nanoseconds.
        #expect(times == [1_700_000_000_123_456_000 + (nanosecond ? 789 : 0), 1_700_000_001_000_005_000])
    }

    @Test func filterApplies() throws {
        let source = try PcapFileSource(path: try tempFile(sample(nanosecond: false)), filter: "udp")
        var n = 0
        try source.forEachPacket { _ in n += 1 }
        #expect(n == 0)
    }

    @Test func badFilterIsRejected() {
        #expect(throws: CaptureError.self) { try PcapFileSource.validateFilter("tcp portt 1") }
        #expect(throws: Never.self) { try PcapFileSource.validateFilter("tcp port 3333 or vlan") }
    }

    @Test func notACaptureSaysSo() throws {
        let path = try tempFile(Array("just some text, long enough to have a header\n".utf8))
        do {
            _ = try PcapFileSource(path: path)
            Issue.record("opened a text file")
        } catch {
            #expect(error.description.contains("not a pcap or pcapng file"))
        }
    }

    @Test func truncatedLastRecordKeepsEarlierPackets() throws {
        var bytes = sample(nanosecond: false)
        bytes.removeLast(10)
        let source = try PcapFileSource(path: try tempFile(bytes))
        var n = 0
        do {
            try source.forEachPacket { _ in n += 1 }
            Issue.record("no error for a truncated record")
        } catch {
            guard case .readFailed(_, _, let read) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(read == 1)
        }
        #expect(n == 1)
    }

    @Test func unsupportedLinkTypeIsNamed() throws {
        let path = try tempFile(PcapWriter(linkType: 147).bytes)  // USER0
        #expect(throws: CaptureError.unsupportedLinkType(source: path, linkType: LinkType(rawValue: 147))) {
            try PcapFileSource(path: path)
        }
    }
}
