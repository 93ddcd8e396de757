import Testing
import Detection
@testable import Pipeline
import PacketDecoding
import PoolIntel
import StreamReassembly
import TrafficGen

/// README "Names for addresses": 65 536 addresses at most, oldest dropped first; DNS entries expire
/// with their TTL in packet time, SNI/Host after an hour.
@Suite struct NameCacheTests {
    let match = PoolIntelligence().pool(named: "pool.supportxmr.com")!
    let t0 = Timestamp(seconds: 1_700_000_000)

    @Test func entriesExpireWithTheirTTLInPacketTime() {
        var cache = NameCache(capacity: 8)
        let a = IPAddress("198.51.100.1")!
        cache.insert(a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 300, now: t0)
        #expect(cache.lookup(a, now: t0.adding(seconds: 300))?.name == "pool.supportxmr.com")
        #expect(cache.lookup(a, now: t0.adding(seconds: 301)) == nil)
        // A TTL of 0 still names the address for the connection that follows at once (1 s at least).
        cache.insert(a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 0, now: t0)
        #expect(cache.lookup(a, now: t0.adding(seconds: 1)) != nil)
        #expect(cache.lookup(a, now: t0.adding(seconds: 2)) == nil)
        // A fresh answer renews the entry.
        cache.insert(a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 60, now: t0.adding(seconds: 1000))
        #expect(cache.lookup(a, now: t0.adding(seconds: 1059)) != nil)
    }

    @Test func theOldestInsertionGoesFirstAtCapacity() {
        var cache = NameCache(capacity: 3)
        let addresses = (1...4).map { IPAddress("198.51.100.\($0)")! }
        for a in addresses { cache.insert(a, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, now: t0) }
        #expect(cache.lookup(addresses[0], now: t0) == nil)
        #expect(addresses[1...].allSatisfy { cache.lookup($0, now: t0) != nil })
        #expect(cache.evictions == 1)
        // Renewing an address does not make it a second insertion: the next victim is still .2.
        cache.insert(addresses[1], name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, now: t0)
        cache.insert(IPAddress("198.51.100.9")!, name: "pool.supportxmr.com", match: match, source: .dnsAnswer, ttl: 3600, now: t0)
        #expect(cache.lookup(addresses[1], now: t0) == nil && cache.lookup(addresses[2], now: t0) != nil)
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        #expect(Limits().maxNameCacheEntries == 65_536)
        #expect(Limits().learnedNameSeconds == 3600)
        #expect(Limits().minDNSNameSeconds == 600)
    }

    @Test func sniAndHostNamesLastAnHour() {
        // With the dispatcher's TTL for SNI and Host names: the address is named for 3600 s.
        let intel = PoolIntelligence()
        let sink = Sink(limits: Limits(), intel: intel, policy: .init(), onEvent: nil)
        let a = IPAddress("198.51.100.60")!
        sink.remember(a, name: "gulf.moneroocean.stream", source: .earlierSNI, ttl: sink.limits.learnedNameSeconds, now: t0)
        let server = Endpoint(address: a, port: 443)
        #expect(sink.hint(for: server, now: t0.adding(seconds: 3600))?.via == .earlierSNI)
        #expect(sink.hint(for: server, now: t0.adding(seconds: 3601)) == nil)
        // An unlisted name is not kept; an allow-listed one is kept only to say "sanctioned".
        sink.remember(IPAddress("192.0.2.1")!, name: "example.org", source: .dnsAnswer, ttl: 3600, now: t0)
        #expect(sink.names.lookup(IPAddress("192.0.2.1")!, now: t0) == nil)
    }

    /// A DNS answer with TTL 0 still names the address for `minDNSNameSeconds`: the miner caches it.
    @Test func dnsAnswersNameTheirAddressesAtLeastTenMinutes() {
        let sink = Sink(limits: Limits(), intel: PoolIntelligence(), policy: .init(), onEvent: nil)
        let answer = Wire.dnsAnswer(id: 1, name: "pool.supportxmr.com", addresses: ["198.51.100.100"], ttl: 0)
        answer.withUnsafeBytes {
            DNSAnalyzer.message($0, from: Endpoint(address: IPAddress("10.0.0.1")!, port: 53),
                                to: Endpoint(address: IPAddress("10.0.0.81")!, port: 40000), time: t0, shared: sink)
        }
        let server = Endpoint(address: IPAddress("198.51.100.100")!, port: 3333)
        #expect(sink.hint(for: server, now: t0.adding(seconds: 590))?.via == .dnsAnswer)
        #expect(sink.hint(for: server, now: t0.adding(seconds: 601)) == nil)
    }
}
