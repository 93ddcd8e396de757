import PacketDecoding
import Testing

@testable import PoolIntel

@Suite struct PoolListTests {
    @Test func builtinListParsesCleanlyWithoutDuplicates() {
        let parsed = ListParser.parse(PoolIntelligence.builtinList, name: "built-in")
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        #expect(parsed.domains.count >= 200)
        let names = parsed.domains.map { $0.0.lowercased() }
        #expect(
            Set(names).count == names.count,
            "duplicates: \(Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys)")
        #expect(PoolIntelligence().warnings.isEmpty)
    }

    /// The reader's fast test (`mayName`) never says no where the lists say yes: every built-in entry,
    /// under a subdomain and in capitals, and an allow-listed name; and it says no for ordinary names.
    @Test func aNameTheListsHoldIsNeverRuledOutByItsTail() {
        var intel = PoolIntelligence()
        intel.add(allowList: "pool.example-corp.test\n", name: "allow")
        let parsed = ListParser.parse(PoolIntelligence.builtinList, name: "built-in")
        func tail(_ name: String) -> String { name.split(separator: ".").suffix(2).joined(separator: ".") }
        func may(_ name: String) -> Bool {
            Array(tail(name).utf8).withUnsafeBytes { intel.mayName(tail: $0) }
        }
        for (domain, _) in parsed.domains {
            for name in [domain, "xmr-eu1." + domain, ("A." + domain).uppercased()] {
                if intel.pool(named: name) != nil || intel.isAllowed(name: name) { #expect(may(name), "\(name)") }
            }
        }
        #expect(intel.isAllowed(name: "pool.example-corp.test") && may("pool.example-corp.test"))
        for name in ["www.example.com", "mail.google.com", "cdn.cloudflare.net", "printer.local"] {
            #expect(!may(name), "\(name)")
        }
    }

    @Test func suffixMatchingOnLabelBoundaries() {
        let intel = PoolIntelligence()
        let m = intel.pool(named: "XMR-EU1.Nanopool.org.")
        #expect(m?.matched == "nanopool.org")
        #expect(m?.name == "xmr-eu1.nanopool.org")
        #expect(m?.entry.coins.contains("monero") == true)
        #expect(intel.pool(named: "notnanopool.org") == nil)
        // Looked-up names follow the same rule as list entries: no empty or over-long labels.
        #expect(intel.pool(named: "a..nanopool.org") == nil)
        #expect(intel.pool(named: String(repeating: "x", count: 64) + ".nanopool.org") == nil)
        #expect(DomainSet.normalise("*.Pool.Example.") == "pool.example")
        #expect(DomainSet.normalise("bad name.example") == nil)
        #expect(intel.pool(named: "www.google.com") == nil)
        #expect(intel.pool(named: "coinhive.com")?.entry.kind == .webMiner)
        #expect(intel.pool(named: "stratum.nicehash.com")?.entry.kind == .marketplace)
        // The most specific entry wins.
        #expect(intel.pool(named: "eu1-zcash.flypool.org")?.matched == "flypool.org")
        #expect(intel.pool(named: "zcash.flypool.org")?.entry.singleCoin == "zcash")
    }

    @Test func everyListFormat() {
        let text = """
            # a comment
            ! adblock comment
            [Adblock Plus 2.0]

            plain.example
            0.0.0.0 hosts.example other.example   # trailing comment
            127.0.0.1 localhost
            ||adblock.example^
            ||adblock-opts.example^$third-party
            192.0.2.7
            198.51.100.0/24
            203.0.113.5:3333
            [2001:db8::1]:443
            2001:db8:ff::/48
            kinded.example web-miner monero,aeon
            bad..name
            300.1.1.1/8
            ||example.com/path^
            x.example nonsense-kind
            """
        let p = ListParser.parse(text, name: "list.txt")
        #expect(
            p.domains.map(\.0) == [
                "plain.example", "hosts.example", "other.example", "adblock.example", "adblock-opts.example",
                "kinded.example"
            ])
        #expect(p.domains.last?.1.kind == .webMiner)
        #expect(p.domains.last?.1.coins == ["monero", "aeon"])
        #expect(
            p.blocks.map(\.0.description) == [
                "192.0.2.7", "198.51.100.0/24", "203.0.113.5:3333", "[2001:db8::1]:443", "2001:db8:ff::/48"
            ])
        #expect(p.errors.count == 4)
        #expect(p.errors[0].hasPrefix("list.txt:16: "))
        #expect(p.errors[1].hasPrefix("list.txt:17: "))
        #expect(p.domains[0].1.source == "list.txt:5")
    }

    @Test func addressBlocksWithPorts() {
        var intel = PoolIntelligence(builtin: false)
        intel.add(poolList: "198.51.100.0/24\n203.0.113.5:3333\n2001:db8::/32\n", name: "l")
        #expect(intel.pool(at: IPAddress("198.51.100.77")!, port: 80)?.entry.source == "l:1")
        #expect(intel.pool(at: IPAddress("198.51.101.1")!, port: 80) == nil)
        #expect(intel.pool(at: IPAddress("203.0.113.5")!, port: 3333) != nil)
        #expect(intel.pool(at: IPAddress("203.0.113.5")!, port: 3334) == nil)
        #expect(intel.pool(at: IPAddress("2001:db8:1::9")!, port: 1) != nil)
        #expect(intel.pool(at: IPAddress("2001:db9::9")!, port: 1) == nil)
    }

    @Test func allowListWins() {
        var intel = PoolIntelligence()
        intel.add(allowList: "||pool.supportxmr.com^\n198.51.100.9\n", name: "allow")
        intel.add(poolList: "198.51.100.0/24\n", name: "pools")
        #expect(intel.pool(named: "pool.supportxmr.com") == nil)
        #expect(intel.pool(named: "other.supportxmr.com") != nil)
        #expect(intel.pool(at: IPAddress("198.51.100.9")!, port: 1) == nil)
        #expect(intel.pool(at: IPAddress("198.51.100.8")!, port: 1) != nil)
        #expect(intel.isAllowed(IPAddress("198.51.100.9")!))
    }
}

@Suite struct MinerCatalogTests {
    @Test(arguments: [
        ("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.3.0", "XMRig", "6.21.0"),
        ("xmr-stak-cpu/1.3.0-1.5.0", "xmr-stak", "1.3.0-1.5.0"),
        ("cgminer/4.10.0", "cgminer", "4.10.0"),
        ("EWBF's CUDA Zcash Miner 0.3.4b", "EWBF", "0.3.4b"),
        ("PhoenixMiner/6.2c", "PhoenixMiner", "6.2c"),
        ("lolMiner 1.76", "lolMiner", "1.76"),
        ("T-Rex/0.26.8", "T-Rex", "0.26.8"),
        ("bfgminer/5.5.0", "bfgminer", "5.5.0")
    ])
    func identifies(agent: String, name: String, version: String) {
        let s = MinerCatalog.identify(agent)
        #expect(s?.name == name)
        #expect(s?.version == version)
    }

    @Test func ordinaryAgentsAreNotMiners() {
        for a in [
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "curl/8.5.0", "python-requests/2.31", "bigxmrigfan",
            "Go-http-client/1.1"
        ] {
            #expect(MinerCatalog.identify(a) == nil, "\(a)")
        }
    }
}
