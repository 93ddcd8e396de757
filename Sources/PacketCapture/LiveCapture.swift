import CPcap
import PacketDecoding

#if canImport(Glibc)
    import Glibc
#endif

// Live capture through libpcap. Like PcapFile.swift, no pcap_t or C return code leaves this file.

/// A network interface as libpcap lists it.
public struct InterfaceInfo: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var addresses: [String]
    public var isUp: Bool
    public var isRunning: Bool
    public var isLoopback: Bool
}

/// Packet counters from the kernel and the interface (pcap_stats).
public struct CaptureStatistics: Sendable, Equatable {
    /// Packets the filter accepted (before any drop).
    public var received: UInt64 = 0
    /// Dropped because the kernel buffer was full: raise `--buffer-size` or lighten the filter.
    public var droppedByKernel: UInt64 = 0
    /// Dropped by the interface or its driver (not all platforms report this).
    public var droppedByInterface: UInt64 = 0
    public init() {}
    public static func + (a: Self, b: Self) -> Self {
        var s = a
        s.received += b.received
        s.droppedByKernel += b.droppedByKernel
        s.droppedByInterface += b.droppedByInterface
        return s
    }
}

/// One live interface opened with libpcap, in non-blocking mode so one thread can serve several.
public final class LiveCapture {
    public struct Options: Sendable {
        public var promiscuous = true
        public var snapLength = 262_144
        /// Kernel buffer in bytes (nil: libpcap's default, usually 2 MiB).
        public var bufferSize: Int?
        /// Deliver packets as they arrive rather than in kernel batches (at most 100 ms late).
        /// Off by default: on a busy link the per-packet wake-ups cost more CPU than the analysis.
        public var immediate = false
        public var filter: String?
        /// Join this fanout group (Linux PACKET_FANOUT, hash mode with defragmentation): the kernel
        /// spreads the interface's packets over every handle in the group by flow — both directions
        /// of a flow, and every fragment of a datagram, to one handle. Nil: this handle sees everything.
        public var fanoutGroup: UInt16?
        public init() {}
    }

    public let name: String
    public private(set) var linkType = LinkType.ethernet
    /// Whether timestamps arrive in nanoseconds (else microseconds, scaled up here).
    public private(set) var nanosecondTimestamps = false
    private let handle: OpaquePointer
    /// libpcap's counters are 32-bit and wrap; these widen them.
    private var last = (recv: UInt32(0), drop: UInt32(0), ifdrop: UInt32(0))
    private var totals = CaptureStatistics()

    /// Opens and activates `interface`. Errors say what the operator must do.
    public init(interface: String, options: Options = Options()) throws(CaptureError) {
        name = interface
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw .liveFailed(
                interface: interface, reason: errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        handle = h
        pcap_set_snaplen(h, Int32(clamping: options.snapLength))
        pcap_set_promisc(h, options.promiscuous ? 1 : 0)
        pcap_set_timeout(h, 100)
        if options.immediate { pcap_set_immediate_mode(h, 1) }
        if let size = options.bufferSize { pcap_set_buffer_size(h, Int32(clamping: size)) }
        // Nanosecond timestamps where the device offers them (Linux does).
        if pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO)) == 0 { nanosecondTimestamps = true }
        let rc = pcap_activate(h)
        let detail = String(cString: pcap_geterr(h))
        switch rc {
        case 0, PCAP_WARNING, PCAP_WARNING_TSTAMP_TYPE_NOTSUP:
            break
        case PCAP_WARNING_PROMISC_NOTSUP:
            break  // capture still works, only for this host's own traffic
        case PCAP_ERROR_NO_SUCH_DEVICE:
            throw .noSuchInterface(interface: interface)
        case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
            throw .permissionDenied(interface: interface, reason: detail)
        case PCAP_ERROR_IFACE_NOT_UP:
            throw .interfaceDown(interface: interface)
        default:
            throw .liveFailed(interface: interface, reason: detail.isEmpty ? "pcap_activate failed (\(rc))" : detail)
        }
        nanosecondTimestamps = pcap_get_tstamp_precision(h) == Int32(PCAP_TSTAMP_PRECISION_NANO)
        linkType = LinkType(rawValue: UInt32(bitPattern: pcap_datalink(h)))
        guard linkType.isSupported else { throw .unsupportedLinkType(source: interface, linkType: linkType) }
        if let filter = options.filter { try installFilter(filter, on: h) }
        if let group = options.fanoutGroup { try joinFanout(group, handle: h, interface: interface) }
        guard pcap_setnonblock(h, 1, &errbuf) == 0 else {
            throw .liveFailed(
                interface: interface, reason: errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
    }

    deinit { pcap_close(handle) }

    /// PACKET_FANOUT on the handle's socket (libpcap binds it during activation; fanout must come after).
    private func joinFanout(_ group: UInt16, handle h: OpaquePointer, interface: String) throws(CaptureError) {
        let fd = pcap_fileno(h)
        var arg = UInt32(group) | UInt32(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16
        guard fd >= 0, setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            let reason = String(cString: strerror(errno))
            throw .liveFailed(
                interface: interface,
                reason: "cannot join packet fanout group \(group) (\(reason)); run with --workers 1")
        }
    }

    /// A file descriptor that becomes readable when packets wait (for poll()).
    public var selectableFileDescriptor: Int32 { pcap_get_selectable_fd(handle) }

    /// Delivers the packets waiting now (at most `limit`) without blocking; returns how many.
    public func readAvailable(limit: Int = 4096, _ body: (CapturedPacket) -> Void) throws(CaptureError) -> Int {
        let nano = nanosecondTimestamps
        let link = linkType
        var count = 0
        var failure: CaptureError?
        withoutActuallyEscaping(body) { body in
            var context = DispatchContext(body: body, nano: nano, link: link)
            let rc = withUnsafeMutablePointer(to: &context) { ptr in
                pcap_dispatch(
                    handle, Int32(limit),
                    { user, header, bytes in
                        guard let user, let header, let bytes else { return }
                        let ctx = UnsafeMutableRawPointer(user).assumingMemoryBound(to: DispatchContext.self)
                        let h = header.pointee
                        let frac = Int64(h.ts.tv_usec) * (ctx.pointee.nano ? 1 : 1000)
                        ctx.pointee.body(
                            CapturedPacket(
                                timestamp: Timestamp(seconds: Int64(h.ts.tv_sec), nanos: frac),
                                linkType: ctx.pointee.link,
                                bytes: UnsafeRawBufferPointer(start: bytes, count: Int(h.caplen)),
                                originalLength: Int(h.len)))
                    }, UnsafeMutableRawPointer(ptr).assumingMemoryBound(to: UInt8.self))
            }
            if rc >= 0 {
                count = Int(rc)
            } else if rc != PCAP_ERROR_BREAK {
                failure = .liveFailed(interface: name, reason: String(cString: pcap_geterr(handle)))
            }
        }
        if let failure { throw failure }
        return count
    }

    private struct DispatchContext {
        var body: (CapturedPacket) -> Void
        var nano: Bool
        var link: LinkType
    }

    /// Counters since the interface was opened (widened past libpcap's 32-bit wrap).
    public func statistics() -> CaptureStatistics {
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else { return totals }
        totals.received &+= UInt64(s.ps_recv &- last.recv)
        totals.droppedByKernel &+= UInt64(s.ps_drop &- last.drop)
        totals.droppedByInterface &+= UInt64(s.ps_ifdrop &- last.ifdrop)
        last = (s.ps_recv, s.ps_drop, s.ps_ifdrop)
        return totals
    }

    /// Every capture device libpcap can open, with its state.
    public static func interfaces() throws(CaptureError) -> [InterfaceInfo] {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0 else {
            throw .liveFailed(
                interface: "(list)", reason: errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        defer { pcap_freealldevs(list) }
        var out: [InterfaceInfo] = []
        var cur = list
        while let d = cur {
            let dev = d.pointee
            var addrs: [String] = []
            var a = dev.addresses
            while let ap = a {
                if let sa = ap.pointee.addr, let text = Self.addressText(sa) { addrs.append(text) }
                a = ap.pointee.next
            }
            out.append(
                InterfaceInfo(
                    name: String(cString: dev.name), description: dev.description.map { String(cString: $0) },
                    addresses: addrs, isUp: dev.flags & UInt32(PCAP_IF_UP) != 0,
                    isRunning: dev.flags & UInt32(PCAP_IF_RUNNING) != 0,
                    isLoopback: dev.flags & UInt32(PCAP_IF_LOOPBACK) != 0))
            cur = dev.next
        }
        return out
    }

    private static func addressText(_ sa: UnsafeMutablePointer<sockaddr>) -> String? {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                IPAddress.v4(UInt32(bigEndian: p.pointee.sin_addr.s_addr)).description
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                var a = p.pointee.sin6_addr
                let bytes = withUnsafeBytes(of: &a) { Array($0) }
                let hi = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let lo = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                return IPAddress.v6(hi, lo).description
            }
        default:
            return nil
        }
    }
}
