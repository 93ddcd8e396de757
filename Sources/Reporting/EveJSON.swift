import Detection
import PacketDecoding

/// Events as Suricata's EVE JSON shapes them (`--format eve`, `live --events-format eve`), so a
/// pipeline built for EVE — Filebeat's and Elastic's Suricata module, Splunk's TA, Security Onion,
/// jq scripts written against `eve.json` — takes them unchanged: the standard flow fields at the
/// top, what is ours in one `mining` object, verdicts as `alert` records.
///
/// A session's details come on its `session_seen` and `session_end` records only; logins, shares and
/// reconnects refer to their session by `community_id` (a share line is ~400 bytes, not ~900).
public struct EveRecord: Encodable {
    public var timestamp: String
    public var event_type: String
    @NullEncoded public var src_ip: String?
    @NullEncoded public var src_port: Int?
    @NullEncoded public var dest_ip: String?
    @NullEncoded public var dest_port: Int?
    @NullEncoded public var proto: String?
    @NullEncoded public var community_id: String?
    /// The sensor's name: EVE's `host` (Suricata's `sensor-name`).
    public var host: String
    @NullEncoded public var site: String?
    @NullEncoded public var alert: Alert?
    public var mining: Mining

    /// EVE's alert object, with the classification Emerging Threats gives coin mining.
    public struct Alert: Codable, Sendable {
        public var action = "allowed"
        public var gid = 1
        public var signature_id = 0
        public var rev = 0
        public var signature: String
        public var category = "Crypto Currency Mining Activity Detected"
        /// 1 for mining, 2 for likely-mining (EVE: 1 is the most severe).
        public var severity: Int
    }

    public struct Mining: Codable, Sendable {
        /// `session_seen`, `login_accepted`, … as in `--format jsonl`, `evidence`, or `verdict` on alerts.
        public var event: String
        /// The host the record is about (the miner, or the evidence's client).
        public var host: String
        @NullEncoded public var accepted: Bool?
        @NullEncoded public var user: String?
        @NullEncoded public var target: String?
        @NullEncoded public var reason: String?
        /// On `session_seen` and `session_end`.
        @NullEncoded public var session: SessionJSON?
        @NullEncoded public var evidence: EvidenceJSON?
        /// On alerts: the host's report.
        @NullEncoded public var verdict: HostJSON?
        @NullEncoded public var previous_verdict: String?
    }

    /// Suricata's timestamp: microseconds and a numeric offset (`2024-11-19T07:07:41.123456+0000`).
    static func timestamp(_ nanoseconds: Int64) -> String {
        String(TimeFormat.iso8601(nanoseconds).dropLast()) + "+0000"
    }

    static func protoName(_ p: UInt8) -> String { p == 6 ? "TCP" : p == 17 ? "UDP" : String(p) }

    /// The flow fields of a mining session (miner → pool, TCP).
    private mutating func flow(of s: SessionRecord) {
        src_ip = s.miner.description
        src_port = Int(s.minerPort)
        dest_ip = s.pool.description
        dest_port = Int(s.poolPort)
        proto = "TCP"
        community_id = s.communityID
    }

    /// An analysis event as an EVE `mining` record.
    public init(_ e: AnalysisEvent, sensor: String, site: String?) {
        timestamp = Self.timestamp(e.time.nanoseconds)
        event_type = "mining"
        host = sensor
        self.site = JSONOutput.site(site)
        mining = Mining(event: "", host: "")
        var m = mining
        if let s = e.session {
            flow(of: s)
            m.host = s.miner.description
        }
        switch e.kind {
        case .evidence(let ev):
            m.event = "evidence"
            m.host = ev.host.description
            m.evidence = EvidenceJSON(ev, policy: e.policy)
            src_ip = ev.host.description
            src_port = ev.hostPort.map(Int.init)
            dest_ip = ev.peer?.description
            dest_port = ev.peer == nil ? nil : Int(ev.peerPort)
            proto = ev.transport.map(Self.protoName)
            community_id = ev.communityID
        case .sessionIdentified:
            m.event = "session_seen"
            m.session = e.session.map { SessionJSON($0, role: "miner") }
        case .login(let ok, let u):
            m.event = ok ? "login_accepted" : "login_rejected"
            m.accepted = ok
            m.user = u
        case .share(let ok):
            m.event = ok ? "share_accepted" : "share_rejected"
            m.accepted = ok
        case .reconnect(let h):
            m.event = "reconnect"
            m.target = h
        case .sessionEnded(let r):
            m.event = "session_end"
            m.reason = r
            m.session = e.session.map { SessionJSON($0, role: "miner") }
        }
        mining = m
    }

    /// A host's verdict (newly mining or likely-mining live; every host's at the end of `analyze`) as an
    /// EVE `alert` (severity 1 mining, 2 likely-mining or pool, 3 the rest); the flow fields are those of
    /// its latest mining session when it has one.
    public init(alert r: HostReport, previous: String?, time: Int64, sensor: String, site: String?) {
        timestamp = Self.timestamp(time)
        event_type = "alert"
        host = sensor
        self.site = JSONOutput.site(site)
        let report = HostJSON(r)
        mining = Mining(event: "verdict", host: r.host.description, verdict: report, previous_verdict: previous)
        if let s = r.minerSessions.last ?? r.poolSessions.last {
            flow(of: s)
        } else {
            src_ip = r.host.description
        }
        alert = Alert(
            signature: "StratumSniff: \(r.host) \(r.verdict.rawValue) (\(r.confidence)): \(report.reasons.first ?? "")",
            severity: r.verdict == .mining ? 1 : r.verdict == .likelyMining || r.verdict == .pool ? 2 : 3)
    }
}

/// A record of the sensor's own (a period report's summary, alerts suppressed) in an EVE stream:
/// `timestamp`, `event_type`, `host` (the sensor) and `site`, then the record's keys.
public struct EveOwnRecord<Body: Encodable>: Encodable {
    public var timestamp: String
    public var event_type: String
    public var host: String
    public var site: String?
    public var body: Body
    public init(_ eventType: String, time: Int64, sensor: String, site: String?, _ body: Body) {
        timestamp = EveRecord.timestamp(time)
        event_type = eventType
        host = sensor
        self.site = JSONOutput.site(site)
        self.body = body
    }

    enum Keys: String, CodingKey { case timestamp, event_type, host, site }

    public func encode(to encoder: Encoder) throws {
        try body.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(event_type, forKey: .event_type)
        try c.encode(host, forKey: .host)
        try c.encode(site, forKey: .site)
    }
}
