import Coins
import JSON
import PacketDecoding
import SafeNumbers

/// Caps for the Stratum decoder.
public struct StratumLimits: Sendable, Equatable {
    /// Longest JSON line kept; longer lines are dropped and counted.
    public var maxLineLength = 64 * 1024
    /// Deepest JSON nesting parsed.
    public var maxJSONDepth = 32
    /// Outstanding requests remembered for id matching (oldest dropped).
    public var maxPendingRequests = 256
    /// Bytes scanned for a first newline on a stream picked up mid-way before giving up.
    public var maxResyncBytes = 8 * 1024
    /// JSON-RPC messages with no mining meaning tolerated before the flow is bypassed.
    public var nonMiningMessageBudget = 32
    /// Lines that are not JSON tolerated before a stream with no mining evidence is bypassed.
    public var badLineBudget = 3
    /// Most wallets / workers / host names remembered per session.
    public var maxListEntries = 16
    public init() {}
}

/// Decodes newline-delimited JSON-RPC mining traffic on one TCP connection
/// (both directions) and builds the session's evidence.
///
/// Roles come from behaviour: the side that logs in, subscribes, authorizes
/// or submits is the miner; the side that pushes jobs or answers those
/// requests is the pool. Port numbers are never consulted.
public struct StratumSession {
    public let limits: StratumLimits
    public let overHTTP: Bool
    static let httpMiningMethods: Set<String> = [
        "getwork", "getblocktemplate", "submitblock", "eth_getWork", "eth_submitWork",
        "eth_submitHashrate", "eth_submitLogin"
    ]
    var splitters: (LineSplitter, LineSplitter)
    /// Per side: has the stream's first line looked like JSON (nil: not seen yet)?
    var looksJSON: (Bool?, Bool?) = (nil, nil)
    public internal(set) var summary = StratumSummary()
    public private(set) var badLines = 0
    public private(set) var overlongLines = 0
    public private(set) var nonMiningMessages = 0
    public private(set) var validMessages = 0
    /// Difficulties, targets and hashrates beyond anything physical, ignored (an anomaly, not evidence).
    public internal(set) var implausibleNumbers = 0
    var minerVotes = (0, 0)
    var poolVotes = (0, 0)
    /// Outstanding requests, oldest first (at most `maxPendingRequests`: a linear search is cheap,
    /// and one small array costs a flow far less memory than a dictionary of queues).
    var pending: [(key: PendingKey, request: Pending)] = []
    /// Hashes-per-share by job id (CryptoNote jobs carry their own target), bounded.
    var jobHashes: [(id: String, hashes: Double)] = []
    var lastWorkHeader: String?
    /// Events waiting until the session is identified, then drained by the caller.
    var heldEvents: [StratumEvent] = []
    public internal(set) var identified = false
    var readyEvents: [StratumEvent] = []

    struct PendingKey: Hashable {
        var side: Int
        var id: String
    }
    struct Pending {
        var method: String
        var hashes: Double?
        var user: String?
    }

    /// - Parameter midStream: the connection was picked up after its start, so
    ///   each direction begins in the middle of a line and resynchronises at the first newline.
    ///   - overHTTP: the JSON comes from HTTP bodies, where only the HTTP mining methods
    ///     (getwork, getblocktemplate, submitblock, eth_getWork family) mean mining; a Stratum
    ///     method name in an HTTP POST is just text some API carries.
    public init(
        limits: StratumLimits = StratumLimits(), midStream: (Bool, Bool) = (false, false), overHTTP: Bool = false
    ) {
        self.limits = limits
        self.overHTTP = overHTTP
        splitters = (
            LineSplitter(maxLineLength: limits.maxLineLength, startResyncing: midStream.0),
            LineSplitter(maxLineLength: limits.maxLineLength, startResyncing: midStream.1)
        )
    }

    /// Whether nothing here is mining and the flow can be bypassed.
    public private(set) var givenUp = false

    /// Feeds in-order bytes from one side. Returns false once the stream is
    /// judged not to carry JSON-RPC mining traffic (bypass it).
    /// - Complexity: O(n) in the bytes fed, plus JSON parsing of complete lines.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, from side: Side, time: Timestamp) -> Bool {
        guard !givenUp else { return false }
        var splitter = side == .a ? splitters.0 : splitters.1
        let overlongBefore = splitter.overlongLines
        splitter.feed(bytes) { line in self.handleLine(line, side: side, time: time) }
        if splitter.resyncing && splitter.resyncBytes > limits.maxResyncBytes && summary.shape == .none
            && validMessages == 0
        {
            givenUp = true  // megabytes with no newline: not a line protocol
        }
        overlongLines += splitter.overlongLines - overlongBefore
        if side == .a { splitters.0 = splitter } else { splitters.1 = splitter }
        return !givenUp
    }

    /// Bytes held for partial lines (for the global decoder budget).
    public var bufferedBytes: Int { splitters.0.bufferedBytes + splitters.1.bufferedBytes }

    /// Bytes were lost on one side.
    public mutating func gap(from side: Side) {
        if side == .a { splitters.0.gap() } else { splitters.1.gap() }
    }

    /// Takes the events that are ready (only once the session is identified as mining).
    public mutating func drainEvents() -> [StratumEvent] {
        defer { readyEvents.removeAll(keepingCapacity: true) }
        return readyEvents
    }

    public var hasEvents: Bool { !readyEvents.isEmpty }

    // MARK: - Lines

    mutating func handleLine(_ raw: UnsafeRawBufferPointer, side: Side, time: Timestamp) -> Bool {
        // Trim whitespace (including the \r of \r\n) at both ends.
        var lo = 0
        var hi = raw.count
        while lo < hi, Self.isSpace(raw[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(raw[hi - 1]) { hi -= 1 }
        guard lo < hi else { return true }
        let line = UnsafeRawBufferPointer(rebasing: raw[lo..<hi])
        // Probe: a JSON-RPC line is an object. The first line of a side decides cheaply.
        let known = side == .a ? looksJSON.0 : looksJSON.1
        if known == nil {
            let isJSON = line[0] == UInt8(ascii: "{")
            if side == .a { looksJSON.0 = isJSON } else { looksJSON.1 = isJSON }
            if !isJSON && summary.shape == .none {
                givenUp = true
                return false
            }
        }
        guard line[0] == UInt8(ascii: "{"), let value = try? JSONParser.parse(line, maxDepth: limits.maxJSONDepth),
            let object = value.object
        else {
            badLines += 1
            if summary.shape == .none && validMessages == 0 && badLines >= limits.badLineBudget {
                givenUp = true
                return false
            }
            return true
        }
        handleMessage(object, side: side, time: time)
        if summary.shape == .none && nonMiningMessages >= limits.nonMiningMessageBudget && minerVotes == (0, 0)
            && poolVotes == (0, 0)
        {
            givenUp = true
            return false
        }
        return true
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    // MARK: - Messages

    mutating func handleMessage(_ m: JSONObject, side: Side, time: Timestamp) {
        validMessages += 1
        let id = m["id"]
        if let method = m["method"]?.string {
            let meaningful = handleRequest(method: method, message: m, id: id, side: side, time: time)
            if !meaningful { nonMiningMessages += 1 }
        } else if m["result"] != nil || m["error"] != nil {
            if !handleResponse(m, id: id, side: side, time: time) { nonMiningMessages += 1 }
        } else {
            nonMiningMessages += 1
        }
        updateShape()
    }

    /// Returns whether the message was a well-formed mining message.
    mutating func loginAnswered(accepted: Bool, user: String?) {
        // A later acceptance (e.g. a second worker) does not undo an earlier rejection's record,
        // but any acceptance means the pool let this miner work.
        summary.loginAccepted = (summary.loginAccepted ?? false) || accepted
        emit(.login(accepted: accepted, user: user))
    }

    // MARK: - Roles and shape

    mutating func vote(miner side: Side, method: String, time: Timestamp) {
        if side == .a { minerVotes.0 += 1 } else { minerVotes.1 += 1 }
        summary.minerMethods.appendUnique(method, cap: 32)
        touch(time)
    }

    mutating func vote(pool side: Side, method: String, time: Timestamp) {
        if side == .a { poolVotes.0 += 1 } else { poolVotes.1 += 1 }
        summary.poolMethods.appendUnique(method, cap: 32)
        touch(time)
    }

    mutating func touch(_ time: Timestamp) {
        summary.messages += 1
        if summary.firstSeen == nil { summary.firstSeen = time }
        if time > (summary.lastSeen ?? .distantPast) { summary.lastSeen = time }
    }

    mutating func updateShape() {
        let minerA = minerVotes.0 > 0
        let minerB = minerVotes.1 > 0
        let poolA = poolVotes.0 > 0
        let poolB = poolVotes.1 > 0
        // Both sides asking to mine (an echo service), or both pushing work: not a miner/pool pair.
        summary.roleConflict = (minerA && minerB) || (poolA && poolB) || (minerA && poolA) || (minerB && poolB)
        if summary.roleConflict {
            summary.shape = .none
            summary.minerSide = nil
            return
        }
        if minerA || minerB {
            let miner: Side = minerA ? .a : .b
            summary.minerSide = miner
            let poolAnswered = miner == .a ? poolB : poolA
            summary.shape = poolAnswered ? .twoSided : .minerOnly
        } else if poolA || poolB {
            let pool: Side = poolA ? .a : .b
            let pushes = pool == .a ? poolVotes.0 : poolVotes.1
            // One pushed message could be anything; a stream of them is a pool feeding a miner.
            if pushes >= 2 && summary.jobsReceived >= 1 {
                summary.minerSide = pool.other
                summary.shape = .poolPushOnly
            } else {
                summary.shape = .none
            }
        } else {
            summary.shape = .none
        }
        if !identified && (summary.shape == .twoSided || summary.shape == .poolPushOnly) {
            identified = true
            readyEvents.append(.sessionIdentified)
            readyEvents.append(contentsOf: heldEvents)
            heldEvents.removeAll()
        }
    }

    mutating func emit(_ e: StratumEvent) {
        if identified { readyEvents.append(e) } else if heldEvents.count < 64 { heldEvents.append(e) }
    }

    // MARK: - Pending requests

    mutating func addPending(_ key: PendingKey, _ p: Pending) {
        if pending.count >= limits.maxPendingRequests { pending.removeFirst() }
        pending.append((key, p))
    }

    /// The oldest outstanding request with this id (xmr-stak sends every submit as id 1: FIFO).
    mutating func takePending(_ key: PendingKey) -> Pending? {
        guard let i = pending.firstIndex(where: { $0.key == key }) else { return nil }
        return pending.remove(at: i).request
    }

    // MARK: - Evidence fields

    mutating func setDialect(_ d: StratumDialect) {
        // ES1/ES2/eth-proxy/CryptoNote are more specific than plain V1.
        if summary.dialect == nil || summary.dialect == .stratumV1 { summary.dialect = d }
    }

    mutating func setDialectIfUnknown(_ d: StratumDialect) {
        if summary.dialect == nil { summary.dialect = d }
    }

    mutating func setSoftware(_ s: String) {
        if summary.software == nil { summary.software = s.utf8Prefix(256) }
    }

    mutating func addHost(_ h: String) { summary.poolHostnames.appendUnique(h, cap: limits.maxListEntries) }
    mutating func addWorker(_ w: String) { summary.workers.appendUnique(w, cap: limits.maxListEntries) }
    mutating func addAlgorithm(_ a: String) {
        summary.algorithms.appendUnique(a, cap: limits.maxListEntries, maxLength: 64)
    }

    /// Splits a login into wallet and worker and records both.
    mutating func addUser(_ user: String) {
        let (wallet, worker) = WalletParsing.split(user)
        if !wallet.isEmpty { summary.wallets.appendUnique(wallet, cap: limits.maxListEntries) }
        if let w = worker { addWorker(w) }
        if summary.coin == nil, let c = Coins.coin(forWallet: wallet) { summary.coin = c }
    }

    // MARK: - Numbers

    /// `hashes` when it is a number a real miner or pool could mean; else counted and nil.
    mutating func plausible(_ hashes: Double) -> Double? {
        guard hashes.isFinite, hashes > 0, hashes <= StratumSummary.maxPlausibleHashes else {
            implausibleNumbers += 1
            return nil
        }
        return hashes
    }

    /// A port as the wire wrote it: a short string kept as text, a number only when it is 0–65535.
    static func portText(_ v: JSONValue) -> String? {
        if let s = v.string { return s.isEmpty ? nil : s.utf8Prefix(16) }
        return v.integer(in: 0...65535).map(String.init)
    }

    public static func isHex(_ s: String?) -> Bool {
        guard var t = s?.utf8[...], !t.isEmpty else { return false }
        if t.starts(with: "0x".utf8) { t = t.dropFirst(2) }
        return !t.isEmpty
            && t.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }

    /// CryptoNote target: 4 bytes little-endian → (2^32−1)/t; 8 bytes → (2^64−1)/t.
    public static func cryptonoteDifficulty(_ target: String) -> Double? {
        let hex = Array(target.utf8)
        guard hex.count == 8 || hex.count == 16, isHex(target) else { return nil }
        var value: UInt64 = 0
        // Little-endian: the first byte is the least significant.
        for byteIndex in stride(from: hex.count / 2 - 1, through: 0, by: -1) {
            let s = String(decoding: hex[(byteIndex * 2)..<(byteIndex * 2 + 2)], as: UTF8.self)
            guard let b = UInt8(s, radix: 16) else { return nil }
            value = value << 8 | UInt64(b)
        }
        guard value > 0 else { return nil }
        return hex.count == 8 ? Double(UInt32.max) / Double(value) : Double(UInt64.max) / Double(value)
    }

    /// A 256-bit big-endian target or boundary → expected hashes per share (2^256 / target).
    public static func hashesFor256BitTarget(_ text: String) -> Double? {
        var t = Substring(text)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        guard t.count >= 8, t.count <= 64, let v = JSONValue.hexToDouble(t), v > 0 else { return nil }
        // Targets shorter than 64 digits are still 256-bit numbers written without leading zeros.
        return 1.157920892373162e77 / v
    }
}
