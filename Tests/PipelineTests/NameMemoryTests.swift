import Detection
import PacketDecoding
import PoolIntel
import StreamReassembly
import Testing
import TrafficGen

@testable import Pipeline

/// docs/detection.md "Names for addresses": 65 536 addresses at most, oldest dropped first; DNS entries expire
/// with their TTL in packet time, SNI/Host after an hour; docs/architecture.md "Workers": what a lookup sees as of
/// a point in the input, whatever order workers learned names in.
@Suite struct NameMemoryTests {
    let match = PoolIntelligence().pool(named: "pool.supportxmr.com")!
    let t0 = Timestamp(seconds: 1_700_000_000)

    func at(_ seq: Int, _ seconds: Double) -> InputPoint { InputPoint(seq: seq, clock: t0.adding(seconds: seconds)) }

    @Test func entriesExpireWithTheirTTLInPacketTime() {
        let names = NameMemory(capacity: 8, delay: 1)
        let a = IPAddress("198.51.100.1")!
        names.insert(
            a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 300, at: at(1, 0), atOnce: true)
        #expect(names.lookup(a, asOf: at(2, 0), now: t0.adding(seconds: 300))?.name == "pool.supportxmr.com")
        #expect(names.lookup(a, asOf: at(2, 0), now: t0.adding(seconds: 301)) == nil)
        // A TTL of 0 still names the address for the connection that follows at once (1 s at least).
        names.insert(
            a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 0, at: at(3, 0), atOnce: true)
        #expect(names.lookup(a, asOf: at(4, 0), now: t0.adding(seconds: 1)) != nil)
        #expect(names.lookup(a, asOf: at(4, 0), now: t0.adding(seconds: 2)) == nil)
        // A fresh answer renews the entry.
        names.insert(
            a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 60, at: at(5, 1000), atOnce: true)
        #expect(names.lookup(a, asOf: at(6, 1000), now: t0.adding(seconds: 1059)) != nil)
    }

    @Test func theOldestAddressGoesFirstAtCapacity() {
        let names = NameMemory(capacity: 3, delay: 1)
        let addresses = (1...4).map { IPAddress("198.51.100.\($0)")! }
        for (i, a) in addresses.enumerated() {
            names.insert(
                a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, at: at(i + 1, 0),
                atOnce: true)
        }
        let later = at(100, 0)
        #expect(names.lookup(addresses[0], asOf: later, now: t0) == nil)
        #expect(addresses[1...].allSatisfy { names.lookup($0, asOf: later, now: t0) != nil })
        #expect(names.evictions == 1)
        // Renewing an address does not make it a second insertion: the next victim is still .2.
        names.insert(
            addresses[1], name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, at: at(10, 0),
            atOnce: true)
        names.insert(
            IPAddress("198.51.100.9")!, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600,
            at: at(11, 0), atOnce: true)
        #expect(
            names.lookup(addresses[1], asOf: later, now: t0) == nil
                && names.lookup(addresses[2], asOf: later, now: t0) != nil)
    }

    /// A full part forgets its oldest address as of the insertion that pushed it out, for the lookups
    /// that know of that insertion: a lookup before it still finds the name, however late it is made
    /// (a worker behind the reader), until no lookup can be that early any more (`purge`).
    @Test func aForgottenNameIsGoneOnlyForLookupsThatKnowWhy() {
        let names = NameMemory(capacity: 2, delay: 1, delayPackets: 2, stores: 2)  // 1 for the reader, 1 for a shard
        let a = IPAddress("198.51.100.21")!
        let b = IPAddress("198.51.100.22")!
        names.insert(
            a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, at: at(1, 0), atOnce: true)
        names.insert(
            b, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, at: at(5, 0), atOnce: true)
        #expect(names.evictions == 1)
        #expect(names.lookup(a, asOf: at(3, 0), now: t0, at: at(5, 0)) != nil, "packet 5 is not before 5")
        #expect(names.lookup(a, asOf: at(3, 0), now: t0, at: at(6, 0)) == nil)
        #expect(names.lookup(b, asOf: at(6, 0), now: t0) != nil)
        names.purge(lowWater: at(5, 0))
        #expect(names.lookup(a, asOf: at(3, 0), now: t0, at: at(5, 0)) != nil, "kept while a lookup at 5 may come")
        names.purge(lowWater: at(6, 0))
        #expect(names.lookup(a, asOf: at(3, 0), now: t0, at: at(5, 0)) == nil, "purged")
        // A shard's part: what it forgot counts only once it is settled (both delays), like its names.
        let c = IPAddress("198.51.100.23")!
        let d = IPAddress("198.51.100.24")!
        names.insert(
            c, name: "pool.supportxmr.com", match: match, source: .earlierSNI, ttl: 3600, at: at(10, 1), atOnce: false,
            store: 1)
        names.insert(
            d, name: "pool.supportxmr.com", match: match, source: .earlierSNI, ttl: 3600, at: at(20, 2), atOnce: false,
            store: 1)
        #expect(names.lookup(c, asOf: at(15, 2), now: t0, at: at(21, 3)) != nil)
        #expect(names.lookup(c, asOf: at(15, 2), now: t0, at: at(22, 3)) == nil)
    }

    /// The reader's DNS names are seen by the very next packet; names a worker learns inside a flow
    /// only a second of packet time and `delayPackets` packets later — both — and never by a lookup
    /// before the packet that taught them.
    @Test func whatALookupSeesDependsOnlyOnItsPointInTheInput() {
        let names = NameMemory(capacity: 8, delay: 1, delayPackets: 2)
        let a = IPAddress("198.51.100.7")!
        names.insert(
            a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, at: at(10, 5), atOnce: true)
        #expect(names.lookup(a, asOf: at(10, 5), now: t0) == nil)
        #expect(names.lookup(a, asOf: at(11, 5), now: t0)?.source == .dnsAnswer)
        let b = IPAddress("198.51.100.8")!
        names.insert(
            b, name: "pool.supportxmr.com", match: match, source: .earlierSNI, ttl: 3600, at: at(20, 5), atOnce: false)
        #expect(names.lookup(b, asOf: at(21, 5.999), now: t0) == nil)
        #expect(names.lookup(b, asOf: at(22, 6), now: t0)?.source == .earlierSNI)
        // A second later but only one packet later (a sparse capture): not yet; many packets later
        // but within the second (a dense one): not yet either.
        let c = IPAddress("198.51.100.6")!
        names.insert(
            c, name: "pool.supportxmr.com", match: match, source: .earlierSNI, ttl: 3600, at: at(30, 5), atOnce: false)
        #expect(names.lookup(c, asOf: at(31, 60), now: t0) == nil)
        #expect(names.lookup(c, asOf: at(1000, 5.5), now: t0) == nil)
        #expect(names.lookup(c, asOf: at(32, 6), now: t0)?.source == .earlierSNI)
    }

    /// Two workers learn two names for one address in either order: every lookup gets the same answer.
    @Test func versionsLearnedOutOfOrderAnswerAsInInputOrder() {
        let other = PoolIntelligence().pool(named: "xmr.nanopool.org")!
        let a = IPAddress("198.51.100.9")!
        var answers: [[String?]] = []
        for reversed in [false, true] {
            let names = NameMemory(capacity: 8, delay: 1, delayPackets: 1)
            var inserts = [(at(10, 1), "pool.supportxmr.com", match), (at(30, 3), "xmr.nanopool.org", other)]
            if reversed { inserts.reverse() }
            for (p, n, m) in inserts {
                names.insert(a, name: n, match: m, source: .earlierSNI, ttl: 3600, at: p, atOnce: false)
            }
            answers.append(
                [at(11, 1.5), at(25, 2.5), at(31, 3.5), at(40, 4.5)].map { names.lookup(a, asOf: $0, now: t0)?.name })
        }
        #expect(answers[0] == [nil, "pool.supportxmr.com", "pool.supportxmr.com", "xmr.nanopool.org"])
        #expect(answers[1] == answers[0])
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        #expect(Limits().maxNameCacheEntries == 65_536)
        #expect(Limits().learnedNameSeconds == 3600)
        #expect(Limits().protocols[DNSCaps.self].minNameSeconds == 600)
        #expect(Limits().learnedNameDelay == 1)
        #expect(Limits().learnedNamePackets == 16_384)
    }

    func runState() -> RunState {
        RunState(
            limits: Limits(), intel: PoolIntelligence(), policy: .init(),
            names: NameMemory(capacity: 64, delay: 1, delayPackets: 1), onEvent: nil)
    }

    @Test func sniAndHostNamesLastAnHour() {
        // With the dispatcher's TTL for SNI and Host names: the address is named for 3600 s.
        let runState = runState()
        let a = IPAddress("198.51.100.60")!
        runState.remember(
            a, name: "gulf.moneroocean.stream", source: .earlierSNI, ttl: runState.limits.learnedNameSeconds,
            at: at(1, 0))
        let server = Endpoint(address: a, port: 443)
        #expect(runState.hint(for: server, asOf: at(2, 3600))?.via == .earlierSNI)
        #expect(runState.hint(for: server, asOf: at(2, 3601)) == nil)
        // An unlisted name is not kept; an allow-listed one is kept only to say "sanctioned".
        runState.remember(IPAddress("192.0.2.1")!, name: "example.org", source: .dnsAnswer, ttl: 3600, at: at(1, 0))
        #expect(runState.names.lookup(IPAddress("192.0.2.1")!, asOf: at(3, 10), now: t0) == nil)
    }

    /// A DNS answer with TTL 0 still names the address for `DNSCaps.minNameSeconds`: the miner caches it.
    @Test func dnsAnswersNameTheirAddressesAtLeastTenMinutes() {
        let runState = runState()
        let answer = Wire.dnsAnswer(id: 1, name: "pool.supportxmr.com", addresses: ["198.51.100.100"], ttl: 0)
        _ = answer.withUnsafeBytes {
            DNSAnalyzer.learnAtOnce(
                $0,
                DatagramReader(
                    source: Endpoint(address: IPAddress("192.0.2.53")!, port: 53),
                    destination: Endpoint(address: IPAddress("10.0.0.5")!, port: 40000), intel: runState.intel,
                    limits: runState.limits, names: runState.names, point: at(1, 0)))
        }
        let server = Endpoint(address: IPAddress("198.51.100.100")!, port: 3333)
        #expect(runState.hint(for: server, asOf: at(2, 590))?.via == .dnsAnswer)
        #expect(runState.hint(for: server, asOf: at(2, 601)) == nil)
    }
}
