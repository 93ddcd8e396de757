import Detection
import PacketDecoding
import PoolIntel
import StreamReassembly

/// A pool name or address a flow's server is known by, from before the flow started
/// (DNS answer, earlier SNI or Host, or an address on a list). A class so that the
/// common case (no hint) costs one pointer in every flow.
final class PoolHint {
    var name: String?
    var match: PoolMatch
    var via: NameSource
    init(name: String?, match: PoolMatch, via: NameSource) {
        self.name = name
        self.match = match
        self.via = via
    }
}

/// State shared by every flow and analyzer: verdicts, counters, the name cache and the lists.
/// Analyzers read and write it through their `FlowContext`.
final class RunState {
    let limits: Limits
    var intel: PoolIntelligence
    let onEvent: ((AnalysisEvent) -> Void)?
    var verdicts: HostVerdicts
    var anomalies = AnomalyCounters()
    /// Names of addresses, shared with the other workers (`NameMemory`).
    let names: NameMemory
    /// Each protocol's summary counters (`ProtocolCounter`).
    var counts = ProtocolCounts()
    /// The part of the name memory this pipeline's flows teach (`NameMemory.insert(…, store:)`): its
    /// shard's, so that what a full part forgets follows the input.
    var nameStore = 0
    /// Live workers: the one host table they share, and this worker's number (nil: this run state's own table).
    var shared: SharedVerdicts?
    var worker = 0
    /// Each host's open flows, for live snapshots (nil offline: nobody asks).
    var openFlows: OpenFlows?
    /// Mining sessions not counted because the allow list covers their pool (sanctioned mining).
    var allowedSessions = 0
    /// Every address seen in a flow, for `--all-hosts` (bounded: beyond the cap, new hosts are not listed).
    var hostsSeen: [IPAddress: HostSeen] = [:]

    /// Remembers that `host` was seen from `first` to `last` (bounded: beyond the cap, new hosts are not listed).
    func saw(_ host: IPAddress, from first: Timestamp, to last: Timestamp) {
        guard limits.maxHostsSeen > 0 else { return }
        if let i = hostsSeen.index(forKey: host) {
            let t = hostsSeen.values[i]
            hostsSeen.values[i] = HostSeen(first: min(t.first, first), last: max(t.last, last))
        } else if hostsSeen.count < limits.maxHostsSeen {
            hostsSeen[host] = HostSeen(first: first, last: last)
        }
    }

    init(
        limits: Limits, intel: PoolIntelligence, policy: ScoringPolicy, names: NameMemory,
        onEvent: ((AnalysisEvent) -> Void)?
    ) {
        self.limits = limits
        self.intel = intel
        self.onEvent = onEvent
        self.names = names
        verdicts = HostVerdicts(policy: policy, limits: limits.hosts)
    }

    /// Records evidence unless the allow list covers either end. The event stream gets the first
    /// of each record and then repeats 2, 4, 8 … (powers of two): a flood of identical lookups
    /// cannot turn into a flood of events, and a refused host (table full) none at all.
    /// `point`: the packet it was found at; `origin`: its flow's first packet's position, stamped on
    /// the record so that merging shards' findings is the same whatever their order.
    func add(_ e: Evidence, at point: InputPoint, origin: Int) {
        guard admits(e) else { return }
        var e = e
        e.origin = origin
        let published =
            switch shared?.add(e) ?? verdicts.add(e) {
            case .new: true
            case .merged(let n): n & (n - 1) == 0
            case .refused: false
            }
        // Measurements that support nothing on their own (a flow that did not behave like mining) are
        // no event; when a host's flows together do, its alert says so.
        if published && !e.isMeasurementOnly {
            onEvent?(
                AnalysisEvent(time: e.last, kind: .evidence(e), session: nil, policy: verdicts.policy, seq: point.seq))
        }
    }

    /// - Parameters:
    ///   - asOf: the flow's last packet (what was known of the pool's name while it lasted).
    ///   - origin: the flow's first packet's position (see `add(_:at:origin:)`).
    func add(_ r: SessionRecord, asOf point: InputPoint, origin: Int, at now: InputPoint) {
        var r = r
        r.origin = origin
        guard admits(r, asOf: point, at: now) else {
            allowedSessions += 1
            return
        }
        if let shared { shared.add(r) } else { verdicts.add(r) }
    }

    func admits(_ e: Evidence) -> Bool {
        if intel.isAllowed(e.host) || e.peer.map({ intel.isAllowed($0, port: e.peerPort) }) == true { return false }
        if let n = e.name, intel.isAllowed(name: n) { return false }
        return true
    }

    /// A session whose pool the allow list covers — by address, by a name the session or its flow
    /// gave (Stratum host names, HTTP Host), or by the name a DNS answer, SNI or Host gave the address
    /// — is sanctioned mining: not counted against its miner (docs/detection.md "Pool intelligence").
    /// `now`: the packet being processed (a flow can end long after its last packet, `point`).
    func admits(_ r: SessionRecord, asOf point: InputPoint, at now: InputPoint) -> Bool {
        if intel.isAllowed(r.miner) || intel.isAllowed(r.pool, port: r.poolPort) { return false }
        if r.summary.poolHostnames.contains(where: { intel.isAllowed(name: HTTPAnalyzer.hostOnly($0)) }) {
            return false
        }
        if let e = names.lookup(r.pool, asOf: point, now: r.flowLastSeen, at: now), e.match == nil { return false }
        return true
    }

    /// Remembers that `address` goes by `name` from `point` (the packet that told it) on, if the name
    /// is a listed pool. An allow-listed name is remembered too (without a match), so that sessions to
    /// its addresses are known to be sanctioned. `atOnce` only for the reader's DNS answers (`NameMemory`).
    func remember(
        _ address: IPAddress, name: String, match: PoolMatch? = nil, source: NameSource, ttl: Double,
        at point: InputPoint
    ) {
        Self.remember(
            address, name: name, match: match, source: source, ttl: ttl, intel: intel, into: names, at: point,
            atOnce: false, store: nameStore)
    }

    static func remember(
        _ address: IPAddress, name: String, match: PoolMatch?, source: NameSource, ttl: Double,
        intel: PoolIntelligence, into names: NameMemory, at point: InputPoint, atOnce: Bool, store: Int = 0
    ) {
        if intel.isAllowed(name: name) {
            names.insert(
                address, name: name, match: nil, source: source, ttl: ttl, at: point, atOnce: atOnce, store: store)
            return
        }
        guard let m = match ?? intel.pool(named: name) else { return }
        names.insert(address, name: name, match: m, source: source, ttl: ttl, at: point, atOnce: atOnce, store: store)
    }

    /// What the server of a flow is known as as of `point`, if that is a listed pool.
    /// `now`: the packet being processed (later than `point` for a flow that ends after its last packet).
    func hint(for server: Endpoint, asOf point: InputPoint, at now: InputPoint? = nil) -> PoolHint? {
        if let e = names.lookup(server.address, asOf: point, now: point.clock, at: now ?? point) {
            // An allow-listed name wins over the address lists too.
            guard let m = e.match else { return nil }
            return PoolHint(name: e.name, match: m, via: e.source)
        }
        if let m = intel.pool(at: server.address, port: server.port) {
            return PoolHint(name: nil, match: m, via: .addressList)
        }
        return nil
    }
}

/// The open flows of each host, so that a live snapshot looks only at the flows of the hosts that
/// changed. Two entries per flow, removed with the flow: bounded by the flow table.
struct OpenFlows {
    private var byHost: [IPAddress: [ObjectIdentifier: FlowState<FlowApp>]] = [:]

    mutating func add(_ flow: FlowState<FlowApp>) {
        let id = ObjectIdentifier(flow)
        byHost[flow.key.low.address, default: [:]][id] = flow
        byHost[flow.key.high.address, default: [:]][id] = flow
    }

    mutating func remove(_ flow: FlowState<FlowApp>) {
        let id = ObjectIdentifier(flow)
        for a in [flow.key.low.address, flow.key.high.address] {
            byHost[a]?[id] = nil
            if byHost[a]?.isEmpty == true { byHost[a] = nil }
        }
    }

    func flows(of host: IPAddress) -> Dictionary<ObjectIdentifier, FlowState<FlowApp>>.Values? { byHost[host]?.values }
}
