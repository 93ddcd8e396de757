import PacketDecoding

/// Message shapes real miners and pools send (taken from the captures in ../shared/pcaps and
/// the miners' protocol documentation), and the scripted captures built from them.
public enum Messages {
    public static let moneroWallet =
        "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD"
    public static let xmrigAgent = "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0"

    public static func xmrigLogin(id: Int = 1, wallet: String = moneroWallet, rig: String = "rig-07") -> String {
        #"{"id":\#(id),"jsonrpc":"2.0","method":"login","params":{"login":"\#(wallet)","pass":"x","agent":"\#(xmrigAgent)","algo":["rx/0","cn/r","cn/half"],"rigid":"\#(rig)"}}"#
    }
    public static func cnJob(_ n: Int, target: String = "dc460300") -> String {
        #"{"blob":"0c0cd8bbc1a706\#(String(format8(n)))a1d2e3f4051627384950617283940a1b2c3d4e5f60718293a4b5c6d7e8f90000000052f5e8d1a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b04","job_id":"j\#(n)","target":"\#(target)","algo":"rx/0","height":\#(3_001_000 + n),"seed_hash":"2b1e7e4a9d0b8c1f3e6a5d4c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a"}"#
    }
    public static func cnLoginResult(id: Int = 1, job: Int = 1) -> String {
        #"{"id":\#(id),"jsonrpc":"2.0","error":null,"result":{"id":"4790595468","job":\#(cnJob(job)),"extensions":["algo","nicehash","connect","tls","keepalive"],"status":"OK"}}"#
    }
    public static func cnJobPush(_ n: Int) -> String { #"{"jsonrpc":"2.0","method":"job","params":\#(cnJob(n))}"# }
    public static func cnSubmit(id: Int, job: Int, nonce: Int) -> String {
        #"{"id":\#(id),"jsonrpc":"2.0","method":"submit","params":{"id":"4790595468","job_id":"j\#(job)","nonce":"\#(format8(nonce))","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100","algo":"rx/0"}}"#
    }
    public static func cnOK(id: Int) -> String {
        #"{"id":\#(id),"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}"#
    }
    public static func cnReject(id: Int) -> String {
        #"{"id":\#(id),"jsonrpc":"2.0","error":{"code":-1,"message":"Low difficulty share"}}"#
    }

    public static let btcWallet = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    public static func v1Subscribe(agent: String = "cgminer/4.10.0") -> String {
        #"{"id": 1, "method": "mining.subscribe", "params": ["\#(agent)"]}"#
    }
    public static let v1SubscribeResult =
        #"{"id":1,"result":[[["mining.set_difficulty","b4b6693b72a50c7116db18d6497cac52"],["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4],"error":null}"#
    public static func v1Authorize(user: String) -> String {
        #"{"id": 2, "method": "mining.authorize", "params": ["\#(user)", "x"]}"#
    }
    public static let v1AuthorizeOK = #"{"id":2,"result":true,"error":null}"#
    public static func v1SetDifficulty(_ d: Int) -> String {
        #"{"id":null,"method":"mining.set_difficulty","params":[\#(d)]}"#
    }
    public static func v1Notify(_ n: Int) -> String {
        #"{"id":null,"method":"mining.notify","params":["\#(String(n, radix: 16))","4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008","072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",["cd2e3f7e0a4e0b6c4a2f6f8c6d2e1a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"],"20000000","1703a30c","5f5e10\#(String(twoDigits: n % 100))",true]}"#
    }
    public static func v1Submit(id: Int, user: String, job: Int, nonce: Int) -> String {
        #"{"params": ["\#(user)", "\#(String(job, radix: 16))", "00000001", "5f5e1001", "\#(format8(nonce))"], "id": \#(id), "method": "mining.submit"}"#
    }
    public static func v1Result(id: Int, ok: Bool) -> String {
        ok
            ? #"{"id":\#(id),"result":true,"error":null}"#
            : #"{"id":\#(id),"result":null,"error":[23,"Low difficulty share",null]}"#
    }

    public static let ethWallet = "0x9c99d212f7e5daa18ab50810e0fd255d1f04303b"
    public static func ethLogin(worker: String = "eth1.0") -> String {
        #"{"worker": "\#(worker)", "jsonrpc": "2.0", "params": ["\#(ethWallet)/rig2", "x"], "id": 2, "method": "eth_submitLogin"}"#
    }
    public static func ethWork(_ n: Int) -> String {
        #"{"jsonrpc":"2.0","id":0,"result":["0x\#(String(repeating: String(twoDigits: n % 10), count: 64))","0x71a56feffb6f10ea9d76e1a9464eb0abd86e4349ae98fb794923a65b650282a3","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}"#
    }

    static func format8(_ n: Int) -> String {
        let h = String(UInt32(truncatingIfNeeded: n &* 2_654_435_761), radix: 16)
        return String(repeating: "0", count: 8 - h.count) + h
    }
}

extension String {
    /// Zero-padded to two digits (not Foundation's printf-style `String(twoDigits:)`).
    init(twoDigits n: Int) { self = n < 10 ? "0\(n)" : String(n) }
}

/// One generated capture: file name, what it holds, and the expected verdicts.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    /// Expected verdict per host ("ip": "verdict"); hosts not listed must not be flagged.
    public var expected: [String: String]
    public var build: @Sendable () -> [UInt8]
}

/// The project's own captures (regenerated into `pcaps/` by `scripts/gen-pcaps`).
public enum Corpus {
    static let t0 = Timestamp(seconds: 1_732_000_000)

    public static let all: [Scenario] = stratumScenarios + evidenceScenarios + proxyScenarios

    static let stratumScenarios: [Scenario] = [
        Scenario(
            name: "xmrig-cryptonote.pcap",
            description:
                "XMRig 6.21 logs in to a Monero pool on port 443 (CryptoNote login/job/submit/keepalived), 6 shares (1 rejected), 3 job pushes, clean close.",
            expected: ["10.0.0.5": "mining", "198.51.100.20": "pool"], build: xmrig),
        Scenario(
            name: "stratum-v1-vlan.pcap",
            description:
                "cgminer on Stratum V1 (subscribe/authorize/set_difficulty/notify/submit) to a Bitcoin pool on port 3333, inside 802.1ad + 802.1Q VLAN tags, one client.reconnect.",
            expected: ["10.1.1.7": "mining", "203.0.113.9": "pool"], build: stratumV1VLAN),
        Scenario(
            name: "ethproxy-ipv6.pcap",
            description:
                "eth-proxy miner over IPv6 (eth_submitLogin, eth_getWork, pushed work, eth_submitWork, eth_submitHashrate) on port 8008.",
            expected: ["2001:db8::10": "mining", "2001:db8:ffff::1": "pool"], build: ethProxyIPv6),
        Scenario(
            name: "adversarial-segmentation.pcap",
            description:
                "A CryptoNote session cut byte by byte, reordered, retransmitted with overlaps, one lost segment (a gap), sequence numbers wrapping past 2^32, and the login sent as IPv4 fragments.",
            expected: ["10.0.0.66": "mining", "198.51.100.77": "pool"], build: adversarial),
        Scenario(
            name: "midstream-jobs-only.pcap",
            description:
                "A capture that starts mid-session (no handshake, first segment begins mid-line): only the pool's job pushes and the miner's submits flow.",
            expected: ["10.0.0.9": "mining", "192.0.2.50": "pool"], build: midStream),
        Scenario(
            name: "not-mining-jsonrpc.pcap",
            description:
                "Ordinary JSON-RPC that is not mining: web3 eth_blockNumber calls, an echo server that echoes a mining.subscribe line back, a database row containing the text \"mining.subscribe\", an HTTP POST with JSON, and a binary stream.",
            expected: [:], build: notMining),
        Scenario(
            name: "hostile-strings.pcap",
            description:
                "A Stratum V1 miner whose agent and worker names carry terminal escapes and HTML (<script>), to check escaping in every output.",
            expected: ["10.0.0.13": "mining", "203.0.113.66": "pool"], build: hostileStrings)
    ]

    static func xmrig() -> [UInt8] {
        var c = Conversation(client: "10.0.0.5", clientPort: 51234, server: "198.51.100.20", serverPort: 443, start: t0)
        c.handshake()
        c.send(.client, Messages.xmrigLogin())
        c.send(.server, Messages.cnLoginResult())
        var id = 2
        var job = 1
        for i in 0..<6 {
            c.send(.client, Messages.cnSubmit(id: id, job: job, nonce: i), after: 20)
            c.send(.server, i == 3 ? Messages.cnReject(id: id) : Messages.cnOK(id: id))
            id += 1
            if i % 2 == 1 {
                job += 1
                c.send(.server, Messages.cnJobPush(job), after: 5)
            }
        }
        c.send(.client, #"{"id":\#(id),"jsonrpc":"2.0","method":"keepalived","params":{"id":"4790595468"}}"#, after: 30)
        c.send(.server, #"{"id":\#(id),"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}"#)
        c.close()
        return c.frames.pcap()
    }

    static func stratumV1VLAN() -> [UInt8] {
        var c = Conversation(
            client: "10.1.1.7", clientPort: 40001, server: "203.0.113.9", serverPort: 3333, start: t0, vlans: [100, 20])
        let user = Messages.btcWallet + ".worker1"
        c.handshake()
        c.send(.client, Messages.v1Subscribe())
        c.send(.server, Messages.v1SubscribeResult)
        c.send(.client, Messages.v1Authorize(user: user))
        c.send(.server, Messages.v1AuthorizeOK + "\n" + Messages.v1SetDifficulty(8192) + "\n" + Messages.v1Notify(1))
        for i in 0..<5 {
            c.send(.client, Messages.v1Submit(id: 10 + i, user: user, job: 1 + i / 2, nonce: i), after: 15)
            c.send(.server, Messages.v1Result(id: 10 + i, ok: true))
            if i % 2 == 1 { c.send(.server, Messages.v1Notify(2 + i / 2), after: 3) }
        }
        c.send(.server, #"{"id":null,"method":"client.reconnect","params":["stratum2.example-pool.net","3334",0]}"#)
        c.close()
        return c.frames.pcap(nanosecond: true)
    }

    static func ethProxyIPv6() -> [UInt8] {
        var c = Conversation(
            client: "2001:db8::10", clientPort: 50500, server: "2001:db8:ffff::1", serverPort: 8008, start: t0)
        c.handshake()
        c.send(.client, Messages.ethLogin())
        c.send(.server, #"{"jsonrpc":"2.0","id":2,"result":true}"#)
        c.send(.server, Messages.ethWork(1))
        c.send(.client, #"{"worker": "", "jsonrpc": "2.0", "params": [], "id": 3, "method": "eth_getWork"}"#)
        c.send(.server, Messages.ethWork(1))
        for i in 0..<3 {
            c.send(.server, Messages.ethWork(i + 2), after: 10)
            c.send(
                .client,
                #"{"id":6,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1d08a61", "0x0000000000000000000000000000000000000000000000000000000002df91be"]}"#
            )
            c.send(
                .client,
                #"{"id":4,"method":"eth_submitWork","params":["0x07a05fa4133e512\#(i)","0x\#(String(repeating: String(twoDigits: (i + 2) % 10), count: 64))","0x44e9206e9c830706f60e0129bdd117a2718d6553f3405b477541994df3583d4b"]}"#,
                after: 5)
            c.send(.server, #"{"jsonrpc":"2.0","id":4,"result":true}"#)
        }
        c.close()
        return c.frames.pcap()
    }

    static func adversarial() -> [UInt8] {
        // ISNs just below 2^32 so the streams wrap during the session.
        var c = Conversation(
            client: "10.0.0.66", clientPort: 33000, server: "198.51.100.77", serverPort: 14444, start: t0,
            isn: (UInt32.max - 40, UInt32.max - 700))
        c.handshake()
        c.send(.client, Messages.xmrigLogin(rig: "wrap"), plan: SegmentPlan(sizes: [60], ipFragmentSize: 64))
        c.send(.server, Messages.cnLoginResult(), plan: SegmentPlan(sizes: [1]))  // byte by byte
        c.send(.client, Messages.cnSubmit(id: 2, job: 1, nonce: 1), plan: SegmentPlan(sizes: [50], order: [2, 0, 3, 1]))
        c.send(.server, Messages.cnOK(id: 2), plan: SegmentPlan(sizes: [10], duplicates: [0, 2]))
        c.send(.client, Messages.cnSubmit(id: 3, job: 1, nonce: 2), plan: SegmentPlan(sizes: [40, 7, 90]))
        c.send(.server, Messages.cnOK(id: 3))
        // A lost segment in the middle of a job push: that line is gone, the stream resynchronises.
        c.send(.server, Messages.cnJobPush(2), plan: SegmentPlan(sizes: [100], drop: [1]))
        c.send(.server, Messages.cnJobPush(3), after: 1)
        c.send(
            .client, Messages.cnSubmit(id: 4, job: 3, nonce: 3),
            plan: SegmentPlan(sizes: [33], order: [4, 3, 2, 1, 0], duplicates: [1]))
        c.send(.server, Messages.cnOK(id: 4))
        c.close()
        return c.frames.pcap()
    }

    static func midStream() -> [UInt8] {
        var c = Conversation(
            client: "10.0.0.9", clientPort: 45555, server: "192.0.2.50", serverPort: 5222, start: t0,
            isn: (777_777, 9_999_999))
        // No handshake: the tap starts in the middle of a job line.
        c.send(.server, String(Messages.cnJobPush(40).dropFirst(30)))
        for j in 41..<46 {
            c.send(.server, Messages.cnJobPush(j), after: 30)
            c.send(.client, Messages.cnSubmit(id: j, job: j, nonce: j), after: 5)
        }
        return c.frames.pcap()
    }

    static func notMining() -> [UInt8] {
        var frames: [(time: Timestamp, frame: [UInt8])] = []
        frames += Conversation.recorded(
            client: "10.0.0.20", clientPort: 41000, server: "10.0.0.30", serverPort: 8545, start: t0
        ) { web3 in
            for i in 1...5 {
                web3.send(.client, #"{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":\#(i)}"#)
                web3.send(.server, #"{"jsonrpc":"2.0","id":\#(i),"result":"0x10d4f\#(i)"}"#)
            }
            web3.send(
                .client,
                #"{"jsonrpc":"2.0","method":"eth_getBalance","params":["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b","latest"],"id":9}"#
            )
            web3.send(.server, #"{"jsonrpc":"2.0","id":9,"result":"0x0234c8a3397aab58"}"#)
        }
        frames += Conversation.recorded(
            client: "10.0.0.21", clientPort: 41001, server: "10.0.0.31", serverPort: 7, start: t0.adding(seconds: 1)
        ) { echo in
            for line in [
                Messages.v1Subscribe(), Messages.v1Authorize(user: Messages.btcWallet + ".w"),
                #"{"jsonrpc":"2.0","method":"echo","params":["hello"],"id":3}"#
            ] {
                echo.send(.client, line)
                echo.send(.server, line)  // an echo service sends every line back unchanged
            }
        }
        frames += Conversation.recorded(
            client: "10.0.0.22", clientPort: 41002, server: "10.0.0.32", serverPort: 9200, start: t0.adding(seconds: 2)
        ) { db in
            db.send(.client, #"{"id": 7, "query": "select * from notes where body like '%mining.subscribe%'"}"#)
            db.send(
                .server,
                #"{"id": 7, "rows": [{"body": "the miner sends mining.subscribe then mining.authorize", "login": "4BCeEPhodg"}]}"#
            )
        }
        frames += Conversation.recorded(
            client: "10.0.0.23", clientPort: 41003, server: "10.0.0.33", serverPort: 80, start: t0.adding(seconds: 3)
        ) { http in
            let body = #"{"method":"mining.subscribe","params":["x"],"id":1}"#
            http.send(
                .client,
                "POST /rpc HTTP/1.1\r\nHost: api.example\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                    + body, line: false)
            http.send(.server, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", line: false)
        }
        frames += Conversation.recorded(
            client: "10.0.0.24", clientPort: 41004, server: "10.0.0.34", serverPort: 3333, start: t0.adding(seconds: 4)
        ) { bin in
            bin.send(.client, (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        }
        return frames.pcap()
    }

    static func hostileStrings() -> [UInt8] {
        var c = Conversation(
            client: "10.0.0.13", clientPort: 40404, server: "203.0.113.66", serverPort: 3333, start: t0)
        let user = #"1BoatSLRHtKNngkdXEeobR76b53LETtpyT.<script>alert(1)</script>\u001b[31mRED\u202eevil"#
        c.handshake()
        c.send(.client, Messages.v1Subscribe(agent: #"evil\u001b]0;pwned\u0007miner/1.0"#))
        c.send(.server, Messages.v1SubscribeResult)
        c.send(.client, Messages.v1Authorize(user: user))
        c.send(.server, Messages.v1AuthorizeOK + "\n" + Messages.v1SetDifficulty(64) + "\n" + Messages.v1Notify(1))
        c.send(.client, Messages.v1Submit(id: 5, user: user, job: 1, nonce: 1), after: 10)
        c.send(.server, Messages.v1Result(id: 5, ok: true))
        c.close()
        return c.frames.pcap()
    }
}
