import CHints
import CPcap
import PacketDecoding

#if canImport(Glibc)
    import Glibc
#endif

// The one place that talks to libpcap. No pcap_t, OpaquePointer or C return
// code leaves this file.

/// A pcap or pcapng capture read through libpcap: a file path, or "-" for standard input.
///
/// Timestamps are always read at nanosecond precision (libpcap scales
/// microsecond files up), so every file shares one timeline.
public final class PcapFileSource {
    public let name: String
    public let linkType: LinkType
    private let handle: OpaquePointer
    /// Classic pcap stores seconds as an unsigned 32-bit field (good until 2106); libpcap hands
    /// them over sign-extended, so times after 2038-01-19 would read as 1901. pcapng has 64 bits.
    private let unsigned32BitSeconds: Bool
    /// The stdio buffer of the file libpcap reads (freed after pcap_close has closed the file).
    private let readBuffer: UnsafeMutablePointer<CChar>?
    /// The file libpcap reads (ours: opened with that buffer), for the mapped path to hand back at an offset.
    private let file: UnsafeMutablePointer<FILE>?
    /// A classic pcap file in this machine's byte order, read without a filter: its records are
    /// read from a read-only mapping instead (`MappedRecords`).
    private var mapped: MappedRecords?
    private var mappedRead = false

    /// Opens `path` and, when given, installs the BPF `filter`.
    public init(path: String, filter: String? = nil) throws(CaptureError) {
        name = path
        unsigned32BitSeconds = Self.isClassicPcap(path)
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let buffered = Self.openBuffered(path, &errbuf)
        guard
            let h = buffered?.handle
                ?? pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        else {
            let message = errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw .cannotOpen(source: path, reason: Self.cleanReason(message, path: path))
        }
        handle = h
        readBuffer = buffered?.buffer
        file = buffered?.file
        linkType = LinkType(rawValue: UInt32(bitPattern: pcap_datalink(h)))
        // From here on every stored property is set, so a throw still runs deinit,
        // which closes the handle: closing it here too would be a double free.
        guard linkType.isSupported else {
            throw .unsupportedLinkType(source: path, linkType: linkType)
        }
        if let filter { try installFilter(filter, on: h) }
        if filter == nil, let f = file, unsigned32BitSeconds {
            mapped = MappedRecords(fd: fileno(f), snapshot: Int(pcap_snapshot(h)))
        }
    }

    deinit {
        mapped?.unmap()
        pcap_close(handle)
        readBuffer?.deallocate()
    }

    /// libpcap reads a file through stdio, whose default buffer is 4 KiB: a 1 GB capture took 268 000
    /// `read` calls. The file opened here with a 1 MiB buffer of our own (glibc ignores the size
    /// unless given the buffer) takes 1 000; pcap_close closes the file, then the buffer is freed.
    /// nil when the path is standard input or cannot be opened: libpcap then opens it and reports why.
    static let readBufferBytes = 1 << 20

    private static func openBuffered(_ path: String, _ errbuf: inout [CChar]) -> (
        handle: OpaquePointer, buffer: UnsafeMutablePointer<CChar>,
        file: UnsafeMutablePointer<FILE>
    )? {
        guard path != "-", let f = fopen(path, "rb") else { return nil }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: readBufferBytes)
        guard setvbuf(f, buffer, _IOFBF, readBufferBytes) == 0,
            let h = pcap_fopen_offline_with_tstamp_precision(f, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        else {
            fclose(f)
            buffer.deallocate()
            return nil
        }
        return (h, buffer, f)
    }

    public func forEachPacket(_ body: (CapturedPacket) -> Void) throws(CaptureError) {
        try forEachBatch(readersBehind: false) { batch, _ in for p in batch { body(p) } }
    }

    /// Frames in the file's order, several at a time where that is free: records read from the
    /// mapping come in batches of up to `MappedRecords.batch`, and stay readable for as long as this
    /// source lives (`retained` true: a reader can hand them to other threads without a copy);
    /// records libpcap reads come one by one, valid only during the call (its buffer is reused).
    /// `readersBehind`: other threads read retained frames after the call has moved on, so pages
    /// are kept in memory a little longer (`MappedRecords.releaseLag`). Reads the file once.
    public func forEachBatch(
        readersBehind: Bool,
        _ body: (_ batch: UnsafeBufferPointer<CapturedPacket>, _ retained: Bool) -> Void
    ) throws(CaptureError) {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var count = 0
        let link = linkType
        if let m = mapped, !mappedRead {
            mappedRead = true
            // Plain records straight from the mapping; at the first one libpcap would treat specially
            // (or at the end) libpcap takes over at that offset, with its own checks and messages.
            let resume = m.forEachBatch(link: link, lag: readersBehind ? MappedRecords.releaseLag : 0) { batch in
                body(batch, true)
                count += batch.count
            }
            guard let f = file, fseeko(f, off_t(resume), SEEK_SET) == 0 else {
                throw .readFailed(source: name, reason: "cannot seek to byte \(resume)", packetsRead: count)
            }
        }
        while true {
            let rc = pcap_next_ex(handle, &header, &data)
            switch rc {
            case 1:
                guard let h = header?.pointee, let d = data else { continue }
                let caplen = Int(h.caplen)
                var seconds = Int64(h.ts.tv_sec)
                if unsigned32BitSeconds && seconds < 0 && seconds >= -(1 << 31) { seconds += 1 << 32 }
                let ts = Timestamp(seconds: seconds, nanos: Int64(h.ts.tv_usec))  // nanoseconds: see init
                var one = CapturedPacket(
                    timestamp: ts, linkType: link, bytes: UnsafeRawBufferPointer(start: d, count: caplen),
                    originalLength: Int(h.len))
                withUnsafePointer(to: &one) { body(UnsafeBufferPointer(start: $0, count: 1), false) }
                count += 1
            case PCAP_ERROR_BREAK, -2:
                return
            default:
                throw .readFailed(source: name, reason: String(cString: pcap_geterr(handle)), packetsRead: count)
            }
        }
    }

    /// Whether `path` holds a classic pcap (not pcapng). Standard input cannot be peeked at without
    /// consuming it; it is taken as classic pcap, whose seconds field is the only 32-bit one.
    private static func isClassicPcap(_ path: String) -> Bool {
        guard path != "-", let f = fopen(path, "rb") else { return path == "-" }
        defer { fclose(f) }
        var magic: UInt32 = 0
        guard fread(&magic, 4, 1, f) == 1 else { return false }
        return [0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1].contains(magic)
    }

    /// Checks that `expression` compiles, before any file is opened, so a typo
    /// is a usage error rather than a failure halfway through a run.
    public static func validateFilter(_ expression: String, linkType: LinkType = .ethernet) throws(CaptureError) {
        guard let dead = pcap_open_dead(Int32(bitPattern: linkType.rawValue), 262_144) else {
            throw .badFilter(expression: expression, reason: "libpcap could not create a handle")
        }
        defer { pcap_close(dead) }
        var program = bpf_program()
        guard pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .badFilter(expression: expression, reason: String(cString: pcap_geterr(dead)))
        }
        pcap_freecode(&program)
    }

    /// libpcap's "unknown file format" says nothing to an analyst holding a text file.
    private static func cleanReason(_ reason: String, path: String) -> String {
        var r = reason
        if r.hasPrefix(path + ": ") { r.removeFirst(path.count + 2) }
        if r.contains("unknown file format") { return "not a pcap or pcapng file (\(r))" }
        if r.isEmpty { return "unknown error" }
        return r
    }

    /// The libpcap version string, for `--version`.
    public static var libraryVersion: String { String(cString: pcap_lib_version()) }

    /// libpcap's name for a link type (DLT) number, if it knows one.
    public static func linkTypeName(_ dlt: UInt32) -> String? {
        guard let dlt = Int32(exactly: dlt), let name = pcap_datalink_val_to_name(dlt) else { return nil }
        return String(cString: name)
    }
}

/// Compiles `filter` and installs it on an open handle (files and live interfaces alike).
func installFilter(_ filter: String, on h: OpaquePointer) throws(CaptureError) {
    var program = bpf_program()
    guard pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
        throw .badFilter(expression: filter, reason: String(cString: pcap_geterr(h)))
    }
    defer { pcap_freecode(&program) }
    guard pcap_setfilter(h, &program) == 0 else {
        throw .badFilter(expression: filter, reason: String(cString: pcap_geterr(h)))
    }
}

/// The records of a classic pcap file read from a read-only mapping of it: no copy into stdio's
/// buffer, none into libpcap's. libpcap has opened the file and checked its header; this takes
/// only the records whose reading is plain — a whole 16-byte header, a captured length within the
/// file's snapshot length (libpcap's own limit, which it would enforce by truncating), the bytes all
/// there — and stops at the first other one (or the end), returning its offset for libpcap to go on
/// from. So every oddity of a hostile file still meets libpcap's checks and error messages.
/// Pages already read are dropped from the mapping as it goes: resident memory stays small.
struct MappedRecords {
    private let base: UnsafeRawPointer
    private let size: Int
    private let snapshot: Int
    private let nanosecond: Bool

    /// Nil unless `fd` is a regular classic pcap file in this machine's byte order (µs or ns) that maps.
    init?(fd: Int32, snapshot: Int) {
        var st = stat()
        guard fd >= 0, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 24, snapshot > 0,
            let p = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED
        else { return nil }
        base = UnsafeRawPointer(p)
        size = Int(st.st_size)
        self.snapshot = snapshot
        let magic = base.loadUnaligned(as: UInt32.self)
        guard magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D else {
            munmap(p, size)
            return nil
        }
        nanosecond = magic == 0xA1B2_3C4D
        _ = madvise(p, size, MADV_SEQUENTIAL)
    }

    /// Records per batch: enough for the analyzer to have several flows' memory on its way at once.
    static let batch = 32
    /// Bytes of the file fetched ahead of the record being read (about a batch's worth).
    static let fetchAhead = 32 << 10
    /// Bytes whose page tables are filled per call (see `forEachBatch`).
    static let populateChunk = 2 << 20

    /// Bytes behind the record being read whose pages are kept mapped in memory: records handed to
    /// worker threads are read there a little later (each worker's queue holds up to 8 batches of
    /// 512 records, ~3.5 MiB here). Pages dropped before a worker got to them are only faulted in
    /// again from the page cache: what a worker reads does not depend on this.
    static let releaseLag = 8 << 20

    func unmap() { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// Calls `body` with the plain records in batches; returns the offset of the first record not
    /// read here. Pages read more than `lag` bytes ago are dropped as it goes (RSS stays small: a
    /// file's mapped pages count as the process's); the mapping itself stays until `unmap()`.
    func forEachBatch(link: LinkType, lag: Int, _ body: (UnsafeBufferPointer<CapturedPacket>) -> Void) -> Int {
        var offset = 24
        var released = 0
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var batch: [CapturedPacket] = []
        batch.reserveCapacity(Self.batch)
        // Each record's place follows from the previous record's length, so reading headers is a chain
        // of dependent loads, each a cache miss on a cold mapping (11 % of a run). The file is read
        // front to back: fetching it ahead in a straight line turns the chain into plain bandwidth.
        var fetched = offset
        // A prefetch of a page the process has not mapped yet is dropped (prefetches never fault), and
        // first touches fault 64 KiB at a time: the page tables of the stretch ahead are filled in one
        // call instead (MADV_POPULATE_READ, Linux ≥ 5.14; where it fails, faults do it as before).
        var populated = offset / page * page
        func flush() {
            batch.withUnsafeBufferPointer { body($0) }
            batch.removeAll(keepingCapacity: true)
            if offset - lag - released >= 8 << 20 {
                let end = (offset - lag) / page * page
                _ = madvise(UnsafeMutableRawPointer(mutating: base + released), end - released, MADV_DONTNEED)
                released = end
            }
        }
        while size - offset >= 16 {
            let ahead = min(offset + Self.fetchAhead, size)
            if ahead > populated {
                let length = min(Self.populateChunk, size - populated)
                _ = madvise(UnsafeMutableRawPointer(mutating: base + populated), length, MADV_POPULATE_READ)
                populated += length
            }
            while fetched < ahead {
                stratumsniff_prefetch_stream(base + fetched)
                fetched += 64
            }
            let seconds = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            let fraction = base.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let caplen = Int(base.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
            let length = Int(base.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            guard caplen <= snapshot, caplen <= size - offset - 16 else { break }
            // libpcap hands seconds over as a signed 32-bit value, sign-extended, and the file's are
            // unsigned (see `PcapFileSource.init`): the same correction as on libpcap's path.
            var sec = Int64(Int32(bitPattern: seconds))
            if sec < 0 { sec += 1 << 32 }
            let nanos = Int64(fraction) * (nanosecond ? 1 : 1000)
            batch.append(
                CapturedPacket(
                    timestamp: Timestamp(seconds: sec, nanos: nanos), linkType: link,
                    bytes: UnsafeRawBufferPointer(start: base + offset + 16, count: caplen), originalLength: length))
            offset += 16 + caplen
            if batch.count == Self.batch { flush() }
        }
        if !batch.isEmpty { flush() }
        return offset
    }
}
