import Testing

@testable import HTTP

@Suite struct HTTPTests {
    enum Seen: Equatable {
        case head(String)
        case body(String, Bool)
        case upgraded(Int)
    }

    func run(_ text: [UInt8], requestSide: Bool, cuts: [Int], maxBody: Int = 64 * 1024) -> ([Seen], Bool) {
        var limits = HTTPLimits()
        limits.maxBodyBytes = maxBody
        var p = HTTPStreamParser(requestSide: requestSide, limits: limits)
        var seen: [Seen] = []
        var i = 0
        for c in cuts + [text.count] where i < text.count {
            let n = min(c, text.count - i)
            text[i..<(i + n)].withUnsafeBytes { b in
                p.feed(b) { e in
                    switch e {
                    case .head(let h):
                        seen.append(
                            .head(
                                h.isRequest ? "\(h.method) \(h.target) host=\(h.header("host") ?? "-")" : "\(h.status)")
                        )
                    case .body(let b, let t): seen.append(.body(String(decoding: b, as: UTF8.self), t))
                    case .upgraded(let b): seen.append(.upgraded(b.count))
                    }
                }
            }
            i += n
        }
        p.end { e in if case .body(let b, let t) = e { seen.append(.body(String(decoding: b, as: UTF8.self), t)) } }
        return (seen, p.invalid)
    }

    @Test func getworkPostWithLengthThenChunkedSplitEverywhere() {
        let body = #"{"method":"getwork","params":[],"id":0}"#
        let text =
            Array(
                "POST / HTTP/1.1\r\nHost: pool.test:8332\r\nUser-Agent: cgminer/4.10.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    .utf8)
            + Array(
                "POST /lp HTTP/1.1\r\nHost: pool.test\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{\"met\r\n1c\r\nhod\":\"getwork\",\"params\":[1]}\r\n0\r\nX-Trailer: y\r\n\r\n"
                    .utf8)
        let expected: [Seen] = [
            .head("POST / host=pool.test:8332"), .body(body, false),
            .head("POST /lp host=pool.test"), .body(#"{"method":"getwork","params":[1]}"#, false)
        ]
        for cut in 1..<text.count {
            let (seen, invalid) = run(text, requestSide: true, cuts: [cut, 3])
            #expect(!invalid)
            #expect(seen == expected, "cut at \(cut)")
        }
    }

    @Test func responsesBodiesAndCaps() {
        let text = Array(
            "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nX-Mining-Extensions: longpoll\r\nContent-Length: 10\r\n\r\n0123456789HTTP/1.0 200 OK\r\n\r\nuntil close"
                .utf8)
        let (seen, invalid) = run(text, requestSide: false, cuts: [], maxBody: 4)
        #expect(!invalid)
        #expect(seen == [.head("204"), .head("200"), .body("0123", true), .head("200"), .body("unti", true)])
    }

    /// After a CONNECT, a 2xx answer opens a tunnel: its bytes are not parsed as HTTP; a refusal is
    /// an ordinary response.
    @Test func connectTunnelsOnlyWhenGranted() {
        func response(_ text: String) -> [String] {
            var p = HTTPStreamParser(requestSide: false)
            p.tunnelOnSuccess = true
            var seen: [String] = []
            Array(text.utf8).withUnsafeBytes { b in
                p.feed(b) { e in
                    switch e {
                    case .head(let h): seen.append("head \(h.status)")
                    case .body(let b, _): seen.append("body \(b.count)")
                    case .upgraded(let b): seen.append("tunnel \(String(decoding: b, as: UTF8.self))")
                    }
                }
            }
            #expect(!p.invalid)
            return seen
        }
        #expect(
            response("HTTP/1.1 200 Connection established\r\n\r\n{\"id\":1}\n") == ["head 200", "tunnel {\"id\":1}\n"])
        #expect(
            response("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno") == [
                "head 407", "body 2"
            ])
        var q = HTTPStreamParser(requestSide: true)
        var heads = 0
        Array("CONNECT pool.example:3333 HTTP/1.1\r\nHost: pool.example:3333\r\n\r\n".utf8).withUnsafeBytes { b in
            q.feed(b) {
                if case .head(let h) = $0 {
                    heads += 1
                    #expect(h.method == "CONNECT" && h.target == "pool.example:3333")
                }
            }
        }
        #expect(heads == 1 && !q.invalid)
    }

    @Test func websocketUpgradeHandsOverTheRest() {
        let req =
            Array("GET /proxy HTTP/1.1\r\nHost: miner.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
            + [0x81, 0x80, 1, 2, 3, 4]
        let (seen, _) = run(req, requestSide: true, cuts: [])
        #expect(seen == [.head("GET /proxy host=miner.test"), .upgraded(6)])
    }

    @Test func garbageAndOversizedHeadsAreInvalid() {
        #expect(run(Array("NOT HTTP AT ALL\r\n\r\n".utf8), requestSide: true, cuts: []).1)
        #expect(
            run(
                Array("GET / HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x41, count: 20000), requestSide: true,
                cuts: []
            ).1)
        #expect(
            run(Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), requestSide: true, cuts: [])
                .1)
        #expect(run(Array("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n".utf8), requestSide: true, cuts: []).1)
    }
}

@Suite struct WebSocketTests {
    func frame(_ payload: [UInt8], opcode: UInt8, fin: Bool = true, mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D])
        -> [UInt8]
    {
        var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let m: UInt8 = mask == nil ? 0 : 0x80
        if payload.count < 126 {
            f.append(m | UInt8(payload.count))
        } else if payload.count < 65536 {
            f += [m | 126] + be16(payload.count)
        } else {
            f +=
                [m | 127, 0, 0, 0, 0] + [
                    UInt8(payload.count >> 24), UInt8(payload.count >> 16 & 0xFF), UInt8(payload.count >> 8 & 0xFF),
                    UInt8(payload.count & 0xFF)
                ]
        }
        if let mask {
            f += mask
            f += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            f += payload
        }
        return f
    }

    @Test func maskedFragmentedAndControlFramesInterleaved() {
        let auth = Array(#"{"type":"auth","params":{"site_key":"abc","type":"anonymous","user":null}}"#.utf8)
        let long = Array(repeating: UInt8(ascii: "x"), count: 300)
        let stream =
            frame(Array(auth[..<10]), opcode: 1, fin: false) + frame([], opcode: 9)
            + frame(Array(auth[10...]), opcode: 0)
            + frame(long, opcode: 1, mask: nil) + frame([3, 0xE8], opcode: 8)
        for cut in 1..<stream.count {
            var r = WebSocketReader()
            var got: [[UInt8]] = []
            stream[..<cut].withUnsafeBytes { r.feed($0) { _, m in got.append(m) } }
            stream[cut...].withUnsafeBytes { r.feed($0) { _, m in got.append(m) } }
            #expect(got == [auth, long], "cut \(cut)")
            #expect(!r.invalid)
        }
    }

    @Test func oversizedMessagesAreSkippedNotBuffered() {
        var r = WebSocketReader(maxMessage: 100)
        var got: [[UInt8]] = []
        let stream = frame([UInt8](repeating: 0x41, count: 70_000), opcode: 2) + frame(Array("ok".utf8), opcode: 1)
        stream.withUnsafeBytes { r.feed($0) { _, m in got.append(m) } }
        #expect(got == [Array("ok".utf8)])
        #expect(r.oversizedMessages == 1)
    }

    @Test func protocolViolationsAreInvalid() {
        var r = WebSocketReader()
        // continuation with no message
        [0x80, 0x02, 0x61, 0x62].withUnsafeBytes { r.feed(UnsafeRawBufferPointer($0)) { _, _ in } }
        #expect(r.invalid)
        var r2 = WebSocketReader()
        [0x83, 0x00].withUnsafeBytes { r2.feed(UnsafeRawBufferPointer($0)) { _, _ in } }  // reserved opcode 3
        #expect(r2.invalid)
    }
}
