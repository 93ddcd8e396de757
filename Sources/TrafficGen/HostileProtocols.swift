import PacketDecoding

extension Hostile {
    static func dnsHostile() -> Frames {
        var frames: Frames = []
        let header: (Int, Int, Int) -> [UInt8] = { q, an, flags in
            Wire.be16(0x1234) + Wire.be16(flags) + Wire.be16(q) + Wire.be16(an) + [0, 0, 0, 0]
        }
        var messages: [[UInt8]] = []
        // A question whose name points at itself.
        messages.append(header(1, 0, 0x0100) + [0xC0, 12, 0, 1, 0, 1])
        // Two pointers pointing at each other.
        messages.append(header(1, 0, 0x0100) + [0xC0, 14, 0xC0, 12, 0, 1, 0, 1])
        // A long forward chain of pointers.
        var chain = header(1, 0, 0x0100)
        for i in 0..<200 { chain += [0xC0, UInt8(truncatingIfNeeded: 14 + 2 * i)] }
        messages.append(chain + [0, 0, 1, 0, 1])
        // Counts of 65 535 with nothing behind them; a label longer than the message.
        messages.append(header(65535, 65535, 0x8180))
        messages.append(header(1, 0, 0x0100) + [63] + Array("a".utf8))
        // An answer whose rdlength runs past the end, and one with an A record of length 2.
        messages.append(
            header(1, 1, 0x8180) + Wire.dnsName("xmr.pool.minergate.com") + [0, 1, 0, 1] + [
                0xC0, 12, 0, 1, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2
            ])
        messages.append(
            header(1, 1, 0x8180) + Wire.dnsName("xmr.pool.minergate.com") + [0, 1, 0, 1] + [
                0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 2, 1, 2
            ])
        // A CNAME loop: a → b, b → a.
        messages.append(
            header(1, 2, 0x8180) + Wire.dnsName("a.example") + [0, 1, 0, 1]
                + [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60] + Wire.be16(11) + Wire.dnsName("b.example")
                + Wire.dnsName("b.example") + [0, 5, 0, 1, 0, 0, 0, 60] + [0, 2, 0xC0, 12])
        for (i, m) in messages.enumerated() {
            frames.append(
                Corpus.udp("10.6.0.10", UInt16(46000 + i), "10.6.0.1", 53, m, at: t0.adding(seconds: Double(i))))
            frames.append(
                Corpus.udp("10.6.0.1", 53, "10.6.0.10", UInt16(46000 + i), m, at: t0.adding(seconds: Double(i) + 0.01)))
        }
        // The same over TCP, with a 2-byte length prefix that lies.
        frames += Conversation.recorded(
            client: "10.6.0.11", clientPort: 46100, server: "10.6.0.1", serverPort: 53, start: t0.adding(seconds: 20)
        ) { c in
            for m in messages { c.send(.client, Wire.be16(m.count) + m) }
            c.send(.client, Wire.be16(65535) + [1, 2, 3])
        }
        return frames
    }

    static func tlsHostile() -> Frames {
        var frames: Frames = []
        let hello = Wire.clientHello(sni: "gulf.moneroocean.stream")
        var variants: [[UInt8]] = []
        // Record length larger than the handshake; handshake length larger than the record; every length byte set.
        var a = hello
        a[3] = 0xFF
        a[4] = 0xFF
        variants.append(a)
        var b = hello
        b[6] = 0xFF
        b[7] = 0xFF
        b[8] = 0xFF
        variants.append(b)
        for i in stride(from: 9, to: min(hello.count, 120), by: 7) {
            var v = hello
            v[i] = 0xFF
            variants.append(v)
        }
        variants.append(Array(hello.prefix(40)))
        // A server flight whose certificate has a 4-byte DER length of 0xffffffff, and one of 8 bytes.
        var flight = Wire.serverFlight12(commonName: "xmr.2miners.com", dnsNames: ["xmr.2miners.com"])
        if let i = flight.firstIndex(where: { $0 == 0x30 }), i + 1 < flight.count { flight[i + 1] = 0x84 }
        var flight2 = Wire.serverFlight12(commonName: "xmr.2miners.com", dnsNames: ["xmr.2miners.com"])
        if let i = flight2.lastIndex(where: { $0 == 0x30 }), i + 1 < flight2.count { flight2[i + 1] = 0x88 }
        for (i, v) in variants.enumerated() {
            frames += Conversation.recorded(
                client: "10.7.0.10", clientPort: UInt16(47000 + i), server: "10.7.0.20", serverPort: 443,
                start: t0.adding(seconds: Double(i))
            ) { c in
                c.send(.client, v)
                c.send(.server, i % 2 == 0 ? flight : flight2)
                c.send(.client, Wire.appData(100, seed: i))
            }
        }
        return frames
    }

    static func webSocketHostile() -> Frames {
        var c = Conversation(client: "10.8.0.10", clientPort: 48000, server: "10.8.0.20", serverPort: 80, start: t0)
        c.handshake()
        c.send(
            .client,
            "GET /proxy HTTP/1.1\r\nHost: ws.coinhive.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            line: false)
        c.send(
            .server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            line: false)
        c.send(
            .client,
            Wire.wsFrame(#"{"type":"auth","params":{"site_key":"k","type":"anonymous","user":null}}"#, fromClient: true)
        )
        c.send(.server, Wire.wsFrame(#"{"type":"authed","params":{"token":"","hashes":1e300}}"#, fromClient: false))
        c.send(
            .server,
            Wire.wsFrame(#"{"type":"job","params":{"job_id":"1","blob":"00","target":"00000001"}}"#, fromClient: false))
        c.send(
            .client,
            Wire.wsFrame(#"{"type":"submit","params":{"job_id":"1","nonce":"00","result":"00"}}"#, fromClient: true))
        c.send(.server, Wire.wsFrame(#"{"type":"hash_accepted","params":{"hashes":1e308}}"#, fromClient: false))
        c.send(.server, Wire.wsFrame(#"{"type":"hash_accepted","params":{"hashes":"Infinity"}}"#, fromClient: false))
        // 64-bit lengths: 2^63-1 (invalid) and 2^32 (over every cap).
        c.send(.server, [0x81, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Array("{}".utf8))
        c.send(.server, [0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0] + Array("{}".utf8))
        c.close()
        return c.frames
    }
}
