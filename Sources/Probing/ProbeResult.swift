import TLS

/// What the probe concluded about one server.
public enum ProbeConclusion: Equatable, Sendable {
    /// It answered like a pool: a job, or a subscription only a pool makes.
    case pool(PoolAnswer)
    /// Something else answered (or nothing did): not a pool.
    case notPool(ServerReply)
    /// It spoke a pool's dialect but refused our login and gave no work: neither confirmed nor cleared.
    case unconfirmed(String)
    /// No connection (refused, timed out, no route, no such name).
    case unreachable(String)

    /// "pool", "not-pool", "unconfirmed", "unreachable".
    public var name: String {
        switch self {
        case .pool: "pool"
        case .notPool: "not-pool"
        case .unconfirmed: "unconfirmed"
        case .unreachable: "unreachable"
        }
    }
}

/// What the server's TLS certificate says (evidence only: never verified, the probe talks to anyone).
public struct CertificateFacts: Equatable, Sendable {
    public var subject: String?
    public var names: [String]
    public var selfIssued: Bool
    /// The profile of the certificate XMRig and xmrig-proxy make for themselves.
    public var minerProfile: Bool

    /// nil when the DER does not parse.
    public init?(der: [UInt8]) {
        let parsed: LeafCertificate? = der.withUnsafeBytes { raw in try? LeafCertificate.parse(der: raw) }
        guard let leaf = parsed else { return nil }
        subject = leaf.subjectCommonName.map(ServerReply.cut)
        names = leaf.dnsNames.prefix(8).map(ServerReply.cut)
        selfIssued = leaf.selfIssued
        minerProfile = leaf.hasMinerProfile
    }

    /// "CN=localhost, self-signed, the certificate XMRig makes for itself"
    public var description: String {
        var parts = [subject.map { "CN=\($0)" } ?? "no common name"]
        if !names.isEmpty { parts.append("names " + names.joined(separator: " ")) }
        if selfIssued { parts.append("self-signed") }
        if minerProfile { parts.append("the certificate XMRig makes for itself") }
        return parts.joined(separator: ", ")
    }
}

/// One connection of a probe: a dialect, over TLS or not, and what came back.
public struct ProbeAttempt: Equatable, Sendable {
    public var dialect: ProbeDialect
    public var tls: Bool
    public var sni: String?
    /// nil when the connection or TLS handshake failed (see `failure`).
    public var assessment: ProbeAssessment?
    public var failure: String?
    public var bytesSent = 0
    public var bytesReceived = 0
    public var milliseconds = 0

    public init(dialect: ProbeDialect, tls: Bool, sni: String?) {
        self.dialect = dialect
        self.tls = tls
        self.sni = sni
    }

    /// "pool", "refused: ...", "an SSH server (...)", "TLS handshake failed: ...".
    public var summary: String {
        if let failure { return failure }
        switch assessment {
        case .pool: return "answered like a pool"
        case .refused(let why): return "refused the login: " + why
        case .other(let reply): return reply.description
        case .needMore, nil: return "no decision"
        }
    }
}

/// A probe of one server: every attempt and the conclusion.
public struct ProbeResult: Equatable, Sendable {
    /// As asked (a name or an address).
    public var host: String
    /// The address connected to (the first the name resolved to).
    public var address: String?
    public var port: UInt16
    /// The conclusion was reached over TLS.
    public var tls = false
    public var sni: String?
    public var certificate: CertificateFacts?
    public var conclusion: ProbeConclusion
    public var attempts: [ProbeAttempt] = []
    /// Wall-clock start, seconds since the epoch.
    public var started: Double
    public var milliseconds = 0

    public init(host: String, port: UInt16, started: Double) {
        self.host = host
        self.port = port
        self.started = started
        conclusion = .unreachable("not probed")
    }

    /// "203.0.113.9:443", with IPv6 addresses in brackets.
    public var endpoint: String {
        let a = address ?? host
        return (a.contains(":") ? "[\(a)]" : a) + ":\(port)"
    }

    /// One sentence for a report: "the server 203.0.113.9:443 answered a CryptoNote login over TLS
    /// like a pool: rx/0, monero, difficulty 120 000". Wire strings inside are as received: escape for the medium.
    public var sentence: String {
        let server = "the server " + endpoint + (address != nil && address != host ? " (\(host))" : "")
        let over = tls ? " over TLS" : ""
        switch conclusion {
        case .pool(let a):
            var facts = [a.algorithm, a.coin].compactMap { $0 }
            if let d = a.difficulty { facts.append("difficulty " + ProbeText.number(d)) }
            let tail = facts.isEmpty ? "" : ": " + facts.joined(separator: ", ")
            return "\(server) answered a \(a.dialect.label)\(over) like a pool\(tail)"
        case .notPool(let reply):
            return "\(server) is not a pool: \(reply.description)\(over)"
        case .unconfirmed(let why):
            return "\(server) spoke a pool's dialect\(over) but refused the probe's login (\(why)); not confirmed"
        case .unreachable(let why):
            return "\(server) could not be reached: \(why)"
        }
    }
}

public enum ProbeText {
    /// 120000 → "120 000" (digits grouped as the reports do); fractions and huge numbers as Swift writes them.
    public static func number(_ d: Double) -> String {
        guard d.isFinite, d >= 1, d < 1e15 else { return "\(d)" }
        let digits = String(Int64(d.rounded()))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += " " }
            out.append(c)
        }
        return out
    }
}
