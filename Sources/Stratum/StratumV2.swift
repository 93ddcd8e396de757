import Coins
import PacketDecoding
import SafeNumbers

/// Stratum V2 binary framing (the SV2 specification, "Protocol Overview" and "Mining Protocol"):
///
///     struct Frame { U16 extension_type (bit 15: channel message); U8 msg_type; U24 msg_length;
///                    B0_16M payload }   // little-endian
///
/// In the clear (typical on a LAN between a miner and its proxy) the SetupConnection
/// message names the protocol, vendor, hardware, firmware and device; the miner then opens
/// a channel with its user identity and submits shares. Encrypted V2 starts with a Noise
/// handshake instead: a 64-byte first message from the client.
public struct StratumV2Session {
    public static let setupConnection: UInt8 = 0x00
    public static let setupSuccess: UInt8 = 0x01
    public static let setupError: UInt8 = 0x02
    public static let openStandardChannel: UInt8 = 0x10
    public static let openStandardChannelSuccess: UInt8 = 0x11
    public static let openExtendedChannel: UInt8 = 0x13
    public static let openExtendedChannelSuccess: UInt8 = 0x14
    public static let newMiningJob: UInt8 = 0x15
    public static let submitSharesStandard: UInt8 = 0x1A
    public static let submitSharesExtended: UInt8 = 0x1B
    public static let submitSharesSuccess: UInt8 = 0x1C
    public static let submitSharesError: UInt8 = 0x1D
    public static let newExtendedMiningJob: UInt8 = 0x1F

    /// Largest frame payload read; larger frames are skipped.
    /// Largest frame accepted (the default of `StratumV2Caps.maxFrame`).
    public static let defaultMaxFrame = 64 * 1024
    public let maxFrame: Int

    public private(set) var summary = StratumSummary()
    public private(set) var invalid = false
    public private(set) var frames = 0
    /// Protocol number from SetupConnection (0 = mining).
    public private(set) var setupProtocol: UInt8?
    private var buffers: ([UInt8], [UInt8]) = ([], [])
    private var skip = (0, 0)
    /// The side that sent SetupConnection.
    private var clientSide: Side?

    public init(maxFrame: Int = defaultMaxFrame) {
        self.maxFrame = maxFrame
        summary.dialect = .stratumV2
    }

    /// Bytes allocated for partial frames.
    public var bufferedBytes: Int { buffers.0.capacity + buffers.1.capacity }

    /// Frees partial frames (the decoder budget ran out); what was learned stays. Framing is lost, so stop.
    public mutating func shed() {
        buffers = ([], [])
        invalid = true
    }

    /// The first bytes of a stream look like a plaintext SetupConnection frame.
    public static func probe(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 7 else { return false }
        let ext = UInt16(b[0]) | UInt16(b[1]) << 8
        let length = Int(b[3]) | Int(b[4]) << 8 | Int(b[5]) << 16
        // protocol: 0 mining, 1 job declaration, 2 template distribution; then min/max version 2.
        return ext == 0 && b[2] == setupConnection && length >= 12 && length <= 1024 && b[6] <= 2
            && (b.count < 11 || (b[7] == 2 && b[8] == 0 && b[9] == 2 && b[10] == 0))
    }

    /// A Noise NX handshake's first message: exactly 64 bytes (an ElligatorSwift-encoded key).
    /// The client's first Noise message (an ephemeral key) is this long.
    public static let noiseHelloSize = 64
    /// The responder's answer (act 2), in the reference implementation (stratum-mining/stratum,
    /// `noise_sv2::INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE`): its ElligatorSwift key (64) + its
    /// encrypted static key (64 + 16-byte MAC) + the encrypted signature message (74 + 16) = 234 bytes.
    /// (The spec text's older sizes predate ElligatorSwift.)
    public static let noiseAnswerSize = 64 + (64 + 16) + (74 + 16)
    public static func looksLikeNoiseHello(_ firstClientPayload: Int) -> Bool { firstClientPayload == noiseHelloSize }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, from side: Side, time: Timestamp) {
        guard !invalid else { return }
        var input = bytes[...]
        // Skip the rest of an oversized frame without buffering it.
        let s = side == .a ? skip.0 : skip.1
        if s > 0 {
            let n = min(s, input.count)
            input = input.dropFirst(n)
            if side == .a { skip.0 -= n } else { skip.1 -= n }
        }
        var buf = side == .a ? buffers.0 : buffers.1
        buf.append(contentsOf: input)
        var start = 0
        while buf.count - start >= 6 {
            let ext = UInt16(buf[start]) | UInt16(buf[start + 1]) << 8
            let type = buf[start + 2]
            let length = Int(buf[start + 3]) | Int(buf[start + 4]) << 8 | Int(buf[start + 5]) << 16
            if length > maxFrame {
                let have = buf.count - start - 6
                if side == .a { skip.0 = length - have } else { skip.1 = length - have }
                start = buf.count
                break
            }
            guard buf.count - start >= 6 + length else { break }
            let payload = Array(buf[(start + 6)..<(start + 6 + length)])
            start += 6 + length
            frames += 1
            if ext & 0x7FFF == 0 { handle(type, payload, side: side, time: time) }
            if invalid { break }
        }
        buf.removeFirst(min(start, buf.count))
        if buf.count > maxFrame + 6 {
            invalid = true
            buf.removeAll()
        }
        if side == .a { buffers.0 = buf } else { buffers.1 = buf }
    }

    private mutating func handle(_ type: UInt8, _ p: [UInt8], side: Side, time: Timestamp) {
        p.withUnsafeBytes { handle(type, ByteCursor($0), side: side, time: time) }
    }

    private mutating func handle(_ type: UInt8, _ cursor: ByteCursor, side: Side, time: Timestamp) {
        var r = cursor
        func touch() {
            summary.messages += 1
            if summary.firstSeen == nil { summary.firstSeen = time }
            summary.lastSeen = time
        }
        switch type {
        case Self.setupConnection:
            guard clientSide == nil, let proto = r.u8(), r.u16le() != nil, r.u16le() != nil, r.u32le() != nil,
                let host = r.str0_255(), let port = r.u16le(), let vendor = r.str0_255(), let hw = r.str0_255(),
                let fw = r.str0_255(), let dev = r.str0_255()
            else {
                invalid = true
                return
            }
            clientSide = side
            setupProtocol = proto
            summary.minerSide = side
            summary.minerMethods.appendUnique("SetupConnection", cap: Self.maxListEntries)
            let sw = [vendor, hw, fw].filter { !$0.isEmpty }.joined(separator: " ")
            if !sw.isEmpty { summary.software = sw }
            if !host.isEmpty {
                summary.poolHostnames.appendUnique(port > 0 ? "\(host):\(port)" : host, cap: Self.maxListEntries)
            }
            if !dev.isEmpty { summary.workers.appendUnique(dev, cap: Self.maxListEntries) }
            touch()
        case Self.setupSuccess where side != clientSide && clientSide != nil:
            summary.loginAccepted = true
            summary.poolMethods.appendUnique("SetupConnection.Success", cap: Self.maxListEntries)
            touch()
        case Self.setupError where side != clientSide && clientSide != nil:
            summary.loginAccepted = false
            summary.poolMethods.appendUnique("SetupConnection.Error", cap: Self.maxListEntries)
            touch()
        case Self.openStandardChannel, Self.openExtendedChannel:
            // U32 request_id; STR0_255 user_identity; ...   (from the miner only)
            guard side == clientSide, r.u32le() != nil, let user = r.str0_255() else { return }
            let (wallet, worker) = WalletParsing.split(user)
            if !wallet.isEmpty { summary.wallets.appendUnique(wallet, cap: Self.maxListEntries) }
            if let worker { summary.workers.appendUnique(worker, cap: Self.maxListEntries) }
            if summary.coin == nil { summary.coin = Coins.coin(forWallet: wallet) }
            summary.minerMethods.appendUnique(
                type == Self.openStandardChannel ? "OpenStandardMiningChannel" : "OpenExtendedMiningChannel",
                cap: Self.maxListEntries)
            touch()
        case Self.newMiningJob, Self.newExtendedMiningJob:
            guard clientSide != nil, side != clientSide else { return }
            summary.jobsReceived += 1
            touch()
        case Self.submitSharesStandard, Self.submitSharesExtended:
            guard side == clientSide else { return }
            summary.sharesSubmitted += 1
            touch()
        case Self.submitSharesSuccess where clientSide != nil && side != clientSide:
            // U32 channel_id; U32 last_sequence_number; U32 new_submits_accepted_count; U64 new_shares_sum
            _ = r.u32le()
            _ = r.u32le()
            summary.sharesAccepted = summary.sharesAccepted.addingSaturated(Int(r.u32le() ?? 1))
            touch()
        case Self.submitSharesError where clientSide != nil && side != clientSide:
            summary.sharesRejected += 1
            touch()
        default:
            break
        }
        updateShape()
    }

    /// Most wallets, workers, host names and method names kept per session (as for Stratum V1):
    /// a session may open channels by the thousand; the list stays short and lookups cheap.
    public static let maxListEntries = 16

    private mutating func updateShape() {
        guard setupProtocol == 0 else {
            summary.shape = .none
            return
        }
        let poolAnswered = summary.loginAccepted != nil || summary.jobsReceived > 0 || summary.sharesAccepted > 0
        summary.shape = poolAnswered ? .twoSided : .minerOnly
    }
}

/// STR0_255 on the shared cursor: a one-byte length then that many bytes (wire text, escape when printing).
extension ByteCursor {
    mutating func str0_255() -> String? {
        guard let n = u8(), let b = take(Int(n)) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }
}
