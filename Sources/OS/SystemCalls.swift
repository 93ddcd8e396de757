#if canImport(Glibc)
    import Glibc
#endif

/// The system calls StratumSniff makes outside libpcap, in one thin place (this module): files,
/// sockets, polling, the terminal, the process. Everything above speaks these small Swift calls;
/// only this module imports Glibc (and PacketCapture, the libpcap door).
public enum OS {
    /// The text of the last error (`errno`).
    public static var lastError: String { String(cString: strerror(errno)) }

    // MARK: - Process and terminal

    public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

    public static var processID: Int32 { getpid() }

    public static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    /// Writes all of `text` to standard error in one call (a line is not interleaved with another's).
    public static func writeStandardError(_ text: String) {
        var copy = text
        copy.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }

    // MARK: - Polling

    /// Waits up to `milliseconds` for any descriptor to be readable; which ones are (a negative
    /// descriptor — a source that cannot be polled — always counts as ready).
    public static func waitReadable(_ fds: [Int32], milliseconds: Int32) -> [Bool] {
        var entries = fds.map { PollEntry(fd: $0) }
        poll(&entries, milliseconds: milliseconds)
        return entries.map { $0.ready || $0.fd < 0 }
    }

    // MARK: - Files

    /// Opens `path` for appending (created 0640), never through a symbolic link; returns the
    /// descriptor and the file's size, or the error's text.
    public static func openForAppend(_ path: String) -> Result<(fd: Int32, size: Int), AppendError> {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { return .failure(AppendError(text: lastError)) }
        var st = stat()
        return .success((fd, fstat(fd, &st) == 0 ? Int(st.st_size) : 0))
    }

    public struct AppendError: Error { public var text: String }

    /// Bytes written, or -1.
    public static func write(_ fd: Int32, _ text: String) -> Int {
        var copy = text
        return copy.withUTF8 { buf in Glibc.write(fd, buf.baseAddress, buf.count) }
    }

    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Sleeps for `seconds` (fractions too); returns early only on a signal.
    public static func sleep(seconds: Double) {
        guard seconds > 0, seconds.isFinite else { return }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        _ = nanosleep(&ts, nil)
    }

    /// Renames `from` to `to` (replacing it); false when it failed (a missing source is no error to us).
    @discardableResult
    public static func rename(_ from: String, _ to: String) -> Bool { Glibc.rename(from, to) == 0 }

    // MARK: - Sockets

    /// A connected UDP or TCP socket to `host:port`, or nil.
    public static func connect(host: String, port: UInt16, tcp: Bool) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { return nil }
        defer { freeaddrinfo(res) }
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, 0)
        guard s >= 0 else { return nil }
        if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            Glibc.close(s)
            return nil
        }
        return s
    }

    /// The numeric addresses `host` resolves to (IPv4 first), or why it does not.
    public static func resolve(_ host: String) -> Result<[String], AppendError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &res)
        guard status == 0, let first = res else {
            return .failure(AppendError(text: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(res) }
        var v4: [String] = []
        var v6: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let ai = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                ai.pointee.ai_addr, ai.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0
            {
                let address = String(
                    decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if ai.pointee.ai_family == AF_INET6 {
                    if !v6.contains(address) { v6.append(address) }
                } else if !v4.contains(address) {
                    v4.append(address)
                }
            }
            node = ai.pointee.ai_next
        }
        return .success(v4 + v6)
    }

    /// A non-blocking TCP socket connected to a numeric `address`, waiting at most `milliseconds`
    /// for the handshake; or why not ("Connection refused", "timed out after 3000 ms").
    public static func connect(address: String, port: UInt16, milliseconds: Int32) -> Result<Int32, AppendError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address, String(port), &hints, &res) == 0, let ai = res else {
            return .failure(AppendError(text: "not a numeric address: \(address)"))
        }
        defer { freeaddrinfo(res) }
        let s = socket(
            ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0)
        guard s >= 0 else { return .failure(AppendError(text: lastError)) }
        if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let text = lastError
                Glibc.close(s)
                return .failure(AppendError(text: text))
            }
            var entry = [pollfd(fd: s, events: Int16(POLLOUT), revents: 0)]
            guard Glibc.poll(&entry, 1, milliseconds) == 1 else {
                Glibc.close(s)
                return .failure(AppendError(text: "timed out after \(milliseconds) ms"))
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(s, SOL_SOCKET, SO_ERROR, &failure, &length)
            if failure != 0 {
                Glibc.close(s)
                return .failure(AppendError(text: String(cString: strerror(failure))))
            }
        }
        return .success(s)
    }

    /// Waits at most `milliseconds` until `fd` can be read (or written, with `write`); false on timeout.
    public static func wait(_ fd: Int32, write: Bool = false, milliseconds: Int32) -> Bool {
        var entry = [pollfd(fd: fd, events: Int16(write ? POLLOUT : POLLIN), revents: 0)]
        return Glibc.poll(&entry, 1, max(milliseconds, 0)) == 1
    }

    /// A TCP socket listening on `host:port` (numeric address or name), or the error's text.
    /// - Parameter backlog: connections the kernel holds until they are accepted.
    public static func listen(host: String, port: UInt16, backlog: Int32 = 16) -> Result<Int32, AppendError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
            return .failure(AppendError(text: "cannot resolve \(host)"))
        }
        defer { freeaddrinfo(res) }
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return .failure(AppendError(text: lastError)) }
        var yes: Int32 = 1
        _ = setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, Glibc.listen(s, backlog) == 0 else {
            let text = lastError
            Glibc.close(s)
            return .failure(AppendError(text: text))
        }
        return .success(s)
    }

    /// A connection waiting on a listening socket (poll it first), or nil.
    public static func accept(_ fd: Int32) -> Int32? {
        let c = Glibc.accept(fd, nil, nil)
        guard c >= 0 else { return nil }
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        return c
    }

    /// Makes `fd` non-blocking: reads and writes return at once (`receive`, `sendSome`, `accept`).
    public static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// One descriptor to wait on: `wantsWrite` waits for room to write, else for something to read.
    public struct PollEntry: Sendable {
        public var fd: Int32
        public var wantsWrite: Bool
        /// After `poll`: whether the descriptor is ready (an error or hang-up counts as ready).
        public var ready = false
        public init(fd: Int32, wantsWrite: Bool = false) {
            self.fd = fd
            self.wantsWrite = wantsWrite
        }
    }

    /// Waits up to `milliseconds` for any entry to be ready, and marks which are.
    public static func poll(_ entries: inout [PollEntry], milliseconds: Int32) {
        var polled = entries.map { pollfd(fd: $0.fd, events: Int16($0.wantsWrite ? POLLOUT : POLLIN), revents: 0) }
        _ = Glibc.poll(&polled, nfds_t(polled.count), milliseconds)
        for index in entries.indices { entries[index].ready = polled[index].revents != 0 }
    }

    /// What a non-blocking read found.
    public enum Received: Sendable {
        case bytes([UInt8])
        /// Nothing to read yet.
        case nothing
        /// The peer closed, or the connection failed.
        case closed
    }

    /// Up to `limit` bytes from a non-blocking `fd`, without waiting.
    public static func receive(_ fd: Int32, limit: Int) -> Received {
        var buffer = [UInt8](repeating: 0, count: max(limit, 1))
        let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .bytes(Array(buffer[..<count])) }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return .nothing }
        return .closed
    }

    /// Sends what of `bytes[offset...]` a non-blocking socket takes now, without SIGPIPE: the bytes
    /// sent (0 when it has no room), or nil when the connection failed.
    public static func sendSome(_ fd: Int32, _ bytes: [UInt8], from offset: Int) -> Int? {
        guard offset < bytes.count else { return 0 }
        let sent = bytes.withUnsafeBytes { buffer in
            Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
        }
        if sent >= 0 { return sent }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : nil
    }

    /// Up to `limit` bytes from `fd`, waiting at most `milliseconds` for the first; empty at end or timeout.
    public static func read(_ fd: Int32, limit: Int, milliseconds: Int32) -> [UInt8] {
        guard waitReadable([fd], milliseconds: milliseconds)[0] else { return [] }
        var buf = [UInt8](repeating: 0, count: max(limit, 1))
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buf[..<n]) : []
    }

    /// Sends `text` on a connected socket without dying of SIGPIPE; bytes sent, or -1.
    public static func send(_ fd: Int32, _ text: String) -> Int {
        var copy = text
        return copy.withUTF8 { b in Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL)) }
    }
}
