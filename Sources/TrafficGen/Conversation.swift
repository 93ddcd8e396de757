import PacketDecoding

/// Frames with their capture times, in the order a scenario wrote them.
public typealias Frames = [(time: Timestamp, frame: [UInt8])]

/// How one message is cut into TCP segments and what the network does to them.
public struct SegmentPlan: Sendable {
    /// Segment payload sizes, repeated until the message is used up (nil: one segment per 1400 bytes).
    public var sizes: [Int]?
    /// Order in which the segments are emitted (indices; nil: in order).
    public var order: [Int]?
    /// Segments sent twice (a retransmission right after the original).
    public var duplicates: Set<Int> = []
    /// Segments the capture never saw.
    public var drop: Set<Int> = []
    /// IPv4 fragment payload size (a multiple of 8) for every segment, or nil.
    public var ipFragmentSize: Int?

    public init(
        sizes: [Int]? = nil, order: [Int]? = nil, duplicates: Set<Int> = [], drop: Set<Int> = [],
        ipFragmentSize: Int? = nil
    ) {
        self.sizes = sizes
        self.order = order
        self.duplicates = duplicates
        self.drop = drop
        self.ipFragmentSize = ipFragmentSize
    }

    public static let whole = SegmentPlan()
    public static let byteByByte = SegmentPlan(sizes: [1])
}

/// A scripted TCP conversation written as valid frames with real handshakes,
/// sequence numbers, ACKs and FIN/RST.
public struct Conversation {
    public enum Side: Sendable { case client, server }

    public let client: IPAddress
    public let clientPort: UInt16
    public let server: IPAddress
    public let serverPort: UInt16
    public var vlans: [UInt16]
    public private(set) var clientSeq: UInt32
    public private(set) var serverSeq: UInt32
    public var time: Timestamp
    public private(set) var frames: Frames = []
    private var ipID: UInt16 = 1

    public init(
        client: String, clientPort: UInt16, server: String, serverPort: UInt16, start: Timestamp,
        isn: (client: UInt32, server: UInt32) = (1000, 500_000), vlans: [UInt16] = []
    ) {
        self.client = IPAddress(client)!
        self.clientPort = clientPort
        self.server = IPAddress(server)!
        self.serverPort = serverPort
        self.time = start
        self.vlans = vlans
        clientSeq = isn.client
        serverSeq = isn.server
    }

    /// One whole conversation: the handshake, what `script` sends, then the close. Most scenarios
    /// are a list of these; a conversation cut off or reset mid-way is written out by hand.
    public static func recorded(
        client: String, clientPort: UInt16, server: String, serverPort: UInt16, start: Timestamp,
        isn: (client: UInt32, server: UInt32) = (1000, 500_000), vlans: [UInt16] = [],
        _ script: (inout Conversation) -> Void
    ) -> Frames {
        var conversation = Conversation(
            client: client, clientPort: clientPort, server: server, serverPort: serverPort, start: start, isn: isn,
            vlans: vlans)
        conversation.handshake()
        script(&conversation)
        conversation.close()
        return conversation.frames
    }

    /// SYN, SYN-ACK, ACK.
    public mutating func handshake() {
        emit(.client, flags: [.syn], seq: clientSeq, payload: [])
        clientSeq &+= 1
        advance(0.02)
        emit(.server, flags: [.syn, .ack], seq: serverSeq, payload: [])
        serverSeq &+= 1
        advance(0.0001)
        emit(.client, flags: [.ack], seq: clientSeq, payload: [])
    }

    /// Sends `text` (a newline is appended when `line` is true) from `side`, then the peer ACKs everything.
    public mutating func send(
        _ side: Side, _ text: String, line: Bool = true, plan: SegmentPlan = .whole, after: Double = 0.05
    ) {
        send(side, Array((line ? text + "\n" : text).utf8), plan: plan, after: after)
    }

    public mutating func send(_ side: Side, _ bytes: [UInt8], plan: SegmentPlan = .whole, after: Double = 0.05) {
        advance(after)
        let start = side == .client ? clientSeq : serverSeq
        var chunks: [(seq: UInt32, data: [UInt8])] = []
        var offset = 0
        var k = 0
        while offset < bytes.count {
            let size = plan.sizes.map { $0[k % $0.count] } ?? 1400
            let end = min(bytes.count, offset + max(1, size))
            chunks.append((start &+ UInt32(offset), Array(bytes[offset..<end])))
            offset = end
            k += 1
        }
        var order: [Int] = Array(0..<chunks.count)
        if let wanted = plan.order {
            let listed = wanted.filter { $0 < chunks.count }
            let rest = order.filter { !listed.contains($0) }
            order = listed + rest
        }
        for i in order {
            if !plan.drop.contains(i) {
                emit(
                    side, flags: [.psh, .ack], seq: chunks[i].seq, payload: chunks[i].data,
                    fragmentSize: plan.ipFragmentSize)
                if plan.duplicates.contains(i) {
                    advance(0.2)
                    emit(side, flags: [.psh, .ack], seq: chunks[i].seq, payload: chunks[i].data)
                }
            }
            advance(0.0002)
        }
        if side == .client { clientSeq &+= UInt32(bytes.count) } else { serverSeq &+= UInt32(bytes.count) }
        advance(0.0005)
        emit(
            side == .client ? .server : .client, flags: [.ack], seq: side == .client ? serverSeq : clientSeq,
            payload: [])
    }

    /// FIN from the client, FIN-ACK from the server, final ACK.
    public mutating func close() {
        advance(0.05)
        emit(.client, flags: [.fin, .ack], seq: clientSeq, payload: [])
        clientSeq &+= 1
        advance(0.001)
        emit(.server, flags: [.fin, .ack], seq: serverSeq, payload: [])
        serverSeq &+= 1
        advance(0.001)
        emit(.client, flags: [.ack], seq: clientSeq, payload: [])
    }

    public mutating func reset(from side: Side) {
        advance(0.01)
        emit(side, flags: [.rst, .ack], seq: side == .client ? clientSeq : serverSeq, payload: [])
    }

    public mutating func advance(_ seconds: Double) { time = time.adding(seconds: seconds) }

    private mutating func emit(
        _ side: Side, flags: FrameBuilder.TCPFlagBits, seq: UInt32, payload: [UInt8], fragmentSize: Int? = nil
    ) {
        let (src, dst, sp, dp) =
            side == .client ? (client, server, clientPort, serverPort) : (server, client, serverPort, clientPort)
        let ack = side == .client ? serverSeq : clientSeq
        let seg = FrameBuilder.tcp(
            src: src, dst: dst, srcPort: sp, dstPort: dp, seq: seq,
            ack: flags.contains(.syn) && !flags.contains(.ack) ? 0 : ack,
            flags: flags, payload: payload)
        ipID &+= 1
        if let fs = fragmentSize, case .v4(let s) = src, case .v4(let d) = dst, seg.count > fs {
            // Split the IPv4 datagram into fragments, sent last-first to exercise reassembly.
            var pieces: [[UInt8]] = []
            var off = 0
            while off < seg.count {
                let end = min(seg.count, off + fs)
                let ip = FrameBuilder.ipv4(
                    src: s, dst: d, proto: 6, payload: Array(seg[off..<end]), id: ipID,
                    fragmentOffset: off, moreFragments: end < seg.count)
                pieces.append(FrameBuilder.ethernet(vlans: vlans, etherType: 0x0800, payload: ip))
                off = end
            }
            for p in pieces.reversed() {
                frames.append((time, p))
                advance(0.00001)
            }
            return
        }
        frames.append(
            (
                time,
                FrameBuilder.frame(
                    src: src, dst: dst, proto: 6, transport: seg, vlans: vlans, ipID: ipID, forward: side == .client)
            ))
    }
}

extension Array where Element == (time: Timestamp, frame: [UInt8]) {
    /// Writes these frames (sorted by time, stable) into a pcap image.
    public func pcap(nanosecond: Bool = false) -> [UInt8] {
        var w = PcapWriter(nanosecond: nanosecond)
        for f in self.enumerated().sorted(by: { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }) {
            w.add(time: f.element.time, frame: f.element.frame)
        }
        return w.bytes
    }
}

extension Conversation {
    /// XMRig logs in (answered with a first job) and submits `shares` shares on job 1, one every
    /// `interval` seconds, each accepted.
    public mutating func cryptoNoteMining(rig: String = "rig-07", shares: Int, interval: Double) {
        send(.client, Messages.xmrigLogin(rig: rig))
        send(.server, Messages.cnLoginResult())
        for i in 0..<shares {
            send(.client, Messages.cnSubmit(id: 2 + i, job: 1, nonce: i), after: interval)
            send(.server, Messages.cnOK(id: 2 + i))
        }
    }

    /// Mining over TLS as the wire shows it: a 180-byte record from the pool every 30 s (a job), and a
    /// 120-byte record from the miner after every `shareEvery`-th (a share).
    public mutating func tlsMiningRecords(jobs: Int, shareEvery: Int) {
        for i in 0..<jobs {
            send(.server, Wire.appData(180, seed: i), after: 30)
            if i % shareEvery == 0 { send(.client, Wire.appData(120, seed: i)) }
        }
    }

    /// An ordinary TLS download: `records` full records from the server, one every `interval` seconds.
    public mutating func tlsDownload(records: Int, interval: Double) {
        for i in 0..<records { send(.server, Wire.appData(1300, seed: i), after: interval) }
    }

    /// Stratum V2's opening in the clear: the device's SetupConnection to this server, and the pool's
    /// SetupConnection.Success.
    public mutating func sv2Setup(vendor: String, hardware: String, firmware: String, device: String) {
        send(
            .client,
            Wire.sv2SetupConnection(
                host: server.description, port: Int(serverPort), vendor: vendor, hardware: hardware,
                firmware: firmware, device: device))
        send(.server, Wire.sv2SetupSuccess())
    }

    /// An HTTP proxy's tunnel: `CONNECT target` (with a User-Agent when given), granted.
    public mutating func httpConnect(_ target: String, agent: String? = nil) {
        send(
            .client,
            "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n" + (agent.map { "User-Agent: \($0)\r\n" } ?? "")
                + "\r\n", line: false)
        send(.server, "HTTP/1.1 200 Connection established\r\n\r\n", line: false)
    }
}
