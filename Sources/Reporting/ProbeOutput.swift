import PacketDecoding
import Probing

/// `probe --format json`: one object per server, one line each (JSON Lines), keys sorted.
public struct ProbeJSON: Encodable {
    struct Pool: Encodable {
        var dialect: String
        var algorithm: String?
        var coin: String?
        var difficulty: Double?
        var job_id: String?
        var height: Int?
        var job: String?
        var login_accepted: Bool?
        var server_key: String?
    }
    struct Reply: Encodable {
        var kind: String
        var detail: String?
    }
    struct Certificate: Encodable {
        var subject: String?
        var names: [String]
        var self_signed: Bool
        var miner_profile: Bool
    }
    struct Attempt: Encodable {
        var dialect: String
        var tls: Bool
        var sni: String?
        var result: String
        var detail: String
        var bytes_sent: Int
        var bytes_received: Int
        var milliseconds: Int
    }

    var host: String
    var address: String?
    var port: Int
    var conclusion: String
    var tls: Bool
    var sni: String?
    var pool: Pool?
    var reply: Reply?
    var reason: String?
    var certificate: Certificate?
    var sentence: String
    var attempts: [Attempt]
    var started: String
    var milliseconds: Int

    public init(_ r: ProbeResult) {
        host = r.host
        address = r.address
        port = Int(r.port)
        conclusion = r.conclusion.name
        tls = r.tls
        sni = r.sni
        switch r.conclusion {
        case .pool(let a):
            pool = Pool(
                dialect: a.dialect.rawValue, algorithm: a.algorithm, coin: a.coin, difficulty: a.difficulty,
                job_id: a.jobID,
                height: a.height, job: a.job, login_accepted: a.loginAccepted, server_key: a.serverKey)
        case .notPool(let reply):
            self.reply = Reply(kind: reply.kind.rawValue, detail: reply.detail)
        case .unconfirmed(let why), .unreachable(let why):
            reason = why
        }
        certificate = r.certificate.map {
            Certificate(
                subject: $0.subject, names: $0.names, self_signed: $0.selfIssued, miner_profile: $0.minerProfile)
        }
        sentence = r.sentence
        attempts = r.attempts.map { a in
            let result: String
            switch a.assessment {
            case .pool?: result = "pool"
            case .refused?: result = "refused"
            case .other(let reply)?: result = reply.kind.rawValue
            case .needMore?, nil: result = a.failure == nil ? "undecided" : "failed"
            }
            return Attempt(
                dialect: a.dialect.rawValue, tls: a.tls, sni: a.sni, result: result, detail: a.summary,
                bytes_sent: a.bytesSent,
                bytes_received: a.bytesReceived, milliseconds: a.milliseconds)
        }
        started = TimeFormat.iso8601(Int64((r.started * 1e9).rounded()))
        milliseconds = r.milliseconds
    }
}

/// `probe --format table`: the conclusion on one line, what the server gave away under it, every
/// attempt last. Wire strings are escaped for the terminal.
public enum ProbeTable {
    public static func render(_ r: ProbeResult) -> String {
        let e = TerminalSafe.escape
        var lines = [
            "\(e(r.endpoint))\(r.address != nil && r.address != r.host ? " (\(e(r.host)))" : ""): \(r.conclusion.name)"
        ]
        func row(_ label: String, _ value: String?) {
            guard let value else { return }
            lines.append("  " + label.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + value)
        }
        row("transport", r.tls ? "TLS" + (r.sni.map { ", SNI \(e($0))" } ?? ", no SNI") : "clear")
        switch r.conclusion {
        case .pool(let a):
            row("dialect", a.dialect.label)
            row("algorithm", a.algorithm.map(e))
            row("coin", a.coin.map(e))
            row("difficulty", a.difficulty.map(ProbeText.number))
            row(
                "job",
                a.job.map { e($0) + (a.jobID.map { " \(e($0))" } ?? "") + (a.height.map { ", height \($0)" } ?? "") })
            if a.loginAccepted == false { row("login", "refused the probe's wallet, answered as a pool") }
            row("server key", a.serverKey)
        case .notPool(let reply):
            row("answer", e(reply.description))
        case .unconfirmed(let why):
            row("answer", "refused the login: " + e(why))
        case .unreachable(let why):
            row("error", e(why))
        }
        row("certificate", r.certificate.map { e($0.description) })
        for a in r.attempts {
            row("tried", "\(a.dialect.rawValue)\(a.tls ? " over TLS" : ""): \(e(a.summary)) (\(a.milliseconds) ms)")
        }
        return lines.joined(separator: "\n")
    }
}
