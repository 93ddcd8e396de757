import PacketDecoding

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes classic pcap files (microsecond or nanosecond), in memory or streamed to disk.
public struct PcapWriter {
    public let linkType: UInt32
    public let nanosecond: Bool
    public private(set) var bytes: [UInt8] = []
    public private(set) var packetCount = 0

    public init(linkType: UInt32 = 1, nanosecond: Bool = false, snaplen: UInt32 = 262_144) {
        self.linkType = linkType
        self.nanosecond = nanosecond
        // Global header: magic, version 2.4, thiszone, sigfigs, snaplen, network (little-endian).
        put32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        put16(2)
        put16(4)
        put32(0)
        put32(0)
        put32(snaplen)
        put32(linkType)
    }

    /// Appends one record. `originalLength` defaults to the frame length.
    public mutating func add(time: Timestamp, frame: [UInt8], originalLength: Int? = nil) {
        let secs = time.nanoseconds / 1_000_000_000
        let frac = time.nanoseconds % 1_000_000_000
        put32(UInt32(truncatingIfNeeded: secs))
        put32(UInt32(truncatingIfNeeded: nanosecond ? frac : frac / 1000))
        put32(UInt32(frame.count))
        put32(UInt32(originalLength ?? frame.count))
        bytes.append(contentsOf: frame)
        packetCount += 1
    }

    /// Takes the bytes written so far (the header on the first call) and empties the buffer.
    public mutating func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    private mutating func put16(_ v: UInt16) {
        bytes.append(UInt8(v & 0xff))
        bytes.append(UInt8(v >> 8))
    }
    private mutating func put32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(v >> (8 * UInt32(i)) & 0xff)) } }

    /// Writes `data` to `path` (creating or truncating it).
    public static func write(_ data: [UInt8], to path: String) throws(GeneratorError) {
        guard let f = fopen(path, "wb") else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        let n = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        guard n == data.count else { throw .cannotWrite(path: path, reason: "short write") }
    }
}

public enum GeneratorError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    public var description: String {
        switch self {
        case .cannotWrite(let p, let r): "\(p): cannot write: \(r)"
        }
    }
}

/// Streams records to a file without holding them in memory (for the benchmark capture).
public final class PcapFileWriter {
    private let file: UnsafeMutablePointer<FILE>
    private var writer: PcapWriter
    public private(set) var bytesWritten = 0

    public init(path: String, linkType: UInt32 = 1) throws(GeneratorError) {
        guard let f = fopen(path, "wb") else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        writer = PcapWriter(linkType: linkType)
        flush()
    }

    public func add(time: Timestamp, frame: [UInt8]) {
        writer.add(time: time, frame: frame)
        if writer.bytes.count > 1 << 20 { flush() }
    }

    public func flush() {
        let chunk = writer.drain()
        bytesWritten += chunk.count
        chunk.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, file) }
    }

    public func close() {
        flush()
        fclose(file)
    }
}
