import Foundation
import PacketDecoding

/// Every flood class and real captures on one timeline (`sniffgen mixed`, `scripts/flood --mixed`):
/// each class is generated into a file of its own, the real captures are shifted to start with the
/// floods, and everything is merged by timestamp, streaming (memory stays a record per input).
extension Hostile {
    /// Units per class for `count`: the per-flow classes take fewer, as `scripts/flood` does.
    static func units(_ kind: FloodClass, _ count: Int) -> Int {
        switch kind {
        case .sv2Channels: max(1, count / 5)
        case .nesting: max(1, count * 3 / 10)
        default: count
        }
    }

    /// Writes the mixed timeline to `output`; the per-class files go in `scratch` and are removed.
    /// `captures` are classic pcap files (Ethernet), each repeated `repeats` times a minute apart.
    public static func mixed(count: Int, captures: [String], repeats: Int, scratch: String, into output: String)
        throws(GeneratorError)
    {
        var parts: [PcapRecordReader] = []
        var made: [String] = []
        defer {
            for path in made { try? FileManager.default.removeItem(atPath: path) }
        }
        for kind in FloodClass.allCases {
            let path = scratch + "/mixed-\(kind.rawValue).pcap"
            let writer = try PcapFileWriter(path: path)
            flood(kind, count: units(kind, count), into: writer)
            writer.close()
            made.append(path)
            parts.append(try PcapRecordReader(path: path, shift: 0))
        }
        for (index, capture) in captures.enumerated() {
            for round in 0..<max(repeats, 1) {
                let reader = try PcapRecordReader(path: capture, shift: 0)
                // Start where the floods start, the copies a minute apart, the captures a second apart.
                let start = t0.nanoseconds + Int64(round) * 60_000_000_000 + Int64(index) * 1_000_000_000
                reader.shift = reader.firstTime.map { start - $0 } ?? 0
                parts.append(reader)
            }
        }
        let writer = try PcapFileWriter(path: output)
        // k-way merge: the earliest head next (k is a few dozen: a scan is cheaper than a heap's bookkeeping).
        var heads = parts.map { $0.next() }
        while true {
            var best = -1
            for index in heads.indices {
                guard let head = heads[index] else { continue }
                if best < 0 || head.time < heads[best]!.time { best = index }
            }
            guard best >= 0, let record = heads[best] else { break }
            writer.add(time: Timestamp(nanoseconds: record.time), frame: record.frame)
            heads[best] = parts[best].next()
        }
        writer.close()
    }
}

/// Classic pcap records read one at a time (micro- or nanosecond, little-endian), times shifted.
final class PcapRecordReader {
    private let file: UnsafeMutablePointer<FILE>
    private let nanosecond: Bool
    var shift: Int64
    /// The first record's time (unshifted), read ahead at open.
    private(set) var firstTime: Int64?
    private var pending: (time: Int64, frame: [UInt8])?

    init(path: String, shift: Int64) throws(GeneratorError) {
        guard let f = fopen(path, "rb") else {
            throw .cannotWrite(path: path, reason: "cannot read: " + String(cString: strerror(errno)))
        }
        var header = [UInt8](repeating: 0, count: 24)
        guard fread(&header, 1, 24, f) == 24 else {
            fclose(f)
            throw .cannotWrite(path: path, reason: "not a pcap file")
        }
        let magic = UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
        guard magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D else {
            fclose(f)
            throw .cannotWrite(path: path, reason: "not a little-endian classic pcap")
        }
        file = f
        nanosecond = magic == 0xA1B2_3C4D
        self.shift = shift
        pending = readRecord()
        firstTime = pending?.time
    }

    deinit { fclose(file) }

    /// The next record with its time shifted, or nil at the end.
    func next() -> (time: Int64, frame: [UInt8])? {
        guard let record = pending else { return nil }
        pending = readRecord()
        return (record.time + shift, record.frame)
    }

    private func readRecord() -> (time: Int64, frame: [UInt8])? {
        var header = [UInt8](repeating: 0, count: 16)
        guard fread(&header, 1, 16, file) == 16 else { return nil }
        func u32(_ at: Int) -> Int {
            Int(header[at]) | Int(header[at + 1]) << 8 | Int(header[at + 2]) << 16 | Int(header[at + 3]) << 24
        }
        let length = u32(8)
        guard length <= 1 << 20 else { return nil }
        var frame = [UInt8](repeating: 0, count: length)
        guard fread(&frame, 1, length, file) == length else { return nil }
        let time = Int64(u32(0)) * 1_000_000_000 + Int64(u32(4)) * (nanosecond ? 1 : 1000)
        return (time, frame)
    }
}
