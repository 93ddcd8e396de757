import Detection
import Foundation
import PacketDecoding
import Reporting
import Store

// Between the store and the reports: the store keeps documents it does not define; here they are
// the report JSON on the way in and a `PeriodReport` on the way out.

extension StoreDocuments {
    /// The reports' JSON schema (docs/output.md "JSON output") as the store's documents.
    public static let reportJSON = StoreDocuments(
        host: { JSONOutput.encode(HostJSON($0), pretty: false) },
        reason: { $0.reasonTexts.first },
        session: { JSONOutput.encode(SessionJSON($0, role: "miner"), pretty: false) },
        evidence: { JSONOutput.encode(EvidenceJSON($0, policy: $1), pretty: false) },
        record: { recordJSON($0) })

    /// What the host was judged from, with its keys in order: the same record is the same document
    /// in every run (a store written twice from one capture holds the same bytes).
    static func recordJSON(_ report: HostReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(HostRecord(report))) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// A report read from the store, and what the read left out (one line each, for the log).
public struct StoredReport: Sendable {
    public var report: PeriodReport
    public var warnings: [String]
}

extension PeriodReport {
    /// A period as the store holds it, read back through the documents it was given.
    public init(_ p: StoredPeriod, generated: Timestamp) {
        var unread = 0
        self.init(p, generated: generated, unread: &unread)
    }

    /// - Parameter unread: counts the documents that are not the reports' JSON (a store edited by hand, or another program's).
    init(_ p: StoredPeriod, generated: Timestamp, unread: inout Int) {
        let decoder = JSONDecoder()
        var sessionsByHost: [String: [Session]] = [:]
        for s in p.sessions {
            guard let j = try? decoder.decode(SessionJSON.self, from: Data(s.document.utf8)) else {
                unread += 1
                continue
            }
            var session = Session(
                pool: j.pool, pool_name: j.pool_hostnames.first, dialect: j.dialect, coin: j.coin,
                wallet: j.wallets.first,
                software: j.miner_software, first_seen: TimeFormat.iso8601(s.firstSeen),
                last_seen: TimeFormat.iso8601(s.lastSeen),
                start_ns: s.firstSeen, end_ns: s.lastSeen, shares_accepted: j.shares_accepted,
                estimated_hashrate_hs: j.estimated_hashrate_hs, hashrate_unit: j.hashrate_unit)
            session.sensor = s.sensor
            session.community_id = j.community_id
            sessionsByHost["\(s.site)|\(s.miner)", default: []].append(session)
        }
        let hosts: [Host] = p.hosts.compactMap { h in
            guard let j = Self.judged(h, decoder) ?? (try? decoder.decode(HostJSON.self, from: Data(h.document.utf8)))
            else {
                unread += 1
                return nil
            }
            return Host(
                host: j, first_seen: TimeFormat.iso8601(h.firstSeen), last_seen: TimeFormat.iso8601(h.lastSeen),
                first_flagged: h.firstFlagged.map(TimeFormat.iso8601),
                new_in_period: h.firstFlagged.map { $0 >= p.from && $0 <= p.to } ?? false,
                sessions: sessionsByHost["\(h.site)|\(h.address)"] ?? [], site: h.site, sensors: h.sensors)
        }
        let changes = p.changes.map {
            Change(
                time: TimeFormat.iso8601($0.time), host: $0.host, old_verdict: $0.oldVerdict,
                new_verdict: $0.newVerdict,
                confidence: $0.confidence, reason: $0.reason, sensor: $0.sensor, site: $0.site)
        }
        let c = p.capture
        self.init(
            generated: TimeFormat.iso8601(generated.nanoseconds), from: TimeFormat.iso8601(p.from),
            to: TimeFormat.iso8601(p.to),
            from_ns: p.from, to_ns: p.to, hosts: hosts, verdict_changes: changes,
            capture: Capture(
                runs: c.runs, packets: c.packets, packets_received: c.received,
                packets_dropped_by_kernel: c.droppedByKernel, packets_dropped_by_interface: c.droppedByInterface),
            totals: p.totals, storeSpan: p.span)
        sensors = p.sensors
    }
}

extension PeriodReport {
    /// A host several sensors saw, judged from all their records together — the function one sensor
    /// uses on its own (nil when it has one sensor, or a record cannot be read: then the most serious
    /// sensor's own report stands).
    static func judged(_ h: StoredPeriod.Host, _ decoder: JSONDecoder) -> HostJSON? {
        guard h.records.count > 1 else { return nil }
        let records = h.records.compactMap { try? decoder.decode(HostRecord.self, from: Data($0.utf8)) }
        guard records.count == h.records.count, let joined = HostRecord.joined(records) else { return nil }
        return HostJSON(joined.judged())
    }
}

extension EvidenceStore {
    /// The period as a report (`report`, `live --report-every`), read within `bounds`.
    public func report(
        from: Int64, to: Int64, generated: Timestamp, filter: StoreFilter = StoreFilter(),
        bounds: StoreReadLimits = StoreReadLimits()
    ) throws(StoreError) -> StoredReport {
        let period = try period(from: from, to: to, limit: PeriodReport.maxHosts, filter: filter, bounds: bounds)
        var unread = 0
        var report = PeriodReport(period, generated: generated, unread: &unread)
        // The probe answers about servers this period's hosts talked to (newest first: one per server).
        let peers = Set(report.hosts.flatMap { $0.host.evidence.compactMap(\.peer) })
        if !peers.isEmpty {
            var listed = Set<String>()
            for f in try probeFacts(since: 0) {
                let server = f.server.endpoint(port: f.port)
                guard peers.contains(server), listed.insert(server).inserted else { continue }
                report.probed_servers.append(
                    PeriodReport.Probed(
                        server: server, answer: f.answer.rawValue, coin: f.coin, algorithm: f.algorithm,
                        probed_at: TimeFormat.iso8601(f.at.nanoseconds), sentence: f.sentence))
            }
        }
        var warnings = period.warnings
        if unread > 0 {
            warnings.append(
                "\(unread) host or session documents left out: they are not the reports' JSON (the store may have been edited)"
            )
        }
        return StoredReport(report: report, warnings: warnings.map { "store \(path): \($0)" })
    }
}
