import Detection
import OS
import PacketDecoding
import PoolIntel
import ProbeClient
import Probing

/// What `--probe` may ask, how often and how much (docs/probing.md "Probing": exactly what is sent).
public struct ProbePolicy: Sendable {
    /// Private, loopback, link-local and `--local-net` addresses are probed only when inside one of these.
    public var allow = AddressSet()
    /// Never probed.
    public var deny = AddressSet()
    /// The operator's own networks (`--local-net`): local like private addresses.
    public var localNets: AddressSet?
    /// Most probes per run (`analyze`) or per hour (`live`).
    public var maxProbes = 32
    /// Most probes started per second, over all servers.
    public var perSecond = 2.0
    /// Most ports probed on one address per run / hour (a host scanning many ports of one server
    /// does not make the sensor scan them too).
    public var maxPortsPerAddress = 4
    /// How long an answer is trusted before the server is asked again (seconds).
    public var ttl: Double = 6 * 3600
    public var settings = ProbeSettings()

    public init() {}

    /// Why `server` may not be probed, or nil when it may.
    public func refusal(_ server: IPAddress) -> String? {
        if deny.match(server) != nil { return "in --probe-deny" }
        if server.isPrivateOrLocal || localNets?.match(server) != nil, allow.match(server) == nil {
            return "a local or private address (allow it with --probe-allow)"
        }
        return nil
    }

}

/// Asks suspect servers whether they are pools, within `ProbePolicy`'s limits, and remembers the
/// answers (per address and port, for `ttl`). One probe at a time: a slow server delays the next,
/// it never multiplies them.
public final class ProbeScheduler {
    public let policy: ProbePolicy
    /// Every answer by server, with when it was asked.
    private var answers: [ProbeFacts.Server: Remembered] = [:]
    private var started: [Double] = []
    private var portsAsked: [IPAddress: Set<UInt16>] = [:]
    public private(set) var counters = Counters()
    /// Decided answers this scheduler got itself (not remembered ones), for the store.
    public private(set) var learned: [ProbeFact] = []
    /// Told one line per probe and per refusal (what was asked, what answered), for the log.
    private let note: (String) -> Void
    private let clock: () -> Double
    private let sleep: (Double) -> Void
    /// Asks one server (a real `Prober`; tests count calls instead).
    private let exchange: (_ host: String, _ port: UInt16, ProbeSettings) -> ProbeResult

    struct Remembered {
        var fact: ProbeFact?
        var at: Double
    }

    public struct Counters: Sendable, Equatable {
        public var probes = 0
        public var pools = 0
        public var notPools = 0
        public var undecided = 0
        public var cached = 0
        public var refusedLocal = 0
        public var refusedDenied = 0
        public var overLimit = 0
    }

    /// - Parameters: `clock` (seconds), `sleep` and `exchange` are the wall clock's and the network's;
    ///   tests pass their own.
    public init(
        policy: ProbePolicy, note: @escaping (String) -> Void = { _ in },
        clock: @escaping () -> Double = { Double(WallTime.now().nanoseconds) / 1e9 },
        sleep: @escaping (Double) -> Void = { OS.sleep(seconds: $0) },
        exchange: @escaping (_ host: String, _ port: UInt16, ProbeSettings) -> ProbeResult = { host, port, settings in
            Prober(settings: settings).probe(host: host, port: port)
        }
    ) {
        self.policy = policy
        self.note = note
        self.clock = clock
        self.sleep = sleep
        self.exchange = exchange
    }

    /// Facts remembered from before (the store's, another sensor's): not asked again within the TTL.
    public func remember(_ facts: [ProbeFact]) {
        for f in facts {
            let key = ProbeFacts.Server(f.server, f.port)
            let at = Double(f.at.nanoseconds) / 1e9
            if let old = answers[key], old.at >= at { continue }
            answers[key] = Remembered(fact: f, at: at)
        }
    }

    /// Every answer remembered, including ones from `remember`.
    public var facts: ProbeFacts { ProbeFacts(answers.values.compactMap(\.fact)) }

    /// Probes the servers the reports' evidence marks — most serious hosts first — and returns
    /// every fact known (new and remembered).
    public func probe(_ reports: [HostReport]) -> ProbeFacts {
        var queue: [(target: (server: IPAddress, port: UInt16), evidence: Evidence)] = []
        var queued: Set<ProbeFacts.Server> = []
        for r in reports {
            for e in r.evidence {
                guard let t = e.probeTarget, queued.insert(ProbeFacts.Server(t.server, t.port)).inserted else {
                    continue
                }
                queue.append((t, e))
            }
        }
        for (target, evidence) in queue { ask(target.server, target.port, for: evidence) }
        return facts
    }

    /// Asks one server unless a rule, the cache or a limit says not to.
    public func ask(_ server: IPAddress, _ port: UInt16, for evidence: Evidence) {
        let key = ProbeFacts.Server(server, port)
        let now = clock()
        if let known = answers[key], now - known.at < policy.ttl {
            counters.cached += 1
            return
        }
        if let why = policy.refusal(server) {
            if why.hasPrefix("in --probe-deny") { counters.refusedDenied += 1 } else { counters.refusedLocal += 1 }
            note("probe: not asking \(server.endpoint(port: port)): \(why)")
            return
        }
        started.removeAll { now - $0 >= 3600 }
        var ports = portsAsked[server] ?? []
        guard started.count < policy.maxProbes, ports.contains(port) || ports.count < policy.maxPortsPerAddress else {
            counters.overLimit += 1
            return
        }
        // The global rate: wait for the next slot.
        if let last = started.last, policy.perSecond > 0 {
            let wait = 1 / policy.perSecond - (now - last)
            if wait > 0 { sleep(wait) }
        }
        ports.insert(port)
        portsAsked[server] = ports
        started.append(clock())
        var settings = policy.settings
        // TLS flows are asked over TLS with the SNI the client sent; others in the clear first.
        let tls = [.tlsMiningCadence, .minerCertificate, .tlsToPool, .webSocketToPool].contains(evidence.kind)
        if tls && settings.transport == .auto { settings.transport = .tls }
        if tls, settings.sni == nil { settings.sni = evidence.details.sni }
        let result = exchange(server.description, port, settings)
        counters.probes += 1
        let fact = Self.fact(from: result, server: server, at: clock())
        switch fact?.answer {
        case .pool?: counters.pools += 1
        case .notPool?: counters.notPools += 1
        case nil: counters.undecided += 1
        }
        answers[key] = Remembered(fact: fact, at: clock())
        if let fact { learned.append(fact) }
        note("probe: \(result.sentence)" + (fact == nil ? " (decides nothing: the flags against it stand)" : ""))
    }

    /// A decided answer as a fact; nil when it decides nothing (unreachable, refused login, or
    /// silence: a pool of a dialect the probe does not speak may just close).
    static func fact(from r: ProbeResult, server: IPAddress, at: Double) -> ProbeFact? {
        let when = Timestamp(nanoseconds: Int64(at * 1e9))
        switch r.conclusion {
        case .pool(let a):
            return ProbeFact(
                server: server, port: r.port, answer: .pool, sentence: r.sentence, coin: a.coin, algorithm: a.algorithm,
                at: when)
        case .notPool(let reply):
            guard ![.silence, .closed].contains(reply.kind) else { return nil }
            return ProbeFact(server: server, port: r.port, answer: .notPool, sentence: r.sentence, at: when)
        case .unconfirmed, .unreachable:
            return nil
        }
    }
}
