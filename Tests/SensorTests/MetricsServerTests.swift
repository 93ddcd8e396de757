import Foundation
import OS
import PacketDecoding
import Testing

@testable import Sensor

/// The metrics endpoint's connection rules as a value (made-up times), then the real server under a
/// thousand idle and slow connections.
struct EndpointConnectionsTests {
    let start = ContinuousClock.now

    @Test func pastCapacityTheOldestWaitingConnectionMakesRoom() {
        var table = EndpointConnections(capacity: 3, deadline: .seconds(2))
        #expect(table.accept(10, at: start) == nil)
        #expect(table.accept(11, at: start) == nil)
        table.answer(10, with: Array("HTTP/1.1 200 OK\r\n\r\n".utf8))  // 10 is being answered: kept
        #expect(table.accept(12, at: start) == nil)
        #expect(table.accept(13, at: start) == 11)
        #expect(table.accept(14, at: start) == 12)
        #expect(table.all.map(\.fd) == [10, 13, 14] && table.dropped == 2)
    }

    @Test func aConnectionPastItsDeadlineIsDropped() {
        var table = EndpointConnections(capacity: 8, deadline: .seconds(2))
        _ = table.accept(10, at: start)
        _ = table.accept(11, at: start + .seconds(1))
        #expect(table.expire(at: start + .milliseconds(1900)).isEmpty)
        #expect(table.expire(at: start + .milliseconds(2100)) == [10])
        #expect(table.expire(at: start + .milliseconds(3100)) == [11])
        #expect(table.all.isEmpty && table.dropped == 2)
    }

    @Test func aRequestIsAnsweredOnceItsHeadEnds() {
        var table = EndpointConnections(capacity: 8, deadline: .seconds(2))
        _ = table.accept(10, at: start)
        #expect(table.received(Array("GET /hea".utf8), on: 10) == nil)
        #expect(table.received(Array("lthz HTTP/1.1\r\nHost: x\r\n".utf8), on: 10) == nil)
        #expect(table.received(Array("\r\n".utf8), on: 10) == "/healthz")
        _ = table.accept(11, at: start)
        #expect(table.received(Array("POST /metrics HTTP/1.0\n\n".utf8), on: 11) == "")
        // A head that never ends is answered at 4 KiB, not read further.
        _ = table.accept(12, at: start)
        #expect(
            table.received(Array("GET /metrics HTTP/1.1\r\nX: ".utf8) + Array(repeating: 0x61, count: 5000), on: 12)
                == "/metrics")
        #expect(table.connection(12)?.request.count == EndpointConnections.maxRequest)
        table.answer(10, with: Array(repeating: 0x41, count: 10))
        let partly = table.sent(6, on: 10)
        let wholly = table.sent(4, on: 10)
        #expect(!partly && wholly)
        #expect(table.connection(10) == nil)
    }
}

@Suite(.serialized) struct MetricsServerTests {
    /// Raises this process's descriptor limit (a thousand client sockets), at most to the hard limit.
    static func allowDescriptors(_ count: rlim_t) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < count {
            limit.rlim_cur = min(count, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// A whole GET on a new connection; the answer and how long it took.
    static func get(_ path: String, port: UInt16) -> (String, Duration) {
        let started = ContinuousClock.now
        guard let fd = OS.connect(host: "127.0.0.1", port: port, tcp: true) else { return ("", .zero) }
        defer { OS.close(fd) }
        _ = OS.send(fd, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        var out: [UInt8] = []
        while true {
            let bytes = OS.read(fd, limit: 65536, milliseconds: 5000)
            if bytes.isEmpty { break }
            out += bytes
        }
        return (String(decoding: out, as: UTF8.self), started.duration(to: .now))
    }

    @Test func healthzAnswersAtOnceUnderAThousandIdleAndSlowConnections() throws {
        Self.allowDescriptors(4096)
        let metrics = SensorMetrics()
        metrics.update(SensorMetrics.Snapshot(), at: WallTime.now())
        let port: UInt16 = 19981
        let server = try MetricsServer(address: "127.0.0.1:\(port)", metrics: metrics)
        defer { server.stop() }
        // 800 connections that send nothing, 200 that send half a request and stop (the slow-client pattern).
        var held: [Int32] = []
        defer { for fd in held { OS.close(fd) } }
        for index in 0..<1000 {
            guard let fd = OS.connect(host: "127.0.0.1", port: port, tcp: true) else { continue }
            if index % 5 == 0 { _ = OS.send(fd, "GET /metr") }
            held.append(fd)
        }
        #expect(held.count == 1000, "client connections made: \(held.count)")
        // Best of three: the rule is about the server, not about a scheduler's bad moment.
        var best = Duration.seconds(60)
        for _ in 0..<3 {
            let (answer, took) = Self.get("/healthz", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 200 OK") && answer.hasSuffix("ok\n"), "healthz: \(answer)")
            best = min(best, took)
        }
        #expect(best < .milliseconds(100), "healthz took \(best) with a thousand connections held open")
        // The server held at most its capacity: the rest were dropped to make room (and counted).
        #expect(Lab.waitFor(2) { server.dropped >= 1000 - MetricsServer.capacity }, "dropped: \(server.dropped)")
        let (text, _) = Self.get("/metrics", port: port)
        #expect(text.contains("stratumsniff_metrics_connections_dropped_total "), "\(text.suffix(600))")
    }

    @Test func aSlowClientIsCutOffAtTheDeadline() throws {
        let metrics = SensorMetrics()
        metrics.update(SensorMetrics.Snapshot(), at: WallTime.now())
        let port: UInt16 = 19982
        let server = try MetricsServer(address: "127.0.0.1:\(port)", metrics: metrics)
        defer { server.stop() }
        let fd = try #require(OS.connect(host: "127.0.0.1", port: port, tcp: true))
        defer { OS.close(fd) }
        _ = OS.send(fd, "GET /healthz HTTP/1.1\r\n")  // and never the empty line
        let started = ContinuousClock.now
        // The server closes it: end of stream (an empty read) within the deadline and a little.
        let bytes = OS.read(fd, limit: 100, milliseconds: 5000)
        let took = started.duration(to: .now)
        #expect(bytes.isEmpty && took < MetricsServer.deadline + .seconds(1), "read \(bytes.count) bytes after \(took)")
        // (Counted once the server's turn ends, a moment after the close the client saw.)
        #expect(Lab.waitFor(2) { server.dropped == 1 }, "dropped: \(server.dropped)")
    }
}

/// `waitFor` as the end-to-end tests have it.
enum Lab {
    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }
}
