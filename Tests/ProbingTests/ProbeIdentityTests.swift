import Testing
@testable import Probing
import Stratum

@Suite struct ProbeIdentityTests {
    @Test func walletsAreWellFormed() {
        #expect(ProbeIdentity.moneroWallet.count == 95)
        #expect(WalletParsing.coin(forWallet: ProbeIdentity.moneroWallet) == "monero")
        #expect(WalletParsing.coin(forWallet: ProbeIdentity.bitcoinAddress) == "bitcoin")
        #expect(WalletParsing.coin(forWallet: ProbeIdentity.ethereumAddress) == "ethereum")
    }
}
