import Detection
import Foundation
import PacketDecoding
import SafeNumbers
import Stratum

/// One JSONL record: an event as it happens, or a final host verdict.
public struct EventJSON: Encodable {
    public var type: String
    public var time: String
    public var event: String
    @NullEncoded public var accepted: Bool?
    @NullEncoded public var user: String?
    @NullEncoded public var target: String?
    @NullEncoded public var reason: String?
    public var host: String
    /// The whole session on `session_seen` and `session_end`; on logins, shares and reconnects a
    /// reference (its Community ID, miner and pool) — a share event is ~250 bytes, not the session again.
    @NullEncoded public var session: EventSession?
    @NullEncoded public var evidence: EvidenceJSON?
    public init(_ e: AnalysisEvent) {
        type = "event"
        time = TimeFormat.iso8601(e.time.nanoseconds)
        switch e.kind {
        case .sessionIdentified, .sessionEnded: session = e.session.map { .full(SessionJSON($0, role: "miner")) }
        default:
            session = e.session.map {
                .reference(
                    SessionReference(community_id: $0.communityID, miner: $0.minerEndpoint, pool: $0.poolEndpoint))
            }
        }
        host = e.session?.miner.description ?? ""
        switch e.kind {
        case .evidence(let ev):
            event = "evidence"
            host = ev.host.description
            evidence = EvidenceJSON(ev, policy: e.policy)
        case .sessionIdentified: event = "session_seen"
        case .login(let ok, let u):
            event = ok ? "login_accepted" : "login_rejected"
            accepted = ok
            user = u
        case .share(let ok):
            event = ok ? "share_accepted" : "share_rejected"
            accepted = ok
        case .reconnect(let h):
            event = "reconnect"
            target = h
        case .sessionEnded(let r):
            event = "session_end"
            reason = r
        }
    }
}

/// A session as an event carries it: whole, or by reference.
public enum EventSession: Codable, Sendable {
    case full(SessionJSON)
    case reference(SessionReference)

    public init(from decoder: Decoder) throws {
        if let s = try? SessionJSON(from: decoder) {
            self = .full(s)
        } else {
            self = .reference(try SessionReference(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .full(let s): try s.encode(to: encoder)
        case .reference(let r): try r.encode(to: encoder)
        }
    }
}

/// Which session an event belongs to: the keys a consumer joins on (the session's own event has the rest).
public struct SessionReference: Codable, Sendable {
    @NullEncoded public var community_id: String?
    public var miner: String
    public var pool: String
}

/// One piece of non-session evidence (docs/detection.md "Evidence kinds").
public struct EvidenceJSON: Codable, Sendable {
    public var kind: String
    public var summary: String
    public var verdict: String
    public var peer: String?
    /// The Community ID v1 of the connection the record came from (the first one, for merged repeats).
    public var community_id: String?
    public var name: String?
    public var pool_list_match: String?
    public var pool_kind: String?
    public var coin: String?
    public var software: String?
    public var count: Int
    public var first_seen: String
    public var last_seen: String
    public var duration_seconds: Double
    public var packets_out: Int
    public var packets_in: Int
    public var bytes_out: Int
    public var bytes_in: Int
    public var details: [String: String]

    /// - Parameter policy: the one the evidence was scored with (it decides "periodic" and the verdict).
    public init(_ e: Evidence, policy: ScoringPolicy) {
        kind = e.kind.rawValue
        summary = ReasonText.describe(e, policy)
        verdict = HostVerdicts.score(e, policy).0.rawValue
        peer = e.peerEndpoint
        community_id = e.communityID
        name = e.name
        pool_list_match = e.pool.map { "\($0.matched) (\($0.entry.source))" }
        pool_kind = e.pool?.entry.kind.rawValue
        coin = e.coin
        software = e.software
        count = max(e.count, 1)
        first_seen = TimeFormat.iso8601(e.first.nanoseconds)
        last_seen = TimeFormat.iso8601(e.last.nanoseconds)
        duration_seconds = (e.duration * 1000).rounded() / 1000
        packets_out = e.packetsOut
        packets_in = e.packetsIn
        bytes_out = e.bytesOut
        bytes_in = e.bytesIn
        details = Self.strings(e.details)
    }

    enum CodingKeys: String, CodingKey {
        case kind, summary, verdict, peer, community_id, name, pool_list_match, pool_kind, coin, software, count,
            first_seen, last_seen,
            duration_seconds, packets_out, packets_in, bytes_out, bytes_in, details
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(summary, forKey: .summary)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(peer, forKey: .peer)
        try c.encode(community_id, forKey: .community_id)
        try c.encode(name, forKey: .name)
        try c.encode(pool_list_match, forKey: .pool_list_match)
        try c.encode(pool_kind, forKey: .pool_kind)
        try c.encode(coin, forKey: .coin)
        try c.encode(software, forKey: .software)
        try c.encode(count, forKey: .count)
        try c.encode(first_seen, forKey: .first_seen)
        try c.encode(last_seen, forKey: .last_seen)
        try c.encode(duration_seconds, forKey: .duration_seconds)
        try c.encode(packets_out, forKey: .packets_out)
        try c.encode(packets_in, forKey: .packets_in)
        try c.encode(bytes_out, forKey: .bytes_out)
        try c.encode(bytes_in, forKey: .bytes_in)
        try c.encode(details, forKey: .details)
    }
}

extension EvidenceJSON {
    /// The typed details as the JSON object of strings README documents (`details`).
    static func strings(_ d: EvidenceDetails) -> [String: String] {
        var out: [String: String] = [:]
        out["sni"] = d.sni
        if d.noSNI { out["no_sni"] = "true" }
        if !d.alpn.isEmpty { out["alpn"] = d.alpn.joined(separator: ",") }
        out["ja3"] = d.ja3
        out["ja4"] = d.ja4
        out["tls_version"] = d.tlsVersion
        if !d.certificateNames.isEmpty { out["certificate_names"] = d.certificateNames.joined(separator: ", ") }
        if d.minerCertificate { out["miner_certificate"] = "true" }
        if let c = d.cadence {
            out["cadence_mining"] = c.looksLikeMining ? "true" : "false"
            let failed = c.failedTests
            if !failed.isEmpty { out["cadence_failed_tests"] = failed.map(\.rawValue).joined(separator: "; ") }
            out["cadence_flows"] = String(c.flows)
            out["cadence_span_seconds"] = String(Int(saturating: c.spanSeconds.rounded()))
            out["cadence_pushes"] = String(c.pushes)
            out["cadence_push_interval_seconds"] = TableReport.format2(c.meanPushInterval)
            out["cadence_push_bytes"] = String(Int(saturating: c.pushSizes.mean.rounded()))
            out["cadence_push_size_variation"] = TableReport.format2(c.pushSizes.variation)
            out["cadence_replied_pushes"] = String(c.repliedPushes)
            out["cadence_sends"] = String(c.sends)
            out["cadence_send_interval_seconds"] = TableReport.format2(c.meanSendInterval)
            out["cadence_send_interval_variation"] = TableReport.format2(c.sendIntervals.variation)
            out["cadence_send_bytes"] = String(Int(saturating: c.sendSizes.mean.rounded()))
            out["cadence_send_size_variation"] = TableReport.format2(c.sendSizes.variation)
            out["cadence_answered_sends"] = String(c.answeredSends)
            out["cadence_answer_bytes"] = String(Int(saturating: c.answerSizes.mean.rounded()))
            out["cadence_answer_size_variation"] = TableReport.format2(c.answerSizes.variation)
            out["cadence_answer_delay_ms"] = String(Int(saturating: c.answerDelays.mean.rounded()))
        }
        out["http_host"] = d.httpHost
        out["request"] = d.request
        out["response_status"] = d.responseStatus.map(String.init)
        out["user_agent"] = d.userAgent
        out["mining_header"] = d.miningHeaders.first
        if !d.answers.isEmpty { out["answers"] = d.answers.joined(separator: ", ") }
        out["message"] = d.message
        out["name_from"] = d.nameFrom.map(ReasonText.phrase)
        out["proxy"] = d.proxy?.kind
        out["proxy_target"] = d.proxy?.target
        out["proxy_refused"] = d.proxyRefused.map { String($0) }
        return out
    }
}
