import Detection
import Foundation
import Locking
import OS
import PacketDecoding
import Store

/// `live --probe`: the servers each commit's reports mark go to one prober thread (a bounded queue:
/// a flood of suspect flows drops the oldest, it never grows), which asks them within the policy's
/// limits; each answer re-judges, at the next commit, every host whose flows go to that server.
/// With a store, answers are written for the fleet and every sensor's recent answers are known
/// from the start.
public final class LiveProber: Sendable {
    struct Target: Sendable {
        var server: IPAddress
        var port: UInt16
        var evidence: Evidence
    }
    struct Shared {
        var facts = ProbeFacts()
        /// Servers queued or asked, with when (wall clock, s): each goes to the prober again only
        /// after an answer's lifetime, so a server that once said nothing is asked again later.
        var seen: [ProbeFacts.Server: Double] = [:]
        /// Hosts whose flows go to each server, to re-judge when its answer comes.
        var hostsOf: [ProbeFacts.Server: Set<IPAddress>] = [:]
        var rejudge: Set<IPAddress> = []
        var counters = ProbeScheduler.Counters()
    }

    /// Servers waiting for the prober at most (older ones dropped when more come).
    static let queueCapacity = 256
    /// Servers remembered as queued or asked before the memory is cleared.
    static let maxServers = 65_536
    /// Hosts remembered per server (to re-judge them).
    static let hostsPerServer = 1024

    private let queue = BoundedQueue<Target>(capacity: LiveProber.queueCapacity)
    private let shared = Locked(Shared())
    /// Touched by the prober thread only (the lock makes that checkable).
    private let scheduler: Locked<ProbeScheduler>
    private let done = DispatchSemaphore(value: 0)
    private let ttl: Double
    /// False: a sensor of a fleet without `--probe` — it never asks, it judges with the answers other
    /// sensors wrote to the store (`learn`).
    public let asks: Bool

    /// - Parameters:
    ///   - asks: ask the servers the reports mark (`--probe`); false only listens to the store.
    ///   - known: answers from the store (every sensor's, recent).
    ///   - learned: called on the prober thread with each decided answer (to store it).
    public init(
        policy: ProbePolicy, asks: Bool = true, known: [ProbeFact], note: @escaping @Sendable (String) -> Void,
        learned: @escaping @Sendable (ProbeFact) -> Void
    ) {
        ttl = policy.ttl
        self.asks = asks
        let scheduler = ProbeScheduler(policy: policy, note: note)
        scheduler.remember(known)
        self.scheduler = Locked(scheduler)
        shared.withLock { $0.facts = ProbeFacts(known) }
        let queue = self.queue
        let shared = self.shared
        let locked = self.scheduler
        let done = self.done
        guard asks else {
            done.signal()
            return
        }
        Thread {
            while let t = queue.pop() {
                let (fact, counters) = locked.withLock { s in
                    s.ask(t.server, t.port, for: t.evidence)
                    return (s.facts[t.server, t.port], s.counters)
                }
                if let fact { learned(fact) }
                shared.withLock { s in
                    s.counters = counters
                    if let fact {
                        s.facts.add(fact)
                        s.rejudge.formUnion(s.hostsOf[ProbeFacts.Server(t.server, t.port)] ?? [])
                    }
                }
            }
            done.signal()
        }.start()
    }

    public var counters: ProbeScheduler.Counters { shared.withLock { $0.counters } }
    /// Servers dropped from the queue because more came than the prober could ask.
    public var dropped: Int { queue.dropped }

    /// The reports judged with every answer so far; the servers they mark that nobody asked yet are
    /// queued for the prober. Called on the committing thread; never waits for the network.
    public func judge(_ reports: [HostReport]) -> [HostReport] {
        let now = Double(WallTime.now().nanoseconds) / 1e9
        let facts = shared.withLock { s in
            // A flood of suspect servers: forget who was queued (the scheduler's limits and cache still hold).
            if s.seen.count >= Self.maxServers {
                s.seen = [:]
                s.hostsOf = [:]
            }
            for r in reports {
                for e in r.evidence {
                    guard let t = e.probeTarget else { continue }
                    let key = ProbeFacts.Server(t.server, t.port)
                    if s.hostsOf[key, default: []].count < Self.hostsPerServer {
                        s.hostsOf[key, default: []].insert(r.host)
                    }
                    if !asks { continue }
                    if let asked = s.seen[key], now - asked < ttl { continue }
                    s.seen[key] = now
                    queue.push(Target(server: t.server, port: t.port, evidence: e))
                }
            }
            return s.facts
        }
        return facts.isEmpty ? reports : reports.map { $0.rejudged(with: facts) }
    }

    /// Answers other sensors wrote to the store since the last read: known from now on, and every
    /// host whose flows go to one of those servers is judged again at the next commit.
    public func learn(_ facts: [ProbeFact]) {
        guard !facts.isEmpty else { return }
        shared.withLock { s in
            for fact in facts {
                if let current = s.facts[fact.server, fact.port], current.at >= fact.at { continue }
                s.facts.add(fact)
                s.rejudge.formUnion(s.hostsOf[ProbeFacts.Server(fact.server, fact.port)] ?? [])
            }
        }
    }

    /// Hosts to judge again at the next commit: an answer about a server their flows go to has come.
    public func takeHostsToRejudge() -> Set<IPAddress> {
        shared.withLock { s in
            defer { s.rejudge = [] }
            return s.rejudge
        }
    }

    /// Stops the prober after the server it is asking (if any), waiting at most `seconds`.
    public func stop(within seconds: Double) {
        queue.close()
        _ = done.wait(timeout: .now() + seconds)
    }
}
