import PacketDecoding

/// The behaviour model for encrypted flows (docs/detection.md "TLS without names: behaviour"): what a mining
/// session looks like when nothing inside it can be read.
///
/// A pool pushes work on its own — a new job on every block and every 30–60 s — while the miner
/// submits a share whenever it finds one (vardiff aims at one every 10–30 s): at random times, in
/// messages of nearly one size (the same JSON with another nonce), each answered at once by the pool.
/// Ordinary long-lived encrypted traffic has one side or the other, rarely both: MQTT and IMAP
/// servers push but their clients only ping on a clock; gRPC, WebSocket and VPN keepalives tick on
/// a clock; pollers ask and the server only answers; chat sends messages of every size.
///
/// Messages are consecutive records of one direction (a gap of more than `burstGap`, or the other
/// side speaking, ends one). A server message that starts within `answerWindow` of the client's is
/// an answer, else a push; a client message that starts within `replyWindow` of the server's is a
/// reply (a pong, an acknowledgement), else a send. Running sums only: a flow costs O(1) memory.
public struct ExchangeCadence: Sendable {
    /// Thresholds (README); one place.
    public enum Threshold {
        /// The opening — TLS 1.3's encrypted handshake flight, session tickets, a login and its
        /// first job — is not the cadence: records this soon after the first are only counted as volume.
        public static let openingSeconds = 2.0
        public static let burstGap = 0.5
        public static let answerWindow = 2.0
        public static let replyWindow = 1.0
        /// Observed this long, with this many pushes and sends at least.
        public static let minSpanSeconds = 300.0
        public static let minPushes = 6
        public static let minSends = 6
        /// Pushes arrive on average every 5 s to 5 min.
        public static let pushInterval = 5.0...300.0
        /// Pushes of similar size (coefficient of variation at most this).
        public static let maxPushSizeVariation = 0.5
        /// Sends at irregular times (a clock ticks with variation near 0; random shares near 1).
        public static let minSendIntervalVariation = 0.3
        /// Sends of nearly one size.
        public static let maxSendSizeVariation = 0.25
        /// Work is not small: a share carries a nonce and (in most dialects) a 32-byte result, a job a
        /// block header or blob (≥ 76 bytes), all in hex — random bytes that even permessage-deflate
        /// cannot shrink below half, plus framing and the record's own 17–29 bytes. Encrypted
        /// keepalives, pings and pongs (WebSocket, HTTP/2 PING, MQTT PINGREQ) are 25–60-byte records.
        public static let minMeanSendBytes = 64.0
        public static let minMeanPushBytes = 100.0
        /// This share of sends answered within `answerWindow`.
        public static let minAnsweredShare = 0.75
        /// A flow that moves more than this many bytes per direction, plus `bulkBytesPerSecond` for
        /// every second observed, is bulk transfer, not mining: it is no longer watched.
        public static let bulkAllowance = 16 * 1024
        public static let bulkBytesPerSecond = 1024.0
    }

    /// Running mean and variance (Welford) of a series.
    public struct Series: Sendable, Equatable {
        public private(set) var count = 0
        public private(set) var mean = 0.0
        private var m2 = 0.0
        mutating func add(_ x: Double) {
            count += 1
            let d = x - mean
            mean += d / Double(count)
            m2 += d * (x - mean)
        }
        /// Standard deviation over mean; 0 for fewer than two values.
        public var variation: Double {
            guard count > 1, mean > 0 else { return 0 }
            return (m2 / Double(count - 1)).squareRoot() / mean
        }
    }

    public private(set) var pushIntervals = Series()
    public private(set) var pushSizes = Series()
    public private(set) var sendIntervals = Series()
    public private(set) var sendSizes = Series()
    public private(set) var pushes = 0
    public private(set) var sends = 0
    public private(set) var answeredSends = 0
    public private(set) var firstRecord: Timestamp?
    public private(set) var lastRecord = Timestamp.zero
    private var clientBytes = 0
    private var serverBytes = 0
    // The message being assembled.
    private var open: (fromClient: Bool, start: Timestamp, bytes: Int, kind: Kind)?
    private var lastClientEnd: Timestamp?
    private var lastServerEnd: Timestamp?
    private var lastPush: Timestamp?
    private var lastSend: Timestamp?
    /// The last send, not yet answered.
    private var awaiting: Timestamp?

    private enum Kind { case push, answer, send, reply }

    public init() {}

    /// One encrypted record of `bytes` from the client (or the server) at `time`.
    public mutating func record(fromClient: Bool, bytes: Int, at time: Timestamp) {
        if firstRecord == nil { firstRecord = time }
        lastRecord = time
        if fromClient { clientBytes &+= bytes } else { serverBytes &+= bytes }
        guard let first = firstRecord, time.since(first) > Threshold.openingSeconds else { return }
        if var m = open, m.fromClient == fromClient, time.since(lastEnd(fromClient) ?? m.start) <= Threshold.burstGap {
            m.bytes &+= bytes
            open = m
            setEnd(fromClient, time)
            return
        }
        close()
        let other = fromClient ? lastServerEnd : lastClientEnd
        let kind: Kind
        if fromClient {
            kind = other.map { time.since($0) <= Threshold.replyWindow } == true ? .reply : .send
        } else {
            kind = other.map { time.since($0) <= Threshold.answerWindow } == true ? .answer : .push
        }
        switch kind {
        case .push:
            if let p = lastPush { pushIntervals.add(time.since(p)) }
            lastPush = time
            pushes += 1
        case .answer:
            if let a = awaiting, time.since(a) <= Threshold.answerWindow { answeredSends += 1 }
            awaiting = nil
        case .send:
            if let s = lastSend { sendIntervals.add(time.since(s)) }
            lastSend = time
            sends += 1
            awaiting = time
        case .reply:
            break
        }
        open = (fromClient, time, bytes, kind)
        setEnd(fromClient, time)
    }

    private func lastEnd(_ fromClient: Bool) -> Timestamp? { fromClient ? lastClientEnd : lastServerEnd }
    private mutating func setEnd(_ fromClient: Bool, _ t: Timestamp) {
        if fromClient { lastClientEnd = t } else { lastServerEnd = t }
    }

    /// Closes the message being assembled, adding its size to its series.
    private mutating func close() {
        guard let m = open else { return }
        open = nil
        switch m.kind {
        case .push: pushSizes.add(Double(m.bytes))
        case .send: sendSizes.add(Double(m.bytes))
        default: break
        }
    }

    /// Seconds from the first record to the last (the opening included).
    public var span: Double { firstRecord.map { lastRecord.since($0) } ?? 0 }

    /// Bulk transfer (more bytes than mining ever moves): stop watching.
    public var isBulk: Bool {
        let allowance = Double(Threshold.bulkAllowance) + Threshold.bulkBytesPerSecond * max(span, 0)
        return Double(max(clientBytes, serverBytes)) > allowance
    }

    /// The sizes of the message still open count too (a snapshot, or the flow's end).
    private var closed: ExchangeCadence {
        var c = self
        c.close()
        return c
    }

    /// Every threshold met: the flow behaves like a mining session.
    public var looksLikeMining: Bool { closed.meetsThresholds }

    private var meetsThresholds: Bool {
        typealias T = Threshold
        guard span >= T.minSpanSeconds, pushes >= T.minPushes, sends >= T.minSends, !isBulk else { return false }
        return T.pushInterval.contains(pushIntervals.mean)
            && pushSizes.variation <= T.maxPushSizeVariation
            && sendIntervals.variation >= T.minSendIntervalVariation
            && sendSizes.variation <= T.maxSendSizeVariation
            && sendSizes.mean >= T.minMeanSendBytes && pushSizes.mean >= T.minMeanPushBytes
            && Double(answeredSends) >= T.minAnsweredShare * Double(sends)
    }

    /// What the analyst reads (evidence details, reasons).
    public var summary: CadenceSummary {
        let c = closed
        return CadenceSummary(
            spanSeconds: c.span, pushes: c.pushes, meanPushInterval: c.pushIntervals.mean,
            meanPushBytes: c.pushSizes.mean, sends: c.sends, meanSendInterval: c.sendIntervals.mean,
            sendIntervalVariation: c.sendIntervals.variation, meanSendBytes: c.sendSizes.mean,
            sendSizeVariation: c.sendSizes.variation, answeredSends: c.answeredSends)
    }
}

/// The behaviour model's measurements of one flow.
public struct CadenceSummary: Sendable, Equatable, Codable {
    public var spanSeconds: Double
    public var pushes: Int
    public var meanPushInterval: Double
    public var meanPushBytes: Double
    public var sends: Int
    public var meanSendInterval: Double
    public var sendIntervalVariation: Double
    public var meanSendBytes: Double
    public var sendSizeVariation: Double
    public var answeredSends: Int
}
