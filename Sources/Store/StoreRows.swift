import Detection
import Foundation
import PacketDecoding

/// Who writes: every row carries its sensor and site (docs/store-and-fleet.md "Many sensors").
public struct StoreIdentity: Sendable, Equatable, Codable {
    public var sensor: String
    public var site: String
    public init(sensor: String, site: String = "") {
        self.sensor = sensor
        self.site = site
    }

    /// The sensor's default name: this machine's host name (short form).
    public static var hostName: String {
        let h = ProcessInfo.processInfo.hostName
        return h.split(separator: ".").first.map(String.init) ?? h
    }
}

/// One commit as the rows it writes: plain values and the documents already rendered, so the same
/// batch can be written to SQLite or PostgreSQL, or kept in the spool on disk while the database is
/// away and written later — as often as it takes: every row is an idempotent upsert.
public struct StoreRows: Sendable, Codable {
    public struct Run: Sendable, Codable {
        public var run: String
        public var startedAt: Int64
        public var endedAt: Int64?
        public var source: String
        public var version: String
    }
    public struct Host: Sendable, Codable {
        public var address: String
        public var vlans: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var verdict: String
        public var confidence: Int
        public var flagged: Int64?
        /// Packet time of the host's latest evidence: when a verdict change is recorded.
        public var evidenceTime: Int64
        public var reason: String?
        public var json: String
        /// The `HostRecord` the verdict was judged from (JSON).
        public var record: String
    }
    public struct Session: Sendable, Codable {
        public var miner: String, minerPort: Int, pool: String, poolPort: Int, vlan: Int
        public var flowFirstSeen: Int64, firstSeen: Int64, lastSeen: Int64
        public var dialect: String?, coin: String?, wallet: String?, software: String?, poolName: String?
        public var sharesAccepted: Int, sharesRejected: Int
        public var hashrate: Double?
        public var endReason: String
        public var json: String
        /// Whether the session is still open (a snapshot a later batch supersedes).
        public var open: Bool { endReason == "open" }
        var key: String { "\(miner)|\(minerPort)|\(pool)|\(poolPort)|\(vlan)|\(flowFirstSeen)" }
    }
    public struct Evidence: Sendable, Codable {
        public var host: String, kind: String, name: String, peer: String
        public var firstSeen: Int64, lastSeen: Int64, count: Int
        public var json: String
        var key: String { "\(host)|\(kind)|\(name)|\(peer)" }
    }
    public struct Stats: Sendable, Codable {
        public var time: Int64
        public var firstPacket: Int64, lastPacket: Int64
        public var packets: Int, bytes: Int, flows: Int
        public var received: Int64?, droppedByKernel: Int64?, droppedByInterface: Int64?
        public var json: String
    }

    public var identity: StoreIdentity
    public var run: Run
    public var hosts: [Host] = []
    public var sessions: [Session] = []
    public var evidence: [Evidence] = []
    public var stats: Stats?

    public init(identity: StoreIdentity, run: Run) {
        self.identity = identity
        self.run = run
    }

    /// One row of a batch, as `rows(of:)` renders it.
    public enum Row {
        case session(Session)
        case evidence(Evidence)
        case host(Host)
        case stats(Stats)
    }

    /// The rows of `b`, its records rendered through `docs`.
    /// - Parameter fresh: whether a row's document differs from what was last written under its key
    ///   (unchanged rows are left out: a live sensor commits its whole state every few seconds).
    init(
        _ b: StoreBatch, identity: StoreIdentity, run: Run, documents docs: StoreDocuments,
        fresh: (String, String) -> Bool
    ) {
        self.init(identity: identity, run: run)
        Self.rows(of: b, documents: docs, fresh: fresh) { row in
            switch row {
            case .session(let s): sessions.append(s)
            case .evidence(let e): evidence.append(e)
            case .host(let h): hosts.append(h)
            case .stats(let c): stats = c
            }
        }
    }

    /// Renders the rows of `b` one at a time and hands each to `body`, so a commit can write each row
    /// as it is rendered and never hold the batch's documents all at once. The order: retired
    /// sessions, then per host its sessions, evidence and host row; the capture statistics last.
    /// - Parameter fresh: whether a row's document differs from what was last written under its key.
    static func rows(
        of b: StoreBatch, documents docs: StoreDocuments, fresh: (String, String) -> Bool,
        _ body: (Row) throws -> Void
    ) rethrows {
        // A session appears under its miner and its pool: written once. Its key's hash is what is
        // remembered (tens of thousands of retired sessions in one batch under a flood).
        var seenSessions = Set<Int>()
        func session(_ s: SessionRecord) throws {
            let m = s.summary
            let row = Session(
                miner: s.miner.description, minerPort: Int(s.minerPort), pool: s.pool.description,
                poolPort: Int(s.poolPort),
                vlan: Int(s.vlanID), flowFirstSeen: s.flowFirstSeen.nanoseconds,
                firstSeen: (m.firstSeen ?? s.flowFirstSeen).nanoseconds,
                lastSeen: (m.lastSeen ?? s.flowLastSeen).nanoseconds,
                dialect: m.dialect?.rawValue, coin: s.coin, wallet: m.wallets.first, software: m.software,
                poolName: m.poolHostnames.first, sharesAccepted: m.sharesAccepted, sharesRejected: m.sharesRejected,
                hashrate: m.estimatedHashrate, endReason: s.endReason.rawValue, json: docs.session(s))
            guard seenSessions.insert(row.key.hashValue).inserted, fresh("s|" + row.key, row.json) else { return }
            try body(.session(row))
        }
        for s in b.retiredSessions { try session(s) }
        for r in b.reports {
            for s in r.minerSessions { try session(s) }
            for s in r.poolSessions { try session(s) }
            for e in r.evidence {
                let row = Evidence(
                    host: e.host.description, kind: e.kind.rawValue, name: e.name ?? "", peer: e.peerEndpoint ?? "",
                    firstSeen: e.first.nanoseconds, lastSeen: e.last.nanoseconds, count: max(e.count, 1),
                    json: docs.evidence(e, r.policy))
                if fresh("e|" + row.key, row.json) { try body(.evidence(row)) }
            }
            let json = docs.host(r)
            let address = r.host.description
            guard fresh("h|" + address, json) else { continue }
            let vlans = Set((r.minerSessions + r.poolSessions).map(\.vlanID)).filter { $0 != 0 }.sorted().map(
                String.init
            ).joined(separator: ",")
            // One clock for the evidence: when a host was first flagged and when its verdict changed are
            // packet times (its latest evidence), as first/last seen are; wall time is run bookkeeping.
            let evidenceTime = r.lastSeen?.nanoseconds ?? b.time.nanoseconds
            try body(
                .host(
                    Host(
                        address: address, vlans: vlans, firstSeen: r.firstSeen?.nanoseconds ?? b.time.nanoseconds,
                        lastSeen: evidenceTime, verdict: r.verdict.rawValue, confidence: r.confidence,
                        flagged: r.verdict.isMiner ? evidenceTime : nil, evidenceTime: evidenceTime,
                        reason: docs.reason(r),
                        json: json,
                        record: docs.record(r))))
        }
        try body(
            .stats(
                Stats(
                    time: b.time.nanoseconds, firstPacket: (b.firstPacket ?? b.time).nanoseconds,
                    lastPacket: (b.lastPacket ?? b.time).nanoseconds,
                    packets: b.packets, bytes: b.bytes, flows: b.flows,
                    received: b.received.map { Int64(clamping: $0) },
                    droppedByKernel: b.droppedByKernel.map { Int64(clamping: $0) },
                    droppedByInterface: b.droppedByInterface.map { Int64(clamping: $0) }, json: b.statsJSON)))
    }

    /// Every row in write order: sessions, evidence, hosts, the capture statistics.
    func forEachRow(_ body: (Row) throws -> Void) rethrows {
        for s in sessions { try body(.session(s)) }
        for e in evidence { try body(.evidence(e)) }
        for h in hosts { try body(.host(h)) }
        if let stats { try body(.stats(stats)) }
    }

    /// `later` applied after these rows, as one batch with the same effect: rows `later` supersedes
    /// go — open-session snapshots, evidence and counters it rewrites, host rows whose verdict
    /// `later` does not change — and every verdict change stays (the spool, when full).
    public func merged(with later: StoreRows) -> StoreRows {
        var out = later
        let laterSessions = Set(later.sessions.map(\.key))
        let laterEvidence = Set(later.evidence.map(\.key))
        let laterVerdict = Dictionary(later.hosts.map { ($0.address, $0.verdict) }, uniquingKeysWith: { a, _ in a })
        out.sessions = sessions.filter { !laterSessions.contains($0.key) } + later.sessions
        out.evidence = evidence.filter { !laterEvidence.contains($0.key) } + later.evidence
        // A host row stays when it records a verdict `later` replaces (the change must be written).
        var dropped: [String: Host] = [:]
        let older = hosts.filter { h in
            guard let v = laterVerdict[h.address], v == h.verdict else { return true }
            dropped[h.address] = h
            return false
        }
        // What a dropped row knew first (first seen, first flagged) goes on in the row that replaces it.
        out.hosts =
            older
            + later.hosts.map { h in
                guard let d = dropped[h.address] else { return h }
                var h = h
                h.firstSeen = min(h.firstSeen, d.firstSeen)
                if let f = d.flagged { h.flagged = min(h.flagged ?? f, f) }
                return h
            }
        out.stats = later.stats ?? stats
        if out.run.endedAt == nil { out.run.endedAt = run.endedAt }
        return out
    }

    var rowCount: Int { hosts.count + sessions.count + evidence.count + 1 }
}
