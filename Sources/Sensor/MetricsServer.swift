import Foundation
import Locking
import OS

/// The HTTP endpoint for `--metrics HOST:PORT`: `GET /metrics` (Prometheus text format) and
/// `GET /healthz` (200 "ok", or 503 and why), one request per connection, on a thread of its own so
/// that it never holds up capture. Many connections at once, none of which can hold up another: the
/// thread waits on all of them together (non-blocking sockets, `poll`), each connection has
/// `deadline` from its arrival to its answer, and past `capacity` the oldest connection makes room for
/// the newest — so a monitoring system's `/healthz` is answered at once even while a thousand idle or
/// slow clients hold connections open. Requests are read up to 4 KiB and never echoed.
public final class MetricsServer: Sendable {
    /// Connections served at once; beyond, the oldest is dropped.
    public static let capacity = 64
    /// From a connection's arrival to its answer, at most.
    public static let deadline = Duration.seconds(2)

    private let fd: Int32
    private let stopping = Locked(false)
    private let done = DispatchSemaphore(value: 0)
    /// Connections dropped so far (the cap, the deadline): also `stratumsniff_metrics_connections_dropped_total`.
    private let droppedCount = Locked(0)
    public var dropped: Int { droppedCount.withLock { $0 } }

    /// Listens on `address` (HOST:PORT); the error says what to change.
    public init(address: String, metrics: SensorMetrics) throws(MetricsError) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]),
            port > 0
        else {
            throw MetricsError(description: "--metrics \(address): write it as HOST:PORT, e.g. 127.0.0.1:9977")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // A backlog that a burst of connections does not fill before the loop accepts them.
        switch OS.listen(host: host, port: port, backlog: 1024) {
        case .success(let listening): fd = listening
        case .failure(let e):
            throw MetricsError(
                description: "--metrics \(address): cannot listen (\(e.text)); choose another address or port")
        }
        OS.setNonBlocking(fd)
        let fd = fd
        let stopping = stopping
        let done = done
        let droppedCount = droppedCount
        Thread {
            var loop = ServerLoop(listening: fd, metrics: metrics)
            while !stopping.withLock({ $0 }) {
                loop.turn()
                let dropped = loop.connections.dropped
                droppedCount.withLock { $0 = dropped }
            }
            loop.closeAll()
            done.signal()
        }.start()
    }

    public func stop() {
        stopping.withLock { $0 = true }
        done.wait()
        OS.close(fd)
    }
}

/// The server thread's state: the listening socket and its connections, one `turn` per wake-up.
private struct ServerLoop {
    let listening: Int32
    let metrics: SensorMetrics
    var connections = EndpointConnections(capacity: MetricsServer.capacity, deadline: MetricsServer.deadline)
    private var reportedDrops = 0

    init(listening: Int32, metrics: SensorMetrics) {
        self.listening = listening
        self.metrics = metrics
    }

    /// Waits up to 100 ms for anything to do (the stop flag is looked at between turns), then does it.
    mutating func turn() {
        var entries =
            [OS.PollEntry(fd: listening)]
            + connections.all.map { OS.PollEntry(fd: $0.fd, wantsWrite: $0.answer != nil) }
        OS.poll(&entries, milliseconds: 100)
        for entry in entries.dropFirst() where entry.ready { serve(entry.fd) }
        let now = ContinuousClock.now
        if entries[0].ready {
            // Everything waiting, a bounded number per turn so that the connections above are served too.
            for _ in 0..<256 {
                guard let accepted = OS.accept(listening) else { break }
                OS.setNonBlocking(accepted)
                if let evicted = connections.accept(accepted, at: now) { OS.close(evicted) }
            }
        }
        for expired in connections.expire(at: now) { OS.close(expired) }
        if connections.dropped > reportedDrops {
            metrics.registry.makeCounter(
                descriptor: .named(
                    "stratumsniff_metrics_connections_dropped_total",
                    help: "Connections to this endpoint dropped unanswered (too many at once, or too slow)."),
                labels: []
            )
            .increment(by: Int64(connections.dropped - reportedDrops))
            reportedDrops = connections.dropped
        }
    }

    /// Reads the request or writes the answer, as far as the socket allows now.
    private mutating func serve(_ fd: Int32) {
        guard let connection = connections.connection(fd) else { return }
        if connection.answer == nil {
            switch OS.receive(fd, limit: EndpointConnections.maxRequest - connection.request.count) {
            case .nothing: return
            case .closed:
                connections.remove(fd)
                OS.close(fd)
                return
            case .bytes(let bytes):
                guard let path = connections.received(bytes, on: fd) else { return }
                connections.answer(fd, with: Array(Self.answer(path, metrics).utf8))
            }
        }
        guard let pending = connections.connection(fd), let answer = pending.answer else { return }
        guard let sent = OS.sendSome(fd, answer, from: pending.sent) else {
            connections.remove(fd)
            OS.close(fd)
            return
        }
        if connections.sent(sent, on: fd) { OS.close(fd) }
    }

    func closeAll() {
        for connection in connections.all { OS.close(connection.fd) }
    }

    /// The whole HTTP answer for a request of `path`.
    static func answer(_ path: String, _ metrics: SensorMetrics) -> String {
        let plain = "text/plain; charset=utf-8"
        let (status, type, body): (String, String, String)
        switch path {
        case "/metrics":
            (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.text())
        case "/healthz":
            let problem = metrics.health(at: WallTime.now())
            (status, type, body) = (
                problem == nil ? "200 OK" : "503 Service Unavailable", plain, (problem ?? "ok") + "\n"
            )
        default:
            (status, type, body) = ("404 Not Found", plain, "GET /metrics or /healthz\n")
        }
        return
            "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            + body
    }
}

/// The endpoint's connections as a value: which are kept, which is answered, which are dropped. No
/// I/O here (the server's loop does it), so the rules are tested with made-up times.
struct EndpointConnections {
    /// A request is read up to this many bytes; one that does not end by then is answered as it is.
    static let maxRequest = 4096

    struct Connection {
        var fd: Int32
        var arrived: ContinuousClock.Instant
        var request: [UInt8] = []
        /// The answer, once the request is complete, and how much of it is sent.
        var answer: [UInt8]?
        var sent = 0
    }

    let capacity: Int
    let deadline: Duration
    /// Oldest first.
    private(set) var all: [Connection] = []
    /// Connections dropped unanswered: to make room, or past their deadline.
    private(set) var dropped = 0

    init(capacity: Int, deadline: Duration) {
        self.capacity = max(capacity, 1)
        self.deadline = deadline
    }

    func connection(_ fd: Int32) -> Connection? { all.first { $0.fd == fd } }

    /// Takes a new connection; returns the connection dropped to make room for it, if one was.
    /// - Complexity: O(capacity).
    mutating func accept(_ fd: Int32, at now: ContinuousClock.Instant) -> Int32? {
        var evicted: Int32?
        if all.count >= capacity {
            // The oldest still waiting for its request: it has had the longest to send it. (One being
            // answered is nearly done; dropping it would waste the work.)
            let victim = all.firstIndex { $0.answer == nil } ?? 0
            evicted = all.remove(at: victim).fd
            dropped += 1
        }
        all.append(Connection(fd: fd, arrived: now))
        return evicted
    }

    /// Adds bytes of `fd`'s request; the requested path once the request is complete (its head ended,
    /// or `maxRequest` reached), "" when it is not a GET.
    mutating func received(_ bytes: [UInt8], on fd: Int32) -> String? {
        guard let index = all.firstIndex(where: { $0.fd == fd }) else { return nil }
        all[index].request += bytes.prefix(max(Self.maxRequest - all[index].request.count, 0))
        let request = all[index].request
        guard Self.headEnded(request) || request.count >= Self.maxRequest else { return nil }
        let firstLine = request.prefix { $0 != 0x0D && $0 != 0x0A }.split(separator: 0x20)
        guard firstLine.count >= 2, firstLine[0].elementsEqual("GET".utf8) else { return "" }
        return String(decoding: firstLine[1], as: UTF8.self)
    }

    /// Whether `request` holds an empty line (the end of an HTTP head).
    static func headEnded(_ request: [UInt8]) -> Bool {
        var previousNewline = false
        for byte in request where byte != 0x0D {
            if byte == 0x0A {
                if previousNewline { return true }
                previousNewline = true
            } else {
                previousNewline = false
            }
        }
        return false
    }

    mutating func answer(_ fd: Int32, with bytes: [UInt8]) {
        guard let index = all.firstIndex(where: { $0.fd == fd }) else { return }
        all[index].answer = bytes
    }

    /// Records `count` more bytes of the answer sent; true (and the connection forgotten) when all are.
    mutating func sent(_ count: Int, on fd: Int32) -> Bool {
        guard let index = all.firstIndex(where: { $0.fd == fd }) else { return false }
        all[index].sent += count
        guard all[index].sent >= all[index].answer?.count ?? Int.max else { return false }
        all.remove(at: index)
        return true
    }

    mutating func remove(_ fd: Int32) { all.removeAll { $0.fd == fd } }

    /// Drops the connections whose deadline passed; returns them.
    mutating func expire(at now: ContinuousClock.Instant) -> [Int32] {
        let late = all.filter { $0.arrived.duration(to: now) > deadline }.map(\.fd)
        guard !late.isEmpty else { return [] }
        all.removeAll { $0.arrived.duration(to: now) > deadline }
        dropped += late.count
        return late
    }
}
