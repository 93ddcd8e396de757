import Coins
import CryptoP2P
import Stratum
import Testing

@testable import Probing

@Suite struct ProbeIdentityTests {
    @Test func walletsAreWellFormed() {
        #expect(ProbeIdentity.moneroWallet.count == 95)
        #expect(ProbeIdentity.moneroWallet.hasPrefix("4"))
        #expect(Coins.coin(forWallet: ProbeIdentity.moneroWallet) == "monero")
        #expect(Coins.coin(forWallet: ProbeIdentity.bitcoinAddress) == "bitcoin")
        #expect(Coins.coin(forWallet: ProbeIdentity.ethereumAddress) == "ethereum")
    }

    /// WebSocket dialects: one masked text frame per message, which the traffic decoder reads back.
    @Test func webSocketFramesReadBack() {
        for dialect in ProbeDialect.allCases where dialect.overWebSocket {
            let (lines, closed) = WebSocketAnswer.lines(dialect.request[...])
            #expect(!closed)
            #expect(String(decoding: lines, as: UTF8.self) == dialect.requestLines.map { $0 + "\n" }.joined())
        }
        let long = String(repeating: "x", count: 300)
        #expect(WebSocketAnswer.lines(WebSocketFrame.text(long)[...]).bytes.count == 301)
        let upgrade = String(decoding: ProbeDialect.upgradeRequest(host: "pool.example:8080"), as: UTF8.self)
        #expect(upgrade.hasPrefix("GET / HTTP/1.1\r\nHost: pool.example:8080\r\n") && upgrade.hasSuffix("\r\n\r\n"))
    }

    /// Known vectors: Bitcoin's base58 (the genesis block's address) and CryptoNote's block sizes.
    @Test func base58Vectors() {
        let genesisHash160: [UInt8] = [
            0x62, 0xe9, 0x07, 0xb1, 0x5c, 0xbf, 0x27, 0xd5, 0x42, 0x53, 0x99, 0xeb, 0xf6, 0xf0, 0xfb, 0x50, 0xeb, 0xb8,
            0x8f, 0x18
        ]
        #expect(Base58.encode([0] + genesisHash160 + [0xc2, 0x9b, 0x7d, 0x93]) == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
        #expect(CryptoNoteBase58.encode([UInt8](repeating: 0, count: 69)).count == 95)
        #expect(CryptoNoteBase58.encode([0xFF]) == "5Q")
        #expect(CryptoNoteBase58.encode([UInt8](repeating: 0xFF, count: 8)) == "jpXCZedGfVQ")
    }

    @Test func stratumV2AsksForAChannelAndNeverSubmits() {
        let requests = StratumV2Probe.requests(host: "192.0.2.1", port: 34254)
        #expect(requests.map(\.type) == [StratumV2Session.setupConnection, StratumV2Session.openStandardChannel])
        #expect(
            !requests.contains {
                [StratumV2Session.submitSharesStandard, StratumV2Session.submitSharesExtended].contains($0.type)
            })
        // SetupConnection: protocol 0, versions 2..2, then the endpoint as STR0_255 + U16.
        #expect(Array(requests[0].payload.prefix(9)) == [0, 2, 0, 2, 0, 1, 0, 0, 0])
        #expect(Array(requests[0].payload[9..<19]) == [9] + Array("192.0.2.1".utf8))
        // The channel's user is the throwaway Bitcoin address.
        #expect(
            String(decoding: requests[1].payload[5..<(5 + Int(requests[1].payload[4]))], as: UTF8.self) == ProbeIdentity
                .bitcoinAddress + ".probe")
    }

    @Test func requestsAreOneJSONLineEach() {
        for dialect in ProbeDialect.allCases where !dialect.overWebSocket && !dialect.isBinary {
            let text = String(decoding: dialect.request, as: UTF8.self)
            #expect(text.hasSuffix("\n"))
            #expect(text.split(separator: "\n").count == dialect.requestLines.count)
            #expect(!text.contains("submit\""), "never a share")
            #expect(!text.contains("mining.submit"))
        }
    }
}
