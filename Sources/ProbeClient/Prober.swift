import OS
import Probing

/// How a probe reaches the server.
public enum ProbeTransport: String, Sendable, CaseIterable {
    /// In the clear first; over TLS when the server answers with TLS or not at all.
    case auto
    case clear
    case tls
}

public struct ProbeSettings: Sendable {
    public var transport = ProbeTransport.auto
    /// Server name sent in the TLS ClientHello; by default the host's name when it was given as one.
    public var sni: String?
    /// Also when `host` is a name: send no SNI.
    public var noSNI = false
    public var connectMilliseconds: Int32 = 3000
    /// How long each attempt waits for the server's answer.
    public var answerMilliseconds: Int32 = 3000
    /// Most bytes read from one answer (a pool's first job is well under 4 KB).
    public var maxAnswerBytes = 64 * 1024
    public var dialects = ProbeDialect.allCases
    public init() {}
}

/// Asks one server, in each dialect pools speak and on a fresh connection each time, whether it
/// is a pool — stopping at the first pool answer, or at the first answer in another protocol.
/// Never submits a share: every request is a login, subscribe or work request, and the
/// connection closes after the first answer that decides.
public final class Prober {
    let settings: ProbeSettings
    private let tlsContext: TLSClientContext?

    public init(settings: ProbeSettings = ProbeSettings()) {
        self.settings = settings
        tlsContext = TLSClientContext()
    }

    public func probe(host: String, port: UInt16) -> ProbeResult {
        let clock = WallTime.mark()
        var result = ProbeResult(host: host, port: port, started: Double(WallTime.now().nanoseconds) / 1e9)
        ask(&result)
        result.milliseconds = Int(WallTime.seconds(since: clock) * 1000)
        return result
    }

    private func ask(_ result: inout ProbeResult) {
        let host = result.host
        let port = result.port
        switch OS.resolve(host) {
        case .failure(let error):
            result.conclusion = .unreachable("cannot resolve \(host): \(error.text)")
            return
        case .success(let addresses):
            guard let address = addresses.first else {
                result.conclusion = .unreachable("\(host) has no address")
                return
            }
            result.address = address
        }
        let isName = result.address != host && !host.contains(":")
        let sni = settings.noSNI ? nil : settings.sni ?? (isName ? host : nil)
        var tls = settings.transport == .tls
        var triedTLS = tls
        var refusal: String?
        var lastReply: ServerReply?
        var index = 0
        var sawHTTP = false
        var sawBinary = false
        while index < settings.dialects.count {
            let dialect = settings.dialects[index]
            // The WebSocket dialects only where an HTTP server answered (a browser miner's proxy is one).
            if dialect.overWebSocket && !sawHTTP && settings.dialects.contains(where: { !$0.overWebSocket }) { break }
            // Stratum V2 only where a JSON line met a binary answer (an SV2 pool answers any 64 bytes with its handshake).
            if dialect.isBinary && !sawBinary
                && settings.dialects.contains(where: { !$0.isBinary && !$0.overWebSocket })
            {
                index += 1
                continue
            }
            var attempt = attemptOnce(
                dialect, address: result.address!, port: port, tls: tls, sni: sni, result: &result)
            // The clear answer was TLS, or nothing: the same dialect over TLS once (auto only).
            if settings.transport == .auto, !tls, !triedTLS, case .other(let reply)? = attempt.assessment,
                [.tls, .silence, .closed].contains(reply.kind)
            {
                triedTLS = true
                lastReply = reply
                result.attempts.append(attempt)
                let overTLS = attemptOnce(
                    dialect, address: result.address!, port: port, tls: true, sni: sni, result: &result)
                if overTLS.failure == nil {
                    tls = true
                    attempt = overTLS
                } else if reply.kind == .tls {
                    result.attempts.append(overTLS)
                    result.conclusion = .notPool(ServerReply(.tls, overTLS.failure))
                    return
                } else {
                    attempt = overTLS
                }
            }
            result.attempts.append(attempt)
            if let failure = attempt.failure {
                // The first connection decides reachability; later failures end the probe with what it learned.
                if result.attempts.allSatisfy({ $0.failure != nil }), !failure.hasPrefix("TLS") {
                    result.conclusion = .unreachable(failure)
                    return
                }
                if failure.hasPrefix("TLS"), settings.transport == .tls {
                    result.conclusion = .notPool(ServerReply(.tls, failure))
                    return
                }
                index += 1
                continue
            }
            switch attempt.assessment {
            case .pool(let answer)?:
                result.tls = tls
                result.sni = tls ? sni : nil
                result.conclusion = .pool(answer)
                return
            case .refused(let why)?:
                refusal = refusal ?? why
            case .other(let reply)?:
                lastReply = reply
                // An HTTP server may be a browser miner's WebSocket proxy: try those dialects next.
                if reply.kind == .http { sawHTTP = true }
                // Binary, or exactly a Noise answer's size (234 random bytes may start like JSON or text).
                if reply.kind == .binary || attempt.bytesReceived == NoiseHandshake.answerSize, !dialect.isBinary,
                    !sawBinary,
                    let next = settings.dialects.firstIndex(where: \.isBinary), next > index
                {
                    sawBinary = true
                    index = next
                    continue
                }
                if reply.kind == .http, !dialect.overWebSocket,
                    let next = settings.dialects.firstIndex(where: \.overWebSocket), next > index
                {
                    index = next
                    continue
                }
                // Another protocol answered: no pool dialect will change that.
                if ![.jsonRPC, .silence, .closed].contains(reply.kind) {
                    result.tls = tls
                    result.conclusion = .notPool(reply)
                    return
                }
            case .needMore?, nil:
                break
            }
            index += 1
        }
        result.tls = tls
        result.sni = tls ? sni : nil
        if let refusal {
            result.conclusion = .unconfirmed(refusal)
        } else {
            result.conclusion = .notPool(lastReply ?? ServerReply(.silence))
        }
        return
    }

    /// A WebSocket dialect: the upgrade, then the dialect's messages as frames, then its frames read.
    private func webSocket(
        _ attempt: inout ProbeAttempt, _ connection: ProbeConnection, host: String, port: UInt16,
        deadline: ContinuousClock.Instant
    ) {
        let dialect = attempt.dialect
        let upgrade = ProbeDialect.upgradeRequest(host: host + (port == 80 || port == 443 ? "" : ":\(port)"))
        guard connection.send(upgrade, deadline: deadline) else {
            attempt.failure = "the connection failed while sending"
            return
        }
        attempt.bytesSent = upgrade.count
        var head: [UInt8] = []
        let closedEarly = connection.receive(into: &head, limit: 16 * 1024, deadline: deadline) {
            WebSocketAnswer.headerEnd($0) != nil
        }
        guard let end = WebSocketAnswer.headerEnd(head) else {
            attempt.bytesReceived = head.count
            attempt.assessment = ProbeAssessment.assess(dialect, received: head, complete: true, closed: closedEarly)
            return
        }
        let status = ServerReply.text(head[..<(head.firstIndex(of: 13) ?? end)]) ?? ""
        guard status.hasPrefix("HTTP/1.1 101") || status.hasPrefix("HTTP/1.0 101") else {
            attempt.bytesReceived = head.count
            attempt.assessment = .other(ServerReply(.http, status.isEmpty ? nil : status))
            return
        }
        let frames = dialect.request
        guard connection.send(frames, deadline: deadline) else {
            attempt.failure = "the connection failed while sending"
            return
        }
        attempt.bytesSent += frames.count
        var raw = Array(head[end...])
        let closed = connection.receive(into: &raw, limit: settings.maxAnswerBytes, deadline: deadline) { bytes in
            ProbeAssessment.assess(dialect, received: WebSocketAnswer.lines(bytes[...]).bytes, complete: false)
                != .needMore
        }
        attempt.bytesReceived = end + raw.count
        let (lines, wsClosed) = WebSocketAnswer.lines(raw[...])
        attempt.assessment = ProbeAssessment.assess(
            dialect, received: lines, complete: true, closed: closed || wsClosed)
    }

    /// Stratum V2: the Noise handshake (64 bytes out, the responder's 234 back), then SetupConnection
    /// and OpenStandardMiningChannel sealed, and the sealed frames read until a channel and a job (or
    /// an error) decide.
    private func stratumV2(
        _ attempt: inout ProbeAttempt, _ connection: ProbeConnection, host: String, port: UInt16,
        deadline: ContinuousClock.Instant
    ) {
        let handshake = NoiseHandshake()
        guard connection.send(handshake.hello, deadline: deadline) else {
            attempt.failure = "the connection failed while sending"
            return
        }
        attempt.bytesSent = handshake.hello.count
        var answer: [UInt8] = []
        let closed = connection.receive(into: &answer, limit: NoiseHandshake.answerSize, deadline: deadline) {
            $0.count >= NoiseHandshake.answerSize
        }
        attempt.bytesReceived = answer.count
        var session: NoiseSession
        switch handshake.finish(answer) {
        case .success(let s):
            session = s
        case .failure(let failure):
            attempt.assessment = StratumV2Probe.assess(handshakeFailure: failure, answer: answer, closed: closed)
            return
        }
        let requests = StratumV2Probe.requests(host: host, port: port).flatMap {
            session.seal(type: $0.type, payload: $0.payload)
        }
        guard connection.send(requests, deadline: deadline) else {
            attempt.failure = "the connection failed while sending"
            return
        }
        attempt.bytesSent += requests.count
        var sealed: [UInt8] = []
        func read(_ bytes: [UInt8], complete: Bool) -> ProbeAssessment {
            switch session.open(bytes[...]) {
            case .broken(let why): return .other(ServerReply(.binary, "the Noise channel broke: " + why))
            case .frames(let frames): return StratumV2Probe.assess(frames, complete: complete, session: session)
            }
        }
        let closedLater = connection.receive(into: &sealed, limit: settings.maxAnswerBytes, deadline: deadline) {
            read($0, complete: false) != .needMore
        }
        attempt.bytesReceived += sealed.count
        // A completed handshake under SV2's protocol name is an SV2 endpoint; without a channel it is not confirmed a pool.
        attempt.assessment =
            sealed.isEmpty
            ? .refused(
                "completed the Stratum V2 Noise handshake, then " + (closedLater ? "closed" : "said nothing")
                    + " after SetupConnection")
            : read(sealed, complete: true)
    }

    /// One fresh connection: connect, TLS if asked, send the dialect's requests, read the answer.
    func attemptOnce(
        _ dialect: ProbeDialect, address: String, port: UInt16, tls: Bool, sni: String?,
        result: inout ProbeResult
    ) -> ProbeAttempt {
        let clock = WallTime.mark()
        var attempt = ProbeAttempt(dialect: dialect, tls: tls, sni: tls ? sni : nil)
        exchange(&attempt, address: address, port: port, result: &result)
        attempt.milliseconds = Int(WallTime.seconds(since: clock) * 1000)
        return attempt
    }

    private func exchange(_ attempt: inout ProbeAttempt, address: String, port: UInt16, result: inout ProbeResult) {
        let dialect = attempt.dialect
        let tls = attempt.tls
        let sni = attempt.sni
        let connectDeadline = ContinuousClock.now.advanced(by: .milliseconds(Int(settings.connectMilliseconds)))
        let fd: Int32
        switch OS.connect(address: address, port: port, milliseconds: settings.connectMilliseconds) {
        case .failure(let error):
            attempt.failure = "connect: " + error.text
            return
        case .success(let s):
            fd = s
        }
        let connection = ProbeConnection(fd: fd)
        if tls {
            guard let tlsContext else {
                attempt.failure = "TLS: OpenSSL could not make a client context"
                return
            }
            switch connection.startTLS(tlsContext, sni: sni, deadline: connectDeadline) {
            case .failure(let failure):
                attempt.failure = failure.text
                return
            case .success(let der):
                if !der.isEmpty, result.certificate == nil { result.certificate = CertificateFacts(der: der) }
            }
        }
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(settings.answerMilliseconds)))
        if dialect.overWebSocket {
            webSocket(
                &attempt, connection, host: sni ?? (address.contains(":") ? "[\(address)]" : address), port: port,
                deadline: deadline)
            return
        }
        if dialect == .stratumV2 {
            stratumV2(&attempt, connection, host: sni ?? address, port: port, deadline: deadline)
            return
        }
        let request = dialect.request
        guard connection.send(request, deadline: deadline) else {
            attempt.failure = "the connection failed while sending"
            return
        }
        attempt.bytesSent = request.count
        var received: [UInt8] = []
        let closed = connection.receive(into: &received, limit: settings.maxAnswerBytes, deadline: deadline) { bytes in
            ProbeAssessment.assess(dialect, received: bytes, complete: false) != .needMore
        }
        attempt.bytesReceived = received.count
        attempt.assessment = ProbeAssessment.assess(dialect, received: received, complete: true, closed: closed)
    }
}
