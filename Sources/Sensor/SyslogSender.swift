import Foundation
import OS
import PacketDecoding
import Reporting
import Synchronization

/// RFC 5424 messages to a collector over UDP (one datagram each) or TCP (RFC 6587 octet
/// counting), from a background thread behind a bounded queue. Reconnects with back-off;
/// never blocks capture.
public final class SyslogSender: Sendable {
    public enum Transport: String, Sendable { case udp, tcp }
    public enum Severity: Int, Sendable {
        case warning = 4
        case notice = 5
        case info = 6
    }

    public let host: String
    public let port: UInt16
    public let transport: Transport
    private let queue: BoundedQueue<String>
    private let hostname: String
    private let sentCount = Atomic<Int>(0)
    public var sent: Int { sentCount.load(ordering: .relaxed) }
    public var dropped: Int { queue.dropped }

    /// Parses "host:port", "udp://host:port" or "tcp://host:port" ("[v6]:port" for IPv6).
    public static func parse(_ target: String) -> (String, UInt16, Transport)? {
        var t = Substring(target)
        var transport = Transport.udp
        if t.hasPrefix("udp://") {
            t = t.dropFirst(6)
        } else if t.hasPrefix("tcp://") {
            t = t.dropFirst(6)
            transport = .tcp
        }
        guard let colon = t.lastIndex(of: ":"), let port = UInt16(t[t.index(after: colon)...]), port > 0 else {
            return nil
        }
        var host = t[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return (String(host), port, transport)
    }

    public init(target: String, capacity: Int = 10_000) throws {
        guard let (h, p, t) = Self.parse(target) else {
            throw OutputError(message: "--syslog \(target): write it as HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT")
        }
        host = h
        port = p
        transport = t
        queue = BoundedQueue(capacity: capacity)
        hostname = OS.hostName
        let q = queue
        // The socket belongs to the sender thread alone (confined, not shared).
        Thread { [weak self] in
            var fd: Int32 = -1
            while let msg = q.pop() { self?.deliver(msg, fd: &fd) }
            if fd >= 0 { OS.close(fd) }
        }.start()
    }

    /// Queues one event. `structured` becomes an SD-ELEMENT `[stratumsniff@32473 key="value" ...]`.
    public func send(_ message: String, severity: Severity, msgID: String, structured: [(String, String)] = []) {
        let pri = 16 * 8 + severity.rawValue  // facility local0
        let time = TimeFormat.iso8601(WallTime.now().nanoseconds)
        var sd = "-"
        if !structured.isEmpty {
            sd = "[stratumsniff@32473" + structured.map { " \($0.0)=\"\(Self.sdEscape($0.1))\"" }.joined() + "]"
        }
        // MSG: control characters made visible so a wire string cannot forge a second record.
        let line =
            "<\(pri)>1 \(time) \(hostname) stratumsniff \(OS.processID) \(msgID) \(sd) \(TerminalSafe.escape(message))"
        queue.push(line)
    }

    /// RFC 5424 §6.3.3: in PARAM-VALUE, '"', '\' and ']' are escaped with a backslash.
    static func sdEscape(_ s: String) -> String {
        var out = ""
        for ch in TerminalSafe.escape(s) {
            if ch == "\"" || ch == "]" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Waits briefly for queued messages to go out (shutdown).
    public func flush(timeout: Double = 2) { queue.drain(timeout: timeout) }

    private func deliver(_ line: String, fd: inout Int32) {
        var attempt = 0
        while true {
            if fd < 0 { fd = OS.connect(host: host, port: port, tcp: transport == .tcp) ?? -1 }
            if fd >= 0 {
                let payload = transport == .tcp ? "\(line.utf8.count) \(line)" : line
                if OS.send(fd, payload) >= 0 {
                    sentCount.add(1, ordering: .relaxed)
                    return
                }
                OS.close(fd)
                fd = -1
            }
            attempt += 1
            if attempt >= 5 { return }  // give up on this one; later ones try again
            Thread.sleep(forTimeInterval: min(0.1 * Double(1 << attempt), 2))
        }
    }
}
