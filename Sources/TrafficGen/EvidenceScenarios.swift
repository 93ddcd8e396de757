import PacketDecoding

/// Scenarios for evidence beyond cleartext Stratum: TLS and encrypted Stratum V2 to pool names,
/// browser miners over WebSocket, getwork over HTTP, pool DNS lookups, and node-to-node traffic.
extension Corpus {
    static func udp(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16, _ payload: [UInt8], at t: Timestamp)
        -> (time: Timestamp, frame: [UInt8])
    {
        let s = IPAddress(src)!
        let d = IPAddress(dst)!
        return (
            t,
            FrameBuilder.frame(
                src: s, dst: d, proto: 17,
                transport: FrameBuilder.udp(src: s, dst: d, srcPort: sport, dstPort: dport, payload: payload))
        )
    }

    /// A DNS lookup of `name` by `client` answered with `addresses`.
    static func lookup(_ client: String, _ name: String, _ addresses: [String], id: Int, at t: Timestamp) -> Frames {
        [
            udp(client, UInt16(40000 + id), "10.0.0.1", 53, Wire.dnsQuery(id: id, name: name), at: t),
            udp(
                "10.0.0.1", 53, client, UInt16(40000 + id), Wire.dnsAnswer(id: id, name: name, addresses: addresses),
                at: t.adding(seconds: 0.01))
        ]
    }

    static let evidenceScenarios: [Scenario] = [
        Scenario(
            name: "tls-to-pool.pcap",
            description:
                "10.0.0.40 resolves gulf.moneroocean.stream and keeps TLS 1.3 to it for 2 h with small records both ways (likely mining); 10.0.0.42 makes a 20 s TLS connection without SNI to the address that name resolved to (suspicious); 10.0.0.43 speaks TLS 1.2 without SNI to an unnamed address whose certificate names xmr.2miners.com, for 10 min (likely mining, from the certificate); 10.0.0.41 downloads over TLS from www.example.org (nothing).",
            expected: ["10.0.0.40": "likely-mining", "10.0.0.42": "suspicious", "10.0.0.43": "likely-mining"],
            build: tlsToPool),
        Scenario(
            name: "webminer-websocket.pcap",
            description:
                "A browser (10.0.0.50) mining through a Coinhive-style WebSocket at ws.coinhive.com (auth, authed, jobs, submits, hash_accepted); a web-miner proxy (203.0.113.84) carrying XMRig-style Stratum JSON-RPC inside WebSocket frames for 10.0.0.53; a browser (10.0.0.54) mining in webminerpool's protocol (handshake with wallet, site user id and upstream pool; job, solved, hashsolved) at an unlisted server (203.0.113.85); 10.0.0.52 only fetches coinhive.min.js over HTTP (suspicious); 10.0.0.51 chats over an ordinary WebSocket (nothing).",
            expected: [
                "10.0.0.50": "mining", "203.0.113.80": "pool", "10.0.0.52": "suspicious",
                "10.0.0.53": "mining", "203.0.113.84": "pool", "10.0.0.54": "mining", "203.0.113.85": "pool"
            ], build: webMiner),
        Scenario(
            name: "http-getwork.pcap",
            description:
                "cgminer (10.0.0.60) mining with getwork over HTTP/1.1 keep-alive: work requests answered with chunked bodies, 4 solutions submitted (3 accepted), X-Mining-Extensions from the miner, X-Long-Polling from the pool.",
            expected: ["10.0.0.60": "mining", "192.0.2.70": "pool"], build: httpGetwork),
        Scenario(
            name: "stratum-v2.pcap",
            description:
                "A Stratum V2 miner (10.0.0.70) in the clear on a LAN to its proxy 10.0.0.2:3336 (SetupConnection, OpenStandardMiningChannel, jobs, shares; the proxy, a local host serving work whose upstream is not in the capture, is the relay to pull: mining, role relay); 10.0.0.71 resolves v2.stratum.braiins.com and holds an encrypted V2 session (64-byte Noise first message) for 20 min (likely mining); 10.0.0.72 sends the same 64-byte shape to an unlisted address (nothing: never on shape alone).",
            expected: ["10.0.0.70": "mining", "10.0.0.2": "mining", "10.0.0.71": "likely-mining"], build: stratumV2),
        Scenario(
            name: "dns-and-nodes.pcap",
            description:
                "10.0.0.80 only looks up xmr.pool.minergate.com (suspicious); 10.0.0.81 looks up pool.supportxmr.com then mines in the clear to the answer (the session carries the name); a Bitcoin node pair exchanging version/verack; an Ethereum discovery ping from 10.0.0.83 (crypto-node, not mining).",
            expected: [
                "10.0.0.80": "suspicious", "10.0.0.81": "mining", "198.51.100.100": "pool", "10.0.0.82": "crypto-node",
                "203.0.113.82": "crypto-node", "10.0.0.83": "crypto-node"
            ], build: dnsAndNodes)
    ]

    static func tlsToPool() -> [UInt8] {
        var frames = lookup("10.0.0.40", "gulf.moneroocean.stream", ["198.51.100.60"], id: 1, at: t0)
        frames += Conversation.recorded(
            client: "10.0.0.40", clientPort: 50100, server: "198.51.100.60", serverPort: 443,
            start: t0.adding(seconds: 0.1)
        ) { c in
            c.send(.client, Wire.clientHello(sni: "gulf.moneroocean.stream", alpn: []))
            c.send(.server, Wire.serverHello13() + Wire.appData(900, seed: 1))
            c.send(.client, Wire.appData(74, seed: 2))
            c.tlsMiningRecords(jobs: 240, shareEvery: 3)  // 2 h
        }
        frames += Conversation.recorded(
            client: "10.0.0.41", clientPort: 50200, server: "93.184.215.14", serverPort: 443,
            start: t0.adding(seconds: 1)
        ) { d in
            d.send(.client, Wire.clientHello(sni: "www.example.org"))
            d.send(.server, Wire.serverHello13())
            d.tlsDownload(records: 200, interval: 3)
        }
        frames += Conversation.recorded(
            client: "10.0.0.42", clientPort: 50300, server: "198.51.100.60", serverPort: 443,
            start: t0.adding(seconds: 60)
        ) { e in
            e.send(.client, Wire.clientHello(sni: nil, alpn: []))
            e.send(.server, Wire.serverHello13())
            e.send(.client, Wire.appData(100, seed: 9), after: 20)
        }
        frames += Conversation.recorded(
            client: "10.0.0.43", clientPort: 50400, server: "192.0.2.43", serverPort: 8443,
            start: t0.adding(seconds: 90)
        ) { f in
            f.send(.client, Wire.clientHello(sni: nil, alpn: []), plan: SegmentPlan(sizes: [40]))
            f.send(
                .server, Wire.serverFlight12(commonName: "*.2miners.com", dnsNames: ["xmr.2miners.com", "2miners.com"]),
                plan: SegmentPlan(sizes: [300]))
            f.send(.client, [20, 3, 3, 0, 1, 1] + Wire.appData(40, seed: 3))
            for i in 0..<20 { f.send(.server, Wire.appData(150, seed: i), after: 30) }
        }
        return frames.pcap()
    }

    static func webMiner() -> [UInt8] {
        var frames: Frames = []
        frames += Conversation.recorded(
            client: "10.0.0.50", clientPort: 52000, server: "203.0.113.80", serverPort: 80, start: t0
        ) { c in
            c.send(
                .client,
                "GET /proxy0 HTTP/1.1\r\nHost: ws.coinhive.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://games.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n\r\n",
                line: false)
            c.send(
                .server,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                line: false)
            c.send(
                .client,
                Wire.wsFrame(
                    #"{"type":"auth","params":{"site_key":"QmFkIHNpdGUga2V5IGZvciB0ZXN0cw","type":"anonymous","user":null,"goal":0}}"#,
                    fromClient: true))
            c.send(.server, Wire.wsFrame(#"{"type":"authed","params":{"token":"","hashes":0}}"#, fromClient: false))
            for i in 0..<6 {
                c.send(
                    .server,
                    Wire.wsFrame(
                        #"{"type":"job","params":\#(Messages.cnJob(i + 1, target: "ffffff00"))}"#, fromClient: false),
                    after: 2)
                c.send(
                    .client,
                    Wire.wsFrame(
                        #"{"type":"submit","params":{"job_id":"j\#(i + 1)","nonce":"\#(Messages.format8(i))","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"}}"#,
                        fromClient: true), after: 40)
                c.send(
                    .server,
                    Wire.wsFrame(#"{"type":"hash_accepted","params":{"hashes":\#(256 * (i + 1))}}"#, fromClient: false))
            }
        }
        var chat = Conversation(
            client: "10.0.0.51", clientPort: 52100, server: "203.0.113.81", serverPort: 80, start: t0.adding(seconds: 1)
        )
        chat.handshake()
        chat.send(
            .client,
            "GET /chat HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            line: false)
        chat.send(
            .server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            line: false)
        for i in 0..<5 {
            chat.send(.client, Wire.wsFrame(#"{"type":"message","text":"hello \#(i)"}"#, fromClient: true), after: 5)
            chat.send(.server, Wire.wsFrame(#"{"type":"message","text":"echo \#(i)","id":\#(i)}"#, fromClient: false))
        }
        chat.close()
        frames += chat.frames
        var js = Conversation(
            client: "10.0.0.52", clientPort: 52200, server: "203.0.113.80", serverPort: 80, start: t0.adding(seconds: 3)
        )
        js.handshake()
        js.send(
            .client,
            "GET /lib/coinhive.min.js HTTP/1.1\r\nHost: coinhive.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/121.0\r\nAccept: */*\r\n\r\n",
            line: false)
        js.send(
            .server,
            "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 64\r\n\r\n"
                + String(repeating: "/", count: 64), line: false)
        js.close()
        frames += js.frames
        frames += Conversation.recorded(
            client: "10.0.0.53", clientPort: 52300, server: "203.0.113.84", serverPort: 8080,
            start: t0.adding(seconds: 5)
        ) { px in
            px.send(
                .client,
                "GET / HTTP/1.1\r\nHost: proxy.webminer.example:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                line: false)
            px.send(
                .server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                line: false)
            px.send(.client, Wire.wsFrame(Messages.xmrigLogin(rig: "browser-tab"), fromClient: true))
            px.send(.server, Wire.wsFrame(Messages.cnLoginResult(), fromClient: false))
            for i in 0..<3 {
                px.send(
                    .client, Wire.wsFrame(Messages.cnSubmit(id: 2 + i, job: 1, nonce: i), fromClient: true), after: 20)
                px.send(.server, Wire.wsFrame(Messages.cnOK(id: 2 + i), fromClient: false))
            }
        }
        // webminerpool's protocol (top-level fields, `identifier`), to a server no list names: the
        // handshake names the wallet, the site's user id and the upstream pool.
        frames += Conversation.recorded(
            client: "10.0.0.54", clientPort: 52400, server: "203.0.113.85", serverPort: 8181,
            start: t0.adding(seconds: 7)
        ) { wmp in
            wmp.send(
                .client,
                "GET / HTTP/1.1\r\nHost: webminer.example:8181\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: EBESExQVFhcYGRobHB0eHw==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://recipes.example\r\n\r\n",
                line: false)
            wmp.send(
                .server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                line: false)
            wmp.send(
                .client,
                Wire.wsFrame(
                    #"{"identifier":"handshake","pool":"moneroocean.stream","login":"\#(Messages.moneroWallet)","password":"web_miner","userid":"site-8f3a21","version":7}"#,
                    fromClient: true))
            for i in 0..<4 {
                wmp.send(
                    .server,
                    Wire.wsFrame(
                        #"{"identifier":"job","job_id":"00000000000\#(i + 1)","algo":"cn","variant":2,"blob":"0707\#(String(repeating: "5e", count: 37))00000000\#(String(repeating: "a1", count: 33))","target":"e8030000"}"#,
                        fromClient: false), after: 30)
                wmp.send(
                    .client,
                    Wire.wsFrame(
                        #"{"identifier":"solved","job_id":"00000000000\#(i + 1)","nonce":"\#(Messages.format8(i))","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"}"#,
                        fromClient: true), after: 12)
                wmp.send(.server, Wire.wsFrame(#"{"identifier":"hashsolved"}"#, fromClient: false))
            }
        }
        return frames.pcap()
    }

    static func httpGetwork() -> [UInt8] {
        var c = Conversation(client: "10.0.0.60", clientPort: 53000, server: "192.0.2.70", serverPort: 8332, start: t0)
        c.handshake()
        let data =
            String(repeating: "0", count: 8) + String(repeating: "ab", count: 60) + String(repeating: "0", count: 136)
        func post(_ body: String) -> String {
            "POST / HTTP/1.1\r\nAuthorization: Basic d29ya2VyOng=\r\nHost: 192.0.2.70:8332\r\nAccept: */*\r\nContent-Type: application/json\r\nUser-Agent: cgminer/2.7.4\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        func chunked(_ body: String) -> String {
            let half = body.utf8.count / 2
            let a = String(body.prefix(half))
            let b = String(body.dropFirst(half))
            return
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Long-Polling: /LP\r\nX-Roll-NTime: Y\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(a.utf8.count, radix: 16) + "\r\n" + a + "\r\n" + String(b.utf8.count, radix: 16) + "\r\n" + b
                + "\r\n0\r\n\r\n"
        }
        for i in 0..<4 {
            c.send(.client, post(#"{"method": "getwork", "params": [], "id": \#(2 * i)}"#), line: false, after: 15)
            c.send(
                .server,
                chunked(
                    #"{"result": {"midstate": "\#(String(repeating: "5f", count: 32))", "data": "\#(data)", "hash1": "\#(String(repeating: "0", count: 128))", "target": "\#(String(repeating: "f", count: 56))00000000"}, "error": null, "id": \#(2 * i)}"#
                ), line: false)
            c.send(
                .client, post(#"{"method": "getwork", "params": ["\#(data)"], "id": \#(2 * i + 1)}"#), line: false,
                plan: SegmentPlan(sizes: [100]), after: 20)
            c.send(
                .server, chunked(#"{"result": \#(i == 2 ? "false" : "true"), "error": null, "id": \#(2 * i + 1)}"#),
                line: false)
        }
        c.close()
        return c.frames.pcap()
    }

    static func stratumV2() -> [UInt8] {
        var frames: Frames = []
        frames += Conversation.recorded(
            client: "10.0.0.70", clientPort: 54000, server: "10.0.0.2", serverPort: 3336, start: t0
        ) { c in
            c.sv2Setup(vendor: "Bitmain", hardware: "S19j Pro", firmware: "braiins-os 23.03", device: "rack4-miner07")
            c.send(.client, Wire.sv2OpenStandardChannel(user: "\(Messages.btcWallet).rack4"))
            c.send(.server, Wire.sv2OpenChannelSuccess() + Wire.sv2NewMiningJob(1))
            for i in 0..<8 {
                c.send(.client, Wire.sv2SubmitShares(seq: i, job: 1 + i / 4), after: 15)
                c.send(.server, Wire.sv2SubmitSuccess(seq: i) + (i % 4 == 3 ? Wire.sv2NewMiningJob(2 + i / 4) : []))
            }
        }
        frames += lookup("10.0.0.71", "v2.stratum.braiins.com", ["198.51.100.90"], id: 7, at: t0)
        frames += Conversation.recorded(
            client: "10.0.0.71", clientPort: 54100, server: "198.51.100.90", serverPort: 3336,
            start: t0.adding(seconds: 0.2)
        ) { e in
            e.send(.client, (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) })
            e.send(.server, (0..<234).map { UInt8(truncatingIfNeeded: $0 &* 89 &+ 7) })
            for i in 0..<40 {
                e.send(.server, (0..<90).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) }, after: 30)
                if i % 4 == 0 { e.send(.client, (0..<70).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ i) }) }
            }
        }
        frames += Conversation.recorded(
            client: "10.0.0.72", clientPort: 54200, server: "198.51.100.91", serverPort: 4000,
            start: t0.adding(seconds: 1)
        ) { n in
            n.send(.client, (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            n.send(.server, (0..<500).map { UInt8(truncatingIfNeeded: $0 &* 3) }, after: 400)
        }
        return frames.pcap()
    }

    static func dnsAndNodes() -> [UInt8] {
        var frames = lookup("10.0.0.80", "xmr.pool.minergate.com", ["198.51.100.99"], id: 11, at: t0)
        frames += lookup("10.0.0.81", "pool.supportxmr.com", ["198.51.100.100"], id: 12, at: t0.adding(seconds: 1))
        frames += Conversation.recorded(
            client: "10.0.0.81", clientPort: 55000, server: "198.51.100.100", serverPort: 3333,
            start: t0.adding(seconds: 1.2)
        ) { m in
            m.cryptoNoteMining(shares: 3, interval: 30)
        }
        frames += Conversation.recorded(
            client: "10.0.0.82", clientPort: 55100, server: "203.0.113.82", serverPort: 8333,
            start: t0.adding(seconds: 2)
        ) { b in
            b.send(.client, Wire.bitcoinVersion())
            b.send(.server, Wire.bitcoinVersion(agent: "/Satoshi:26.1.0/") + Wire.bitcoinVerack())
            b.send(.client, Wire.bitcoinVerack())
        }
        frames.append(udp("10.0.0.83", 30303, "203.0.113.83", 30303, Wire.discv4Ping(), at: t0.adding(seconds: 3)))
        return frames.pcap()
    }
}
