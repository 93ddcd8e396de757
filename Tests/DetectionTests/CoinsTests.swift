import Coins
import Testing

/// The one table of coins: what parsing, detection, reporting and the probe read.
@Suite struct CoinsTests {
    @Test func everyCoinIsNamedOnceAndItsAnswersComeFromTheTable() {
        #expect(Set(Coins.all.map(\.name)).count == Coins.all.count)
        // An algorithm belongs to one coin at most.
        let algorithms = Coins.all.flatMap(\.algorithms)
        #expect(Set(algorithms).count == algorithms.count)
        for coin in Coins.all {
            #expect(Coins.named(coin.name) == coin)
            for a in coin.algorithms { #expect(Coins.coin(forAlgorithm: a) == coin.name, "\(a)") }
            for k in coin.hostKeywords where k != "eth" {
                #expect(Coins.coin(forHostname: "eu1-\(k).pool.example") == coin.name, "\(k)")
            }
        }
        // Order matters: "etc" is tried before "eth"; "zec2" is zcash; an unknown label names nothing.
        #expect(Coins.coin(forHostname: "etc.2miners.com") == "ethereum-classic")
        #expect(Coins.coin(forHostname: "eth-eu.example.org") == "ethereum")
        #expect(Coins.coin(forHostname: "zec2.example") == "zcash")
        #expect(Coins.coin(forHostname: "pool.example.net") == nil)
        // RandomX and CryptoNight names no other coin claims are Monero's.
        #expect(Coins.coin(forAlgorithm: "RX/0") == "monero" && Coins.coin(forAlgorithm: "cn/r") == "monero")
        #expect(Coins.coin(forAlgorithm: "sha256d") == nil)
        #expect(Coins.unit(of: "zcash") == .solutions && Coins.unit(of: "beam") == .solutions)
        #expect(
            Coins.unit(of: "monero") == .hashes && Coins.unit(of: nil) == .hashes && Coins.unit(of: "nocoin") == .hashes
        )
        #expect(Coins.coin(forDialect: "cryptonote") == "monero" && Coins.coin(forDialect: "eth-proxy") == "ethereum")
        #expect(Coins.coin(forDialect: "stratum-v1") == nil)
    }

    @Test func walletShapes() {
        #expect(Coins.coin(forWallet: "0x" + String(repeating: "ab", count: 20)) == "ethereum")
        #expect(Coins.coin(forWallet: "0x" + String(repeating: "zz", count: 20)) == nil)
        #expect(Coins.coin(forWallet: "t1" + String(repeating: "a", count: 33)) == "zcash")
        #expect(Coins.coin(forWallet: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh") == "bitcoin")
        #expect(Coins.coin(forWallet: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == "bitcoin")
        #expect(Coins.coin(forWallet: "ltc1qabc") == "litecoin")
        #expect(Coins.coin(forWallet: "worker1") == nil)
    }
}
