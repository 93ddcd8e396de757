import PacketDecoding

/// Mining through proxies (SOCKS, HTTP CONNECT): the pool is named only in the proxy request.
extension Corpus {
    static let proxyScenarios: [Scenario] = [
        Scenario(
            name: "socks-proxy.pcap",
            description:
                "Through the SOCKS proxy 10.0.0.3:1080: 10.0.0.90 (XMRig, SOCKS5, no authentication) asks for pool.supportxmr.com:3333 by name and mines in the clear inside the tunnel (mining, the proxy is not a pool); 10.0.0.91 authenticates (username/password), asks for 198.51.100.61:443 by address and holds TLS with SNI xmr-eu1.nanopool.org for 10 min (likely mining); 10.0.0.92 asks a SOCKS4a proxy for gulf.moneroocean.stream:10001 and is refused (suspicious: the request names a pool); 10.0.0.93 browses www.example.org over SOCKS5 (nothing); 10.0.0.94 asks the HTTP proxy 10.0.0.3:3128 to CONNECT xmr-eu1.nanopool.org:14444 and mines in the clear through it (mining); 10.0.0.95 CONNECTs to www.example.org:443 (nothing); 10.0.0.96 sends its SOCKS5 greeting and its request for pool.supportxmr.com:3333 in one segment and the capture ends before the proxy answers (suspicious: the request names a pool); 10.0.0.97 goes through a chain, an HTTP CONNECT to the SOCKS proxy 10.0.0.4:1080 and inside it a SOCKS5 request for pool.supportxmr.com:3333, and mines in the clear (mining, via HTTP CONNECT → SOCKS5); 10.0.0.98 the other way round, SOCKS5 to the HTTP proxy and a CONNECT inside to xmr-eu1.nanopool.org:14444 (mining).",
            expected: [
                "10.0.0.90": "mining", "10.0.0.91": "likely-mining", "10.0.0.92": "suspicious", "10.0.0.94": "mining",
                "10.0.0.96": "suspicious",
                "10.0.0.97": "mining", "10.0.0.98": "mining"
            ],
            build: socksProxy),
        Scenario(
            name: "relay.pcap",
            description:
                "An xmrig-proxy at 10.0.0.100 serves two LAN miners (10.0.0.101, 10.0.0.102) on port 3333 and mines upstream itself at pool.supportxmr.com:3333, which it looked up: the relay is mining (role relay), the downstream miners mine, and their reasons say where their work ends up. A second relay, 10.0.0.103, serves 10.0.0.104 and keeps its upstream in TLS to the bare address 198.51.100.110:8443 for 10 min, a flow that names nothing: it is the relay to pull too (mining, role relay).",
            expected: [
                "10.0.0.100": "mining", "10.0.0.101": "mining", "10.0.0.102": "mining", "198.51.100.100": "pool",
                "10.0.0.103": "mining", "10.0.0.104": "mining"
            ], build: relay)
    ]

    /// SOCKS5 greeting, method choice, (authentication,) CONNECT and its grant.
    static func socks5Connect(
        _ c: inout Conversation, name: String? = nil, ipv4: [UInt8]? = nil, port: UInt16, user: String? = nil
    ) {
        c.send(.client, user == nil ? [5, 1, 0] : [5, 2, 0, 2])
        c.send(.server, [5, user == nil ? 0 : 2])
        if let user {
            let pass = "hunter2"
            c.send(
                .client, [1, UInt8(user.utf8.count)] + Array(user.utf8) + [UInt8(pass.utf8.count)] + Array(pass.utf8))
            c.send(.server, [1, 0])
        }
        let address: [UInt8] = name.map { [3, UInt8($0.utf8.count)] + Array($0.utf8) } ?? [1] + (ipv4 ?? [0, 0, 0, 0])
        c.send(.client, [5, 1, 0] + address + [UInt8(port >> 8), UInt8(port & 0xFF)])
        c.send(.server, [5, 0, 0, 1, 10, 0, 0, 3, 0x9C, 0x41])
    }

    static func socksProxy() -> [UInt8] {
        var frames: Frames = []
        frames += Conversation.recorded(
            client: "10.0.0.90", clientPort: 52100, server: "10.0.0.3", serverPort: 1080, start: t0
        ) { m in
            socks5Connect(&m, name: "pool.supportxmr.com", port: 3333)
            m.cryptoNoteMining(rig: "behind-proxy", shares: 4, interval: 15)
        }

        frames += Conversation.recorded(
            client: "10.0.0.91", clientPort: 52200, server: "10.0.0.3", serverPort: 1080, start: t0.adding(seconds: 5)
        ) { t in
            socks5Connect(&t, ipv4: [198, 51, 100, 61], port: 443, user: "miner")
            t.send(.client, Wire.clientHello(sni: "xmr-eu1.nanopool.org", alpn: []))
            t.send(.server, Wire.serverHello13() + Wire.appData(700, seed: 3))
            t.tlsMiningRecords(jobs: 20, shareEvery: 2)  // 10 min
        }

        frames += Conversation.recorded(
            client: "10.0.0.92", clientPort: 52300, server: "10.0.0.3", serverPort: 1080, start: t0.adding(seconds: 10)
        ) { r in
            let name = Array("gulf.moneroocean.stream".utf8)
            r.send(.client, [4, 1, 0x27, 0x11, 0, 0, 0, 1] + Array("xmrig".utf8) + [0] + name + [0])
            r.send(.server, [0, 0x5B, 0, 0, 0, 0, 0, 0])  // request rejected or failed
        }

        frames += Conversation.recorded(
            client: "10.0.0.93", clientPort: 52400, server: "10.0.0.3", serverPort: 1080, start: t0.adding(seconds: 20)
        ) { w in
            socks5Connect(&w, name: "www.example.org", port: 443)
            w.send(.client, Wire.clientHello(sni: "www.example.org"))
            w.send(.server, Wire.serverHello13())
            w.tlsDownload(records: 10, interval: 1)
        }

        frames += Conversation.recorded(
            client: "10.0.0.94", clientPort: 52500, server: "10.0.0.3", serverPort: 3128, start: t0.adding(seconds: 30)
        ) { h in
            h.httpConnect("xmr-eu1.nanopool.org:14444", agent: "XMRig/6.21.0")
            h.cryptoNoteMining(rig: "via-http-proxy", shares: 3, interval: 20)
        }

        frames += Conversation.recorded(
            client: "10.0.0.95", clientPort: 52600, server: "10.0.0.3", serverPort: 3128, start: t0.adding(seconds: 35)
        ) { o in
            o.httpConnect("www.example.org:443")
            o.send(.client, Wire.clientHello(sni: "www.example.org"))
            o.send(.server, Wire.serverHello13())
            o.tlsDownload(records: 5, interval: 1)
        }

        // Greeting and request pipelined in one segment (no authentication offered), no answer.
        var p = Conversation(
            client: "10.0.0.96", clientPort: 52700, server: "10.0.0.3", serverPort: 1080, start: t0.adding(seconds: 40))
        p.handshake()
        let pool = Array("pool.supportxmr.com".utf8)
        p.send(.client, [5, 1, 0] + [5, 1, 0, 3, UInt8(pool.count)] + pool + [0x0D, 0x05])
        frames += p.frames

        // Chains: CONNECT then SOCKS5 inside, and SOCKS5 then CONNECT inside.
        frames += Conversation.recorded(
            client: "10.0.0.97", clientPort: 52800, server: "10.0.0.3", serverPort: 3128, start: t0.adding(seconds: 45)
        ) { c in
            c.httpConnect("10.0.0.4:1080")
            socks5Connect(&c, name: "pool.supportxmr.com", port: 3333)
            c.cryptoNoteMining(rig: "chained", shares: 3, interval: 15)
        }
        frames += Conversation.recorded(
            client: "10.0.0.98", clientPort: 52900, server: "10.0.0.3", serverPort: 1080, start: t0.adding(seconds: 50)
        ) { d in
            socks5Connect(&d, ipv4: [10, 0, 0, 3], port: 3128)
            d.httpConnect("xmr-eu1.nanopool.org:14444", agent: "XMRig/6.21.0")
            d.cryptoNoteMining(rig: "chained-2", shares: 3, interval: 15)
        }
        return frames.sorted { $0.time < $1.time }.pcap()
    }

    static func relay() -> [UInt8] {
        var frames = lookup("10.0.0.100", "pool.supportxmr.com", ["198.51.100.100"], id: 7, at: t0)
        frames += Conversation.recorded(
            client: "10.0.0.100", clientPort: 53000, server: "198.51.100.100", serverPort: 3333,
            start: t0.adding(seconds: 1)
        ) { up in
            up.cryptoNoteMining(rig: "proxy-upstream", shares: 4, interval: 15)
        }
        for (i, miner) in ["10.0.0.101", "10.0.0.102"].enumerated() {
            frames += Conversation.recorded(
                client: miner, clientPort: UInt16(54000 + i), server: "10.0.0.100", serverPort: 3333,
                start: t0.adding(seconds: 2 + Double(i))
            ) { down in
                down.cryptoNoteMining(rig: "lan-\(i + 1)", shares: 2, interval: 20)
            }
        }
        // A second relay whose upstream is TLS to a bare address (XMRig's tls: true): its miners' work
        // leaves encrypted; the relay is still the host to pull.
        frames += Conversation.recorded(
            client: "10.0.0.103", clientPort: 53100, server: "198.51.100.110", serverPort: 8443,
            start: t0.adding(seconds: 4)
        ) { tls in
            tls.send(.client, Wire.clientHello(sni: nil, alpn: []))
            tls.send(.server, Wire.serverHello13() + Wire.appData(700, seed: 5))
            tls.tlsMiningRecords(jobs: 20, shareEvery: 2)  // 10 min
        }
        frames += Conversation.recorded(
            client: "10.0.0.104", clientPort: 54100, server: "10.0.0.103", serverPort: 3333,
            start: t0.adding(seconds: 5)
        ) { lan in
            lan.cryptoNoteMining(rig: "lan-3", shares: 2, interval: 20)
        }
        return frames.sorted { $0.time < $1.time }.pcap()
    }
}
