import PacketDecoding
import SafeNumbers

/// The behaviour model for encrypted flows (docs/detection.md "TLS without names: behaviour"): what a mining
/// session looks like when nothing inside it can be read.
///
/// A pool pushes work on its own — a new job on every block, of one size for one coin — and the miner
/// does not answer it; the miner submits a share whenever it finds one: at random times, in messages
/// of nearly one size (the same JSON with another nonce), each acknowledged at once by a shorter
/// message of one size. Ordinary long-lived encrypted traffic has parts of this, not all: brokers and
/// mail servers push, but their clients acknowledge or fetch; keepalives tick on a clock; pollers ask
/// briefly and get long answers; chat sends messages of every size.
///
/// Messages are consecutive records of one direction (a gap of more than `burstGap`, or the other
/// side speaking, ends one). A server message that starts within `answerWindow` of the client's is
/// an answer, else a push; a client message that starts within `replyWindow` of the server's is a
/// reply (a pong, an acknowledgement), else a send. Running sums only: a flow costs O(1) memory,
/// and the sums of a host's flows to one server add up (`CadenceMeasures.merge`), so a miner that
/// reconnects every few minutes is judged on all its sessions together.
public struct ExchangeCadence: Sendable {
    /// How messages are told apart; one place.
    public enum Timing {
        /// The opening — TLS 1.3's encrypted handshake flight, session tickets, a login and its
        /// first job — is not the cadence: records this soon after the first are only counted as volume.
        public static let openingSeconds = 2.0
        public static let burstGap = 0.5
        public static let answerWindow = 2.0
        public static let replyWindow = 1.0
        /// A flow that moves more than this many bytes per direction, plus `bulkBytesPerSecond` for
        /// every second observed, is bulk transfer, not mining: it is no longer watched.
        public static let bulkAllowance = 16 * 1024
        public static let bulkBytesPerSecond = 1024.0
    }

    public private(set) var measures = CadenceMeasures()
    public private(set) var firstRecord: Timestamp?
    public private(set) var lastRecord = Timestamp.zero
    private var clientBytes = 0
    private var serverBytes = 0
    // The message being assembled.
    private var open: (fromClient: Bool, start: Timestamp, kind: Kind)?
    private var lastClientEnd: Timestamp?
    private var lastServerEnd: Timestamp?
    private var lastPush: Timestamp?
    private var lastSend: Timestamp?
    /// The last send, not yet answered.
    private var awaiting: Timestamp?
    /// The server's last message was a push (a client message right after it replies to it).
    private var lastServerWasPush = false

    private enum Kind { case push, answer, answerToSend, send, reply }

    public init() {}

    /// One encrypted record of `bytes` from the client (or the server) at `time`.
    public mutating func record(fromClient: Bool, bytes: Int, at time: Timestamp) {
        if firstRecord == nil { firstRecord = time }
        lastRecord = time
        if fromClient {
            clientBytes = clientBytes.addingSaturated(bytes)
        } else {
            serverBytes = serverBytes.addingSaturated(bytes)
        }
        guard let first = firstRecord, time.since(first) > Timing.openingSeconds else { return }
        if let m = open, m.fromClient == fromClient, time.since(lastEnd(fromClient) ?? m.start) <= Timing.burstGap {
            addSize(bytes, of: m.kind)
            setEnd(fromClient, time)
            return
        }
        let other = fromClient ? lastServerEnd : lastClientEnd
        let kind: Kind
        if fromClient {
            kind = other.map { time.since($0) <= Timing.replyWindow } == true ? .reply : .send
        } else if other.map({ time.since($0) <= Timing.answerWindow }) == true {
            kind = awaiting.map { time.since($0) <= Timing.answerWindow } == true ? .answerToSend : .answer
        } else {
            kind = .push
        }
        switch kind {
        case .push:
            if let p = lastPush { measures.pushIntervals.add(Self.milliseconds(time.since(p))) }
            lastPush = time
            measures.pushes += 1
        case .answerToSend:
            if let a = awaiting { measures.answerDelays.add(Self.milliseconds(time.since(a))) }
            measures.answeredSends += 1
            awaiting = nil
        case .answer:
            awaiting = nil
        case .send:
            if let s = lastSend { measures.sendIntervals.add(Self.milliseconds(time.since(s))) }
            lastSend = time
            measures.sends += 1
            awaiting = time
        case .reply:
            if lastServerWasPush { measures.repliedPushes += 1 }
        }
        if !fromClient { lastServerWasPush = kind == .push }
        open = (fromClient, time, kind)
        addSize(bytes, of: kind)
        setEnd(fromClient, time)
    }

    private func lastEnd(_ fromClient: Bool) -> Timestamp? { fromClient ? lastClientEnd : lastServerEnd }
    private mutating func setEnd(_ fromClient: Bool, _ t: Timestamp) {
        if fromClient { lastClientEnd = t } else { lastServerEnd = t }
    }

    /// Sizes are per record: a job, a share, an acknowledgement is one JSON line written at once, one
    /// record — two jobs that happen to come within `burstGap` stay two of one size, not one of twice it.
    private mutating func addSize(_ bytes: Int, of kind: Kind) {
        switch kind {
        case .push: measures.pushSizes.add(bytes)
        case .send: measures.sendSizes.add(bytes)
        case .answerToSend: measures.answerSizes.add(bytes)
        case .answer, .reply: break
        }
    }

    static func milliseconds(_ seconds: Double) -> Int { Int(saturating: (seconds * 1000).rounded()) }

    /// Seconds from the first record to the last (the opening included).
    public var span: Double { firstRecord.map { lastRecord.since($0) } ?? 0 }

    /// Bulk transfer (more bytes than mining ever moves): stop watching.
    public var isBulk: Bool {
        let allowance = Double(Timing.bulkAllowance) + Timing.bulkBytesPerSecond * max(span, 0)
        return Double(max(clientBytes, serverBytes)) > allowance
    }

    /// The measurements so far (a snapshot, or the flow's end).
    public var summary: CadenceMeasures {
        var m = measures
        m.spanMilliseconds = Self.milliseconds(span)
        return m
    }
}

/// A series' sufficient statistics in whole units (bytes, milliseconds): the sums are exact, so a
/// host's flows merged in any order — by any number of workers — give the same numbers.
public struct CadenceSeries: Sendable, Equatable, Codable {
    public private(set) var count = 0
    public private(set) var sum = 0
    public private(set) var sumOfSquares = 0

    public init() {}

    mutating func add(_ x: Int) {
        count = count.addingSaturated(1)
        sum = sum.addingSaturated(x)
        sumOfSquares = sumOfSquares.addingSaturated(x.multipliedSaturated(by: x))
    }

    mutating func merge(_ o: CadenceSeries) {
        count = count.addingSaturated(o.count)
        sum = sum.addingSaturated(o.sum)
        sumOfSquares = sumOfSquares.addingSaturated(o.sumOfSquares)
    }

    public var mean: Double { count > 0 ? Double(sum) / Double(count) : 0 }

    /// Standard deviation over mean; 0 for fewer than two values.
    public var variation: Double {
        guard count > 1, sum > 0 else { return 0 }
        let n = Double(count)
        let variance = max(0, (Double(sumOfSquares) - Double(sum) * Double(sum) / n) / (n - 1))
        return variance.squareRoot() / mean
    }
}

/// The behaviour model's measurements of one flow, or of a host's flows to one server added up.
public struct CadenceMeasures: Sendable, Equatable, Codable {
    /// Thresholds (docs/detection.md "TLS without names: behaviour"); one place. Chosen on one half of
    /// the recorded programs and measured on the other (docs/detection.md gives both).
    public enum Threshold {
        /// Cycles, not minutes: this many shares answered, and pushes to measure. Eight sends give seven
        /// gaps, enough to tell random (Poisson) times from a clock (a miner fails that test once in 570);
        /// two pushes show whether jobs have one size.
        public static let minAnsweredSends = 8
        public static let minPushes = 2
        /// Pushes arrive on average every 5 s to 5 min (when one flow saw two or more).
        public static let pushInterval = 5.0...300.0
        /// Pushes of nearly one size: a job is the same JSON with another blob or header.
        public static let maxPushSizeVariation = 0.25
        /// Pushes go unanswered: a miner does not acknowledge a job. At most this share (plus one) replied to.
        public static let maxRepliedPushShare = 0.25
        /// Sends at irregular times (a clock ticks with variation near 0; random shares near 1).
        public static let minSendIntervalVariation = 0.3
        /// Sends of nearly one size.
        public static let maxSendSizeVariation = 0.35
        /// Work is not small: a share carries a nonce and (in most dialects) a 32-byte result, a job a
        /// block header or blob (≥ 76 bytes), all in hex — random bytes that even permessage-deflate
        /// cannot shrink below half, plus framing and the record's own 17–29 bytes. Encrypted
        /// keepalives, pings and pongs (WebSocket, HTTP/2 PING, MQTT PINGREQ) are 25–60-byte records.
        public static let minMeanSendBytes = 64.0
        public static let minMeanPushBytes = 100.0
        /// This share of sends answered within `Timing.answerWindow`.
        public static let minAnsweredShare = 0.75
    }

    /// Flows added up, and their spans' sum.
    public var flows = 1
    public var spanMilliseconds = 0
    public var pushes = 0
    public var sends = 0
    public var answeredSends = 0
    public var repliedPushes = 0
    public var pushIntervals = CadenceSeries()
    public var pushSizes = CadenceSeries()
    public var sendIntervals = CadenceSeries()
    public var sendSizes = CadenceSeries()
    public var answerSizes = CadenceSeries()
    public var answerDelays = CadenceSeries()

    public init() {}

    public mutating func merge(_ o: CadenceMeasures) {
        flows = flows.addingSaturated(o.flows)
        spanMilliseconds = spanMilliseconds.addingSaturated(o.spanMilliseconds)
        pushes = pushes.addingSaturated(o.pushes)
        sends = sends.addingSaturated(o.sends)
        answeredSends = answeredSends.addingSaturated(o.answeredSends)
        repliedPushes = repliedPushes.addingSaturated(o.repliedPushes)
        pushIntervals.merge(o.pushIntervals)
        pushSizes.merge(o.pushSizes)
        sendIntervals.merge(o.sendIntervals)
        sendSizes.merge(o.sendSizes)
        answerSizes.merge(o.answerSizes)
        answerDelays.merge(o.answerDelays)
    }

    /// Worth keeping for the host's other flows to the same server: the server pushed, and a send
    /// was answered (one exchange of each kind mining has).
    public var isCandidate: Bool { pushes >= 1 && answeredSends >= 1 }

    public var spanSeconds: Double { Double(spanMilliseconds) / 1000 }
    public var meanPushInterval: Double { pushIntervals.mean / 1000 }
    public var meanSendInterval: Double { sendIntervals.mean / 1000 }

    /// The tests the measurements fail, in the order of the table in docs/detection.md; empty when
    /// every one holds (the flows behave like mining).
    public var failedTests: [CadenceTest] {
        typealias T = Threshold
        var failed: [CadenceTest] = []
        if answeredSends < T.minAnsweredSends || pushes < T.minPushes { failed.append(.cycles) }
        if pushIntervals.count > 0 && !T.pushInterval.contains(meanPushInterval) { failed.append(.pushPeriod) }
        if pushSizes.mean < T.minMeanPushBytes || pushSizes.variation > T.maxPushSizeVariation {
            failed.append(.pushSize)
        }
        // One more forgiven: a share found in the second after a job arrives looks like a reply to it.
        if Double(repliedPushes) > T.maxRepliedPushShare * Double(pushes) + 1 { failed.append(.pushesReplied) }
        if sendSizes.mean < T.minMeanSendBytes || sendSizes.variation > T.maxSendSizeVariation {
            failed.append(.sendSize)
        }
        if sendIntervals.variation < T.minSendIntervalVariation { failed.append(.sendTiming) }
        if Double(answeredSends) < T.minAnsweredShare * Double(sends) { failed.append(.answered) }
        if answerSizes.mean >= sendSizes.mean { failed.append(.answerSize) }
        return failed
    }

    /// Every test holds: the flows behave like mining.
    public var looksLikeMining: Bool { failedTests.isEmpty }
}

/// The tests of the behaviour model, each one sentence of the report.
public enum CadenceTest: String, Sendable, Codable, CaseIterable {
    case cycles = "too few exchanges"
    case pushPeriod = "server messages too frequent or too rare"
    case pushSize = "server messages small or of varying size"
    case pushesReplied = "the client answered the server's messages"
    case sendSize = "client messages small or of varying size"
    case sendTiming = "client messages on a clock"
    case answered = "client messages not answered at once"
    case answerSize = "answers as long as the messages they answer, or longer"
}
