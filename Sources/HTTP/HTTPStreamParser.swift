import SafeNumbers

/// One HTTP/1.x message head.
public struct HTTPHead: Sendable, Equatable {
    public var isRequest: Bool
    public var method = ""
    public var target = ""
    public var version = ""
    public var status = 0
    /// Header fields in order, names as sent. Values are wire text: escape when printing.
    public var headers: [(name: String, value: String)] = []

    /// Field names lower-cased once at parse time, for lookups.
    var lowerNames: [String] = []

    /// The first field called `name` (give it in lower case).
    /// Whether a header's name, lower-cased, starts with `prefix` (a cheap test before several lookups).
    public func hasHeader(namePrefix prefix: String) -> Bool {
        lowerNames.isEmpty
            ? headers.contains { $0.name.lowercased().hasPrefix(prefix) }
            : lowerNames.contains { $0.utf8.starts(with: prefix.utf8) }
    }

    public func header(_ name: String) -> String? {
        if let i = lowerNames.firstIndex(of: name) { return headers[i].value }
        return lowerNames.isEmpty ? headers.first { $0.name.lowercased() == name }?.value : nil
    }

    public static func == (a: HTTPHead, b: HTTPHead) -> Bool {
        a.isRequest == b.isRequest && a.method == b.method && a.target == b.target && a.status == b.status
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// How the message's body is delimited (RFC 9112 §6.3).
    public enum BodyFraming: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
        /// A response without a length: the body runs until the connection closes.
        case untilClose
        /// After a WebSocket upgrade the bytes are frames, not a body.
        case upgraded
        /// A Content-Length that is not a number.
        case invalid
    }

    public var bodyFraming: BodyFraming {
        if isWebSocketUpgrade { return .upgraded }
        if !isRequest && (status < 200 || status == 204 || status == 304) { return .none }
        if let te = header("transfer-encoding"), te.lowercased().contains("chunked") { return .chunked }
        if let cl = header("content-length") {  // values arrive trimmed of spaces and tabs
            guard let n = Int(cl), n >= 0 else { return .invalid }
            return n == 0 ? .none : .length(n)
        }
        return isRequest ? .none : .untilClose
    }

    /// An Upgrade to WebSocket (request) or its acceptance (101 response).
    public var isWebSocketUpgrade: Bool {
        (header("upgrade")?.lowercased().contains("websocket") ?? false) && (isRequest || status == 101)
    }
}

public struct HTTPLimits: Sendable, Equatable {
    /// Longest message head (request/status line plus headers).
    public var maxHeadBytes = 16 * 1024
    /// Most header fields kept per head.
    public var maxHeaders = 64
    /// Most body bytes kept for inspection; the rest of a longer body is skipped, not buffered.
    public var maxBodyBytes = 64 * 1024
    public init() {}
}

public enum HTTPEvent {
    case head(HTTPHead)
    /// A complete message body (or its first `maxBodyBytes`, `truncated` then true).
    case body([UInt8], truncated: Bool)
    /// Bytes after a WebSocket upgrade (frames), borrowed.
    case upgraded(UnsafeRawBufferPointer)
}

/// Parses one direction of an HTTP/1.x connection: heads, then bodies framed by
/// Content-Length or chunked transfer coding (RFC 9112 §6–7), repeatedly (keep-alive).
/// Lines may be split across segments anywhere. After a WebSocket upgrade it hands
/// the raw bytes on. Bounded by `HTTPLimits`; anything unparseable sets `invalid`.
public struct HTTPStreamParser {
    public let limits: HTTPLimits
    public let requestSide: Bool
    public private(set) var invalid = false
    public private(set) var messages = 0

    private enum BodyState {
        case none
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case upgraded
    }
    private var state = BodyState.none
    private var buffer: [UInt8] = []
    private var body: [UInt8] = []
    /// Bytes allocated for a partial head and a kept body.
    public var bufferedBytes: Int { buffer.capacity + body.capacity }
    private var bodyTruncated = false
    /// Set when a body's first bytes show it is not JSON and `jsonBodiesOnly` is on.
    private var bodyIgnored = false
    /// Keep only bodies that start with '{' or '[' (after whitespace): the only ones the
    /// detector reads. Others are skipped without copying (downloads cost nothing).
    public let jsonBodiesOnly: Bool

    public init(requestSide: Bool, limits: HTTPLimits = HTTPLimits(), jsonBodiesOnly: Bool = false) {
        self.requestSide = requestSide
        self.limits = limits
        self.jsonBodiesOnly = jsonBodiesOnly
    }

    /// - Complexity: O(n) in the bytes fed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (HTTPEvent) -> Void) {
        guard !invalid else { return }
        if case .upgraded = state {
            emit(.upgraded(bytes))
            return
        }
        var input = bytes[...]
        while !input.isEmpty && !invalid {
            switch state {
            case .none:
                // Accumulate a head up to the blank line.
                let before = buffer.count
                buffer.append(contentsOf: input)
                guard let end = Self.headEnd(buffer, from: max(0, before - 3)) else {
                    if buffer.count > limits.maxHeadBytes { invalid = true }
                    return
                }
                let rest = buffer.count - end
                guard let head = parseHead(buffer[..<end]) else {
                    invalid = true
                    return
                }
                input = input.suffix(rest)
                buffer.removeAll(keepingCapacity: true)
                messages += 1
                emit(.head(head))
                startBody(head)
                if case .upgraded = state {
                    if !input.isEmpty { emit(.upgraded(UnsafeRawBufferPointer(rebasing: input))) }
                    return
                }
                if case .none = state { continue }
            case .length(let remaining):
                let n = min(remaining, input.count)
                keep(input.prefix(n))
                input = input.dropFirst(n)
                if remaining - n == 0 { finishBody(emit) } else { state = .length(remaining: remaining - n) }
            case .chunkSize, .trailers, .chunkDataEnd:
                guard let nl = input.firstIndex(of: 0x0A) else {
                    buffer.append(contentsOf: input)
                    if buffer.count > 1024 { invalid = true }
                    return
                }
                buffer.append(contentsOf: input[..<nl])
                input = input[(nl + 1)...]
                let line = buffer.last == 0x0D ? buffer.dropLast() : buffer[...]
                defer { buffer.removeAll(keepingCapacity: true) }
                switch state {
                case .chunkSize:
                    // chunk-size [ chunk-ext ] CRLF
                    let hex = line.prefix { $0 != 0x3B && $0 != 0x20 && $0 != 0x09 }
                    // Hex digits only: Int(_:radix:) would take "-1", and a negative size would trap below.
                    guard let size = parseHexDigits(hex, maximum: 1 << 40) else {
                        invalid = true
                        return
                    }
                    state = size == 0 ? .trailers : .chunkData(remaining: size)
                case .chunkDataEnd:
                    guard line.isEmpty else {
                        invalid = true
                        return
                    }
                    state = .chunkSize
                default:  // trailers end at an empty line
                    if line.isEmpty { finishBody(emit) }
                }
            case .chunkData(let remaining):
                let n = min(remaining, input.count)
                keep(input.prefix(n))
                input = input.dropFirst(n)
                state = remaining - n == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .untilClose:
                keep(input)
                return
            case .upgraded:
                emit(.upgraded(UnsafeRawBufferPointer(rebasing: input)))
                return
            }
        }
    }

    /// The connection ended: a body delimited by close is complete.
    public mutating func end(emit: (HTTPEvent) -> Void) {
        if case .untilClose = state { finishBody(emit) }
    }

    private mutating func keep(_ bytes: Slice<UnsafeRawBufferPointer>) {
        if jsonBodiesOnly {
            if bodyIgnored { return }
            if body.isEmpty, let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }),
                first != UInt8(ascii: "{") && first != UInt8(ascii: "[")
            {
                bodyIgnored = true
                return
            }
        }
        let room = limits.maxBodyBytes - body.count
        if bytes.count > room { bodyTruncated = true }
        if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
    }

    private mutating func finishBody(_ emit: (HTTPEvent) -> Void) {
        emit(.body(body, truncated: bodyTruncated))
        body.removeAll(keepingCapacity: true)
        bodyTruncated = false
        bodyIgnored = false
        state = .none
    }

    /// Set on the response side when the request was a CONNECT: a 2xx answer opens a tunnel, and
    /// every byte after its head is tunnel data (emitted as `.upgraded`), not another response.
    public var tunnelOnSuccess = false

    private mutating func startBody(_ head: HTTPHead) {
        if tunnelOnSuccess && !head.isRequest {
            tunnelOnSuccess = false
            if (200..<300).contains(head.status) {
                state = .upgraded
                return
            }
        }
        if head.isRequest && head.method == "CONNECT" {
            state = .none
            return
        }  // a CONNECT has no body
        switch head.bodyFraming {
        case .upgraded: state = .upgraded
        case .none: state = .none
        case .chunked: state = .chunkSize
        case .length(let n): state = .length(remaining: n)
        case .untilClose: state = .untilClose
        case .invalid: invalid = true
        }
    }

    /// Index just past the CRLFCRLF (or LFLF) ending a head.
    static func headEnd(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while i < b.count {
            if b[i] == 0x0A {
                if i + 1 < b.count && b[i + 1] == 0x0A { return i + 2 }
                if i + 2 < b.count && b[i + 1] == 0x0D && b[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses a head in place over its bytes: one String per field kept, no intermediate arrays.
    private func parseHead(_ bytes: ArraySlice<UInt8>) -> HTTPHead? {
        var head = HTTPHead(isRequest: requestSide)
        // Room for a typical head's headers at once (growing one at a time was a fifth of the parse).
        head.headers.reserveCapacity(12)
        head.lowerNames.reserveCapacity(12)
        var lineStart = bytes.startIndex
        var first = true
        while lineStart < bytes.endIndex {
            let nl = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var lineEnd = nl
            if lineEnd > lineStart && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = bytes[lineStart..<lineEnd]
            lineStart = nl + 1
            if line.isEmpty { if first { return nil } else { break } }
            if first {
                first = false
                guard parseStartLine(line, into: &head) else { return nil }
                continue
            }
            guard head.headers.count < limits.maxHeaders else { continue }
            guard let colon = line.firstIndex(of: 0x3A) else { return nil }
            var v0 = colon + 1
            var v1 = line.endIndex
            while v0 < v1 && (bytes[v0] == 0x20 || bytes[v0] == 0x09) { v0 += 1 }
            while v1 > v0 && (bytes[v1 - 1] == 0x20 || bytes[v1 - 1] == 0x09) { v1 -= 1 }
            let name = line[line.startIndex..<colon]
            head.headers.append(
                (String(decoding: name, as: UTF8.self), String(decoding: bytes[v0..<v1], as: UTF8.self)))
            // ASCII letters lowered in a plain array (decoding a lazy map went through dynamic casts).
            var lower = Array(name)
            for i in lower.indices where lower[i] >= 0x41 && lower[i] <= 0x5A { lower[i] |= 0x20 }
            head.lowerNames.append(String(decoding: lower, as: UTF8.self))
        }
        return first ? nil : head
    }

    /// "METHOD target HTTP/1.x" or "HTTP/1.x code reason".
    private func parseStartLine(_ line: ArraySlice<UInt8>, into head: inout HTTPHead) -> Bool {
        guard let sp1 = line.firstIndex(of: 0x20) else { return false }
        let rest = line[(sp1 + 1)...]
        let a = String(decoding: line[..<sp1], as: UTF8.self)
        if requestSide {
            guard let sp2 = rest.lastIndex(of: 0x20), sp2 > rest.startIndex else { return false }
            let version = String(decoding: rest[(sp2 + 1)...], as: UTF8.self)
            guard version.hasPrefix("HTTP/1."), HTTPProbe.isToken(a) else { return false }
            head.method = a
            head.target = String(decoding: rest[..<sp2], as: UTF8.self)
            head.version = version
        } else {
            let codeEnd = rest.firstIndex(of: 0x20) ?? rest.endIndex
            guard a.hasPrefix("HTTP/1."), let code = Int(String(decoding: rest[..<codeEnd], as: UTF8.self)),
                (100...999).contains(code)
            else { return false }
            head.version = a
            head.status = code
        }
        return true
    }
}

/// Cheap checks on a stream's first bytes.
public enum HTTPProbe {
    static let methods = ["GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT "]

    /// A request line start ("GET ", "POST " ...) or a status line start ("HTTP/1.").
    public static func looksLikeRequest(_ b: UnsafeRawBufferPointer) -> Bool {
        for m in methods where b.count >= m.utf8.count && b.prefix(m.utf8.count).elementsEqual(m.utf8) { return true }
        return false
    }

    public static func looksLikeResponse(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count >= 7 && b.prefix(7).elementsEqual("HTTP/1.".utf8)
    }

    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x2D || $0 == 0x5F }
    }
}
