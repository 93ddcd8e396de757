import Detection
import Locking
import PacketDecoding
import PoolIntel
import Synchronization

/// One host table for live workers (docs/architecture.md "Workers"): every worker adds what its ended flows found,
/// and publishes what its open flows show so far; the thread that commits judges each host from all
/// of it. A host whose flows landed on different workers is one verdict, never two partial ones.
public final class SharedVerdicts: Sendable {
    /// An open flow, by its worker and its first packet (unique within a worker).
    struct FlowID: Hashable, Sendable {
        var worker: Int
        var origin: Int
    }
    struct OpenFindings: Sendable {
        var hosts: [IPAddress]
        var sessions: [SessionRecord]
        var evidence: [Evidence]

        /// What the entry costs the table, charged to its flow's share of the decoder budget: the
        /// records (`MemoryCost`) and the entry's own bookkeeping — its slot in `open`, its hosts
        /// list, and its place in `openByHost` for each host (about 320 bytes, measured with
        /// heaptrack under a flood of one-flow hosts, the dearest case).
        static func cost(sessions: [SessionRecord], evidence: [Evidence]) -> Int {
            guard !sessions.isEmpty || !evidence.isEmpty else { return 0 }
            return 320 + MemoryCost.of(sessions, each: \.heapBytes) + MemoryCost.of(evidence, each: \.heapBytes)
        }
    }
    private struct State: Sendable {
        var verdicts: HostVerdicts
        var open: [FlowID: OpenFindings] = [:]
        var openByHost: [IPAddress: Set<FlowID>] = [:]
        /// Hosts whose open findings changed since the last snapshot.
        var openChanged: Set<IPAddress> = []
        /// Changed hosts a snapshot left for the next (more than `maxReportsPerSnapshot` changed).
        var deferred: Set<IPAddress> = []
    }
    private let state: Locked<State>

    public init(policy: ScoringPolicy, limits: HostLimits) {
        state = Locked(State(verdicts: HostVerdicts(policy: policy, limits: limits)))
    }

    func add(_ r: SessionRecord) { state.withLock { $0.verdicts.add(r) } }

    func add(_ e: Evidence) -> HostVerdicts.EvidenceOutcome { state.withLock { $0.verdicts.add(e) } }

    /// A flow ended: its open findings go (its final ones are added by the same worker right after).
    func close(_ id: FlowID) {
        state.withLock { s in
            guard let old = s.open.removeValue(forKey: id) else { return }
            for h in old.hosts {
                s.openByHost[h]?.remove(id)
                if s.openByHost[h]?.isEmpty == true { s.openByHost[h] = nil }
                s.openChanged.insert(h)
            }
        }
    }

    /// What an open flow shows now (replacing what it showed before); nothing found: forgotten.
    func publish(_ id: FlowID, hosts: [IPAddress], sessions: [SessionRecord], evidence: [Evidence]) {
        state.withLock { s in
            if let old = s.open[id] {
                for h in old.hosts {
                    s.openByHost[h]?.remove(id)
                    s.openChanged.insert(h)
                }
            }
            if sessions.isEmpty && evidence.isEmpty {
                s.open[id] = nil
            } else {
                s.open[id] = OpenFindings(hosts: hosts, sessions: sessions, evidence: evidence)
                for h in hosts {
                    s.openByHost[h, default: []].insert(id)
                    s.openChanged.insert(h)
                }
            }
            for h in hosts where s.openByHost[h]?.isEmpty == true { s.openByHost[h] = nil }
        }
    }

    /// Hosts the next snapshot judges again though their evidence did not change.
    public func rejudge(_ hosts: Set<IPAddress>) { state.withLock { $0.deferred.formUnion(hosts) } }

    /// Reports for the hosts whose evidence changed since the last call, open flows included.
    public func snapshotChanges(localNets: AddressSet?) -> [HostReport] {
        state.withLock { s in
            let hosts = s.verdicts.takeChanged().union(s.openChanged).union(s.deferred)
            s.openChanged = []
            guard !hosts.isEmpty else {
                s.deferred = []
                return []
            }
            let (reports, deferred) = HostVerdicts.mostSerious(
                hosts, limit: s.verdicts.limits.maxReportsPerSnapshot, maxBytes: s.verdicts.limits.maxSnapshotBytes
            ) {
                part in
                var verdicts = s.verdicts.subset(Set(part))
                var seen = Set<FlowID>()
                for h in part {
                    for id in s.openByHost[h] ?? [] where seen.insert(id).inserted {
                        guard let f = s.open[id] else { continue }
                        for r in f.sessions { verdicts.add(r) }
                        for e in f.evidence { verdicts.add(e) }
                    }
                }
                let asked = Set(part)
                return verdicts.reports(localNets: localNets).filter { asked.contains($0.host) }
            }
            s.deferred = Set(deferred)
            return reports
        }
    }

    /// Every host's report from ended flows (at the end, after every worker finished its flows).
    public func reports(localNets: AddressSet?, unflagged: Bool = false) -> [HostReport] {
        state.withLock { $0.verdicts.reports(localNets: localNets, unflagged: unflagged) }
    }

    public func holds(_ host: IPAddress) -> Bool {
        state.withLock { $0.verdicts.holds(host) || $0.openByHost[host]?.isEmpty == false }
    }

    public var collectRetired: Bool {
        get { state.withLock { $0.verdicts.collectRetired } }
        set { state.withLock { $0.verdicts.collectRetired = newValue } }
    }

    public func drainRetiredSessions() -> [SessionRecord] { state.withLock { $0.verdicts.drainRetired() } }

    /// The table's own counters into `stats` (the workers' parts hold none of them), read under the
    /// lock: the table is not copied once a second for a status line.
    public func count(into stats: inout AnalysisStats) { state.withLock { stats.count($0.verdicts) } }
}
