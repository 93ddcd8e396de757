import SafeNumbers
import Detection
import Foundation
import PacketDecoding
import PacketCapture
import Pipeline
import Stratum

/// The JSON schema (README "JSON output"). A contract: later work adds
/// fields, never renames or removes them. Field names are snake_case.
public struct RunSummary: Encodable {
    public var files: Int
    public var files_failed: Int
    public var errors: [String]
    public var packets: Int
    public var bytes: Int
    public var flows: Int
    public var peak_flows: Int
    public var tcp_packets: Int
    public var udp_packets: Int
    public var non_ip_packets: Int
    public var malformed_packets: Int
    public var fragments_reassembled: Int
    public var bypassed_flows: Int
    public var bypassed_packets: Int
    public var evicted_flows: Int
    public var expired_flows: Int
    public var gaps: Int
    public var gap_bytes: Int
    public var out_of_order_segments: Int
    public var retransmitted_segments: Int
    public var mid_stream_pickups: Int
    public var depth_cap_hits: Int
    public var out_of_order_cap_flushes: Int
    public var stratum_sessions: Int
    public var dns_messages: Int
    public var tls_handshakes: Int
    public var http_flows: Int
    public var websocket_flows: Int
    public var p2p_flows: Int
    public var allowed_sessions: Int
    public var anomalies: [String: Int]
    @NullEncoded public var first_packet: String?
    @NullEncoded public var last_packet: String?
    public var elapsed_seconds: Double
    public var hosts_flagged: Int
    /// Live capture only: interfaces and pcap_stats counters (never silent about drops).
    @NullEncoded public var capture: CaptureSummary?
    public init(stats: AnalysisStats, files: Int, errors: [String], elapsed: Double, hostsFlagged: Int) {
        let r = stats.reassembly
        self.files = files
        files_failed = errors.count
        self.errors = errors
        packets = stats.packets
        bytes = stats.bytes
        flows = r.flowsCreated
        peak_flows = r.peakFlows
        tcp_packets = r.tcpPackets
        udp_packets = r.udpPackets
        non_ip_packets = stats.nonIPPackets
        malformed_packets = stats.malformedPackets
        fragments_reassembled = stats.fragmentsReassembled
        bypassed_flows = r.bypassedFlows
        bypassed_packets = r.bypassedPackets
        evicted_flows = r.evictions
        expired_flows = r.expired
        gaps = r.gaps
        gap_bytes = r.gapBytes
        out_of_order_segments = r.outOfOrderSegments
        retransmitted_segments = r.retransmittedSegments
        mid_stream_pickups = r.midStreamPickups
        depth_cap_hits = r.depthCapHits
        out_of_order_cap_flushes = r.outOfOrderCapFlushes
        stratum_sessions = stats.stratumSessions
        dns_messages = stats.dnsMessages
        tls_handshakes = stats.tlsHandshakes
        http_flows = stats.httpFlows
        websocket_flows = stats.webSocketFlows
        p2p_flows = stats.peerFlows
        allowed_sessions = stats.allowedSessions
        anomalies = Dictionary(uniqueKeysWithValues: stats.anomalies.nonZero.map { ($0.0.rawValue, $0.1) })
        first_packet = stats.firstPacket.map { TimeFormat.iso8601($0.nanoseconds) }
        last_packet = stats.lastPacket.map { TimeFormat.iso8601($0.nanoseconds) }
        elapsed_seconds = (elapsed * 1000).rounded() / 1000
        hosts_flagged = hostsFlagged
    }
}

public struct SessionJSON: Codable, Sendable {
    public var role: String
    public var miner: String
    public var pool: String
    public var pool_hostnames: [String]
    public var vlan: UInt16
    public var shape: String
    public var dialect: String?
    public var coin: String?
    public var algorithms: [String]
    public var wallets: [String]
    public var workers: [String]
    public var miner_software: String?
    public var login_accepted: Bool?
    public var jobs_received: Int
    public var shares_submitted: Int
    public var shares_accepted: Int
    public var shares_rejected: Int
    public var difficulty: Double?
    public var hashes_per_share: Double?
    public var estimated_hashrate_hs: Double?
    public var reported_hashrate_hs: Double?
    /// What both rates count: "H/s", or "Sol/s" for Equihash coins (nil only in stores written before it).
    public var hashrate_unit: String?
    public var first_seen: String?
    public var last_seen: String?
    public var bytes_from_miner: Int
    public var bytes_from_pool: Int
    public var end_reason: String
    public var transport: String
    public var pool_list_match: String?
    /// `{"kind": "socks5", "target": "pool.example.com:3333"}` when the session went through a proxy.
    public var proxy: ProxyRoute?

    public init(_ s: SessionRecord, role: String) {
        let m = s.summary
        self.role = role
        miner = s.minerEndpoint
        pool = s.poolEndpoint
        pool_hostnames = m.poolHostnames
        vlan = s.vlanID
        shape = m.shape.rawValue
        dialect = m.dialect?.rawValue
        coin = s.coin
        algorithms = m.algorithms
        wallets = m.wallets
        workers = m.workers
        miner_software = m.software
        login_accepted = m.loginAccepted
        jobs_received = m.jobsReceived
        shares_submitted = m.sharesSubmitted
        shares_accepted = m.sharesAccepted
        shares_rejected = m.sharesRejected
        // Numbers from the wire: anything not finite is null, never a string in a number field.
        difficulty = m.difficulty?.finite.map(Self.round)
        hashes_per_share = m.hashesPerShare?.finite.map(Self.round)
        estimated_hashrate_hs = m.estimatedHashrate?.finite.map(Self.round)
        reported_hashrate_hs = m.reportedHashrate?.finite
        hashrate_unit = s.rateKind.unit.rawValue
        first_seen = m.firstSeen.map(TimeFormat.iso8601)
        last_seen = m.lastSeen.map(TimeFormat.iso8601)
        bytes_from_miner = s.minerBytes
        bytes_from_pool = s.poolBytes
        end_reason = s.endReason
        transport = s.transport
        pool_list_match = s.poolList.map { "\($0.matched) (\($0.entry.kind.rawValue), \($0.entry.source))" }
        proxy = s.proxy
    }

    /// Six significant digits: estimates, not measurements.
    static func round(_ v: Double) -> Double {
        guard v.isFinite, v != 0 else { return v }
        // Scale by an exact power of ten on the side that keeps it a whole number: dividing by 1e5
        // rather than multiplying by 1e-5 gives 26939600000, not 26939599999.999996.
        let e = Int(floor(log10(abs(v)))) - 5
        if e >= 0 {
            let scale = pow(10, Double(e))
            return (v / scale).rounded() * scale
        }
        let scale = pow(10, Double(-e))
        return (v * scale).rounded() / scale
    }

    // Encode optionals as null so every documented field is always present.
    enum CodingKeys: String, CodingKey {
        case role, miner, pool, pool_hostnames, vlan, shape, dialect, coin, algorithms, wallets, workers, miner_software,
             login_accepted, jobs_received, shares_submitted, shares_accepted, shares_rejected, difficulty,
             hashes_per_share, estimated_hashrate_hs, reported_hashrate_hs, hashrate_unit, first_seen, last_seen, bytes_from_miner,
             bytes_from_pool, end_reason, transport, pool_list_match, proxy
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(miner, forKey: .miner)
        try c.encode(pool, forKey: .pool)
        try c.encode(pool_hostnames, forKey: .pool_hostnames)
        try c.encode(vlan, forKey: .vlan)
        try c.encode(shape, forKey: .shape)
        try c.encode(dialect, forKey: .dialect)
        try c.encode(coin, forKey: .coin)
        try c.encode(algorithms, forKey: .algorithms)
        try c.encode(wallets, forKey: .wallets)
        try c.encode(workers, forKey: .workers)
        try c.encode(miner_software, forKey: .miner_software)
        try c.encode(login_accepted, forKey: .login_accepted)
        try c.encode(jobs_received, forKey: .jobs_received)
        try c.encode(shares_submitted, forKey: .shares_submitted)
        try c.encode(shares_accepted, forKey: .shares_accepted)
        try c.encode(shares_rejected, forKey: .shares_rejected)
        try c.encode(difficulty, forKey: .difficulty)
        try c.encode(hashes_per_share, forKey: .hashes_per_share)
        try c.encode(estimated_hashrate_hs, forKey: .estimated_hashrate_hs)
        try c.encode(reported_hashrate_hs, forKey: .reported_hashrate_hs)
        try c.encode(hashrate_unit, forKey: .hashrate_unit)
        try c.encode(first_seen, forKey: .first_seen)
        try c.encode(last_seen, forKey: .last_seen)
        try c.encode(bytes_from_miner, forKey: .bytes_from_miner)
        try c.encode(bytes_from_pool, forKey: .bytes_from_pool)
        try c.encode(end_reason, forKey: .end_reason)
        try c.encode(transport, forKey: .transport)
        try c.encode(pool_list_match, forKey: .pool_list_match)
        try c.encode(proxy, forKey: .proxy)
    }
}

public struct HostJSON: Codable, Sendable {
    public var host: String
    public var verdict: String
    public var confidence: Int
    public var reasons: [String]
    public var first_seen: String?
    public var last_seen: String?
    public var pools: [String]
    public var wallets: [String]
    public var workers: [String]
    public var miner_software: [String]
    public var shares_accepted: Int
    /// The host's rate when all its rated sessions mine one coin (else null: see `estimated_hashrates`).
    public var estimated_hashrate_hs: Double?
    public var hashrate_unit: String?
    /// One total per coin (or per dialect when the coin is unknown): rates of different coins never add.
    public var estimated_hashrates: [RateJSON]?
    public var sessions: [SessionJSON]
    public var served_sessions: [SessionJSON]
    public var evidence: [EvidenceJSON]

    public init(_ r: HostReport) {
        host = r.host.description
        verdict = r.verdict.rawValue
        confidence = r.confidence
        reasons = r.reasons
        first_seen = r.firstSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        last_seen = r.lastSeen.map { TimeFormat.iso8601($0.nanoseconds) }
        var pools: [String] = [], wallets: [String] = [], software: [String] = [], workers: [String] = []
        for s in r.minerSessions {
            for w in s.summary.workers where !workers.contains(w) && workers.count < 32 { workers.append(w) }
            let p = s.poolDisplay
            if !pools.contains(p) { pools.append(p) }
            for w in s.summary.wallets where !wallets.contains(w) { wallets.append(w) }
            if let sw = s.summary.software, !software.contains(sw) { software.append(sw) }
        }
        for e in r.evidence where e.kind != .peerToPeer && e.kind != .dnsPoolLookup {
            var p = (e.peerEndpoint ?? "?") + (e.name.map { " (\($0))" } ?? "")
            if let kind = e.detail("proxy"), let target = e.detail("proxy_target") {
                p = "\(e.name.map { target.hasPrefix($0 + ":") ? target : "\($0) (\(target))" } ?? target) via \(kind.uppercased()) proxy \(e.peerEndpoint ?? "?")"
            }
            if !pools.contains(p) { pools.append(p) }
            if let sw = e.software, !software.contains(sw) { software.append(sw) }
        }
        self.pools = pools
        self.wallets = wallets
        self.workers = workers
        miner_software = software
        shares_accepted = r.minerSessions.reduce(0) { $0.addingSaturated($1.summary.sharesAccepted) }
        var totals: [RateKind: Double] = [:]
        for s in r.minerSessions { if let h = s.estimatedHashrate { totals[s.rateKind, default: 0] += h } }
        let rates = RateJSON.list(totals)
        estimated_hashrates = rates
        estimated_hashrate_hs = rates.count == 1 ? rates[0].estimated : nil
        hashrate_unit = rates.count == 1 ? rates[0].unit : nil
        sessions = r.minerSessions.map { SessionJSON($0, role: "miner") }
        served_sessions = r.poolSessions.map { SessionJSON($0, role: "pool") }
        evidence = r.evidence.map(EvidenceJSON.init)
    }

    enum CodingKeys: String, CodingKey {
        case host, verdict, confidence, reasons, first_seen, last_seen, pools, wallets, workers, miner_software,
             shares_accepted, estimated_hashrate_hs, hashrate_unit, estimated_hashrates, sessions, served_sessions, evidence
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(first_seen, forKey: .first_seen)
        try c.encode(last_seen, forKey: .last_seen)
        try c.encode(pools, forKey: .pools)
        try c.encode(wallets, forKey: .wallets)
        try c.encode(workers, forKey: .workers)
        try c.encode(miner_software, forKey: .miner_software)
        try c.encode(shares_accepted, forKey: .shares_accepted)
        try c.encode(estimated_hashrate_hs, forKey: .estimated_hashrate_hs)
        try c.encode(hashrate_unit, forKey: .hashrate_unit)
        try c.encode(estimated_hashrates ?? [], forKey: .estimated_hashrates)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(served_sessions, forKey: .served_sessions)
        try c.encode(evidence, forKey: .evidence)
    }
}

/// One rate total: `{"coin": "zcash", "dialect": null, "unit": "Sol/s", "estimated": 675.0}`
/// (`coin` null and `dialect` named when the coin could not be told).
public struct RateJSON: Codable, Sendable, Equatable {
    public var coin: String?
    public var dialect: String?
    public var unit: String
    public var estimated: Double

    public init(kind: RateKind, estimated: Double) {
        coin = kind.coin; dialect = kind.dialect; unit = kind.unit.rawValue; self.estimated = estimated
    }

    public var kind: RateKind { RateKind(coin: coin, dialect: dialect) }

    /// Totals in a stable order (by label), rounded like every estimate; a sum past the finite range is left out.
    public static func list(_ totals: [RateKind: Double]) -> [RateJSON] {
        totals.filter { $0.value.isFinite && $0.value > 0 }.sorted { $0.key < $1.key }
            .map { RateJSON(kind: $0.key, estimated: SessionJSON.round($0.value)) }
    }

    /// "675 Sol/s (zcash)".
    public var text: String { Format.hashrate(estimated, HashrateUnit(rawValue: unit) ?? .hashes) + " (\(kind.label))" }

    enum CodingKeys: String, CodingKey { case coin, dialect, unit, estimated }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(coin, forKey: .coin)
        try c.encode(dialect, forKey: .dialect)
        try c.encode(unit, forKey: .unit)
        try c.encode(estimated, forKey: .estimated)
    }
}

extension HostJSON {
    /// The per-coin totals; a host stored before they existed has its one total, coin unknown.
    public var rateList: [RateJSON] {
        estimated_hashrates ?? estimated_hashrate_hs.map { [RateJSON(kind: RateKind(coin: nil, dialect: nil), estimated: $0)] } ?? []
    }

    /// "675 Sol/s", or the first of several coins' rates and how many more: "17.1 MH/s +1".
    public var rateCell: String {
        let rates = rateList
        guard let first = rates.first else { return "-" }
        let one = Format.hashrate(first.estimated, HashrateUnit(rawValue: first.unit) ?? .hashes)
        return rates.count > 1 ? "\(one) +\(rates.count - 1)" : one
    }
}

public struct ReportDocument: Encodable {
    public var summary: RunSummary
    public var hosts: [HostJSON]
    public init(summary: RunSummary, hosts: [HostJSON]) { self.summary = summary; self.hosts = hosts }
}

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
    @NullEncoded public var session: SessionJSON?
    @NullEncoded public var evidence: EvidenceJSON?
    public init(_ e: AnalysisEvent) {
        type = "event"
        time = TimeFormat.iso8601(e.time.nanoseconds)
        session = e.session.map { SessionJSON($0, role: "miner") }
        host = e.session?.miner.description ?? ""
        switch e.kind {
        case .evidence(let ev):
            event = "evidence"
            host = ev.host.description
            evidence = EvidenceJSON(ev)
        case .sessionIdentified: event = "session_seen"
        case .login(let ok, let u): event = ok ? "login_accepted" : "login_rejected"; accepted = ok; user = u
        case .share(let ok): event = ok ? "share_accepted" : "share_rejected"; accepted = ok
        case .reconnect(let h): event = "reconnect"; target = h
        case .sessionEnded(let r): event = "session_end"; reason = r
        }
    }
}

/// Live capture counters in reports.
public struct CaptureSummary: Codable, Sendable {
    public var interfaces: [String]
    public var packets_received: UInt64
    public var packets_dropped_by_kernel: UInt64
    public var packets_dropped_by_interface: UInt64

    public init(interfaces: [String], stats: CaptureStatistics) {
        self.interfaces = interfaces
        packets_received = stats.received
        packets_dropped_by_kernel = stats.droppedByKernel
        packets_dropped_by_interface = stats.droppedByInterface
    }
}

/// One piece of non-session evidence (README "Evidence kinds").
public struct EvidenceJSON: Codable, Sendable {
    public var kind: String
    public var summary: String
    public var verdict: String
    public var peer: String?
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

    public init(_ e: Evidence) {
        kind = e.kind.rawValue
        summary = HostVerdicts.describe(e)
        verdict = HostVerdicts.score(e, ScoringPolicy()).0.rawValue
        peer = e.peerEndpoint
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
        var d: [String: String] = [:]
        for (k, v) in e.details where d[k] == nil { d[k] = v }
        details = d
    }

    enum CodingKeys: String, CodingKey {
        case kind, summary, verdict, peer, name, pool_list_match, pool_kind, coin, software, count, first_seen, last_seen,
             duration_seconds, packets_out, packets_in, bytes_out, bytes_in, details
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(summary, forKey: .summary)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(peer, forKey: .peer)
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

public enum JSONOutput {
    /// Encoder with stable formatting; JSONEncoder escapes every control character in wire strings.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? enc.encode(value) else { return "{}" }
        return invisiblesEscaped(String(decoding: data, as: UTF8.self))
    }

    /// JSON allows U+2028/2029, bidi overrides, zero-width and tag characters raw inside strings;
    /// written as \uXXXX they decode to the same text but cannot disguise a `cat`ed log line or
    /// break a JavaScript consumer. (Such characters occur only inside strings in JSON.)
    static func invisiblesEscaped(_ json: String) -> String {
        if json.utf8.allSatisfy({ $0 < 0x7F }) { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for u in json.unicodeScalars {
            guard u.value >= 0x7F, TerminalSafe.isInvisible(u) else { out.unicodeScalars.append(u); continue }
            for unit in String(u).utf16 { out += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16) }
        }
        return out
    }

    /// The `--format json` document, byte for byte what `encode(ReportDocument(...), pretty: true)`
    /// gives, written one host at a time: encoding 16 000 hosts as one tree held ~55 MB at once.
    /// - Complexity: O(total output), memory O(one host).
    public static func writeReport(summary: RunSummary, hosts: [HostReport], to write: (String) -> Void) {
        guard !hosts.isEmpty else {
            write(encode(ReportDocument(summary: summary, hosts: []), pretty: true) + "\n")
            return
        }
        write("{\n  \"hosts\" : [\n")
        for (i, r) in hosts.enumerated() {
            let text = encode(HostJSON(r), pretty: true)
            write(indent(text, by: "    ", skipFirst: false) + (i == hosts.count - 1 ? "\n" : ",\n"))
        }
        write("  ],\n  \"summary\" : " + indent(encode(summary, pretty: true), by: "  ", skipFirst: true) + "\n}\n")
    }

    private static func indent(_ text: String, by pad: String, skipFirst: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += "\n" }
            if (i > 0 || !skipFirst) && !line.isEmpty { out += pad }   // the encoder leaves empty lines bare
            out += line
        }
        return out
    }
}
