import Digests

/// What answered a probe when it was not a pool: another protocol's greeting or error, a JSON-RPC
/// server that is not a pool's, or nothing. Recognised from the first bytes only, the way a person
/// reading them would: every protocol here speaks first or answers garbage in its own words.
public struct ServerReply: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case tls, http, ssh, smtp, ftp, imap, pop3, redis, sip, xmpp, postgresql, mqtt
        case jsonRPC = "json-rpc"
        case text, binary
        /// The connection stayed open and nothing came before the answer timeout.
        case silence
        /// The server closed the connection without a byte.
        case closed
    }

    public var kind: Kind
    /// The words that tell it (a status line, a banner, an error message), as received: escape before printing.
    public var detail: String?

    public init(_ kind: Kind, _ detail: String? = nil) {
        self.kind = kind
        self.detail = detail
    }

    /// "an SSH server (SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3)"
    public var description: String {
        let what: String
        switch kind {
        case .tls: what = "a TLS server"
        case .http: what = "an HTTP server"
        case .ssh: what = "an SSH server"
        case .smtp: what = "an SMTP server"
        case .ftp: what = "an FTP server"
        case .imap: what = "an IMAP server"
        case .pop3: what = "a POP3 server"
        case .redis: what = "a Redis server"
        case .sip: what = "a SIP server"
        case .xmpp: what = "an XMPP server"
        case .postgresql: what = "a PostgreSQL server"
        case .mqtt: what = "an MQTT broker"
        case .jsonRPC: what = "a JSON-RPC server that is not a pool"
        case .text: what = "a text protocol"
        case .binary: what = "a binary protocol"
        case .silence: return "no answer"
        case .closed: return "the connection closed without an answer"
        }
        return detail.map { "\(what) (\($0))" } ?? what
    }

    /// Longest detail kept (a banner or message is cut at a character boundary).
    static let maxDetail = 160

    /// What the first bytes of a non-JSON answer are; nil while too few have come to tell.
    /// - Parameter complete: no more bytes will come (closed, timed out, or the read cap reached).
    static func recognise(_ bytes: ArraySlice<UInt8>, complete: Bool) -> ServerReply? {
        guard let first = bytes.first else { return nil }
        // A TLS record: content type, version 3.x, length. Servers answer a cleartext line with an alert.
        if (first == 0x15 || first == 0x16) && bytes.count >= 3 {
            guard bytes[bytes.startIndex + 1] == 3 else { return binary(bytes) }
            if first == 0x15, bytes.count >= 7 {
                return ServerReply(.tls, "alert: " + TLSAlert.name(bytes[bytes.startIndex + 6]))
            }
            return ServerReply(.tls, first == 0x15 ? "alert" : "handshake")
        }
        // MQTT: a CONNACK (0x20, length 2) or a DISCONNECT (0xE0) to a malformed CONNECT.
        if (first == 0x20 && bytes.count >= 2 && bytes[bytes.startIndex + 1] == 2)
            || (first == 0xE0 && bytes.count >= 2)
        {
            return ServerReply(.mqtt, first == 0x20 ? "CONNACK" : "DISCONNECT")
        }
        // PostgreSQL: an ErrorResponse ('E', 4-byte length, fields such as 'S' severity) or a refusal of SSL ('N').
        if first == UInt8(ascii: "E"), bytes.count >= 6, bytes[bytes.startIndex + 1] == 0,
            let message = postgresMessage(bytes)
        {
            return ServerReply(.postgresql, message)
        }
        let newline = bytes.firstIndex(of: 10)
        guard newline != nil || complete || bytes.count >= 512 else { return nil }
        let line = text(bytes[bytes.startIndex..<(newline ?? bytes.endIndex)])
        guard let line, !line.isEmpty else { return binary(bytes) }
        let lower = line.lowercased()
        if line.hasPrefix("HTTP/") { return ServerReply(.http, line) }
        // HTTP/0.9-style: an error page without a status line, the answer to a request line without a version.
        if lower.hasPrefix("<!doctype html") || lower.hasPrefix("<html") {
            return ServerReply(.http, "an HTML page without a status line")
        }
        if line.hasPrefix("SSH-") { return ServerReply(.ssh, line) }
        if line.hasPrefix("SIP/2.0") { return ServerReply(.sip, line) }
        if line.hasPrefix("* OK") || line.hasPrefix("* BYE") || line.hasPrefix("* PREAUTH") {
            return ServerReply(.imap, line)
        }
        if line.hasPrefix("+OK") { return ServerReply(.pop3, line) }
        if line.hasPrefix("220") || line.hasPrefix("421") || line.hasPrefix("554") || line.hasPrefix("500") {
            if lower.contains("ftp") { return ServerReply(.ftp, line) }
            return ServerReply(.smtp, line)
        }
        if line.hasPrefix("-ERR") || line.hasPrefix("-NOAUTH") || line.hasPrefix("-WRONGTYPE")
            || line.hasPrefix("-DENIED")
            || line.hasPrefix("-WRONGPASS")
        {
            return ServerReply(.redis, line)
        }
        if line.hasPrefix("<?xml") || line.hasPrefix("<stream:") || lower.contains("jabber:") {
            return ServerReply(.xmpp, line)
        }
        return ServerReply(.text, line)
    }

    static func binary(_ bytes: ArraySlice<UInt8>) -> ServerReply {
        ServerReply(.binary, "\(bytes.count) bytes: " + bytes.prefix(16).hexString)
    }

    /// A printable first line (UTF-8, no control characters but tab), cut to `maxDetail`; nil when it is not text.
    public static func text(_ bytes: ArraySlice<UInt8>) -> String? {
        var line = bytes
        while let last = line.last, last == 13 || last == 10 { line = line.dropLast() }
        guard line.allSatisfy({ $0 >= 0x20 || $0 == 9 }), let s = String(validating: line, as: UTF8.self) else {
            return nil
        }
        return cut(s)
    }

    static func cut(_ s: String) -> String {
        guard s.unicodeScalars.count > maxDetail else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.prefix(maxDetail))) + "…"
    }

    /// The 'M' (message) field of a PostgreSQL ErrorResponse whose length fits what came.
    static func postgresMessage(_ bytes: ArraySlice<UInt8>) -> String? {
        let s = bytes.startIndex
        let length = bytes[(s + 1)..<(s + 5)].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 4, length <= 8192 else { return nil }
        let end = min(bytes.endIndex, s + 1 + length)
        var i = s + 5
        while i < end {
            let field = bytes[i]
            guard field != 0, let zero = bytes[(i + 1)..<end].firstIndex(of: 0) else { break }
            if field == UInt8(ascii: "M") { return text(bytes[(i + 1)..<zero]).map { "error: " + $0 } }
            i = zero + 1
        }
        return "error"
    }
}

/// TLS alert descriptions (RFC 8446 §6).
enum TLSAlert {
    static func name(_ code: UInt8) -> String {
        switch code {
        case 0: "close_notify"
        case 10: "unexpected_message"
        case 20: "bad_record_mac"
        case 22: "record_overflow"
        case 40: "handshake_failure"
        case 42: "bad_certificate"
        case 47: "illegal_parameter"
        case 50: "decode_error"
        case 70: "protocol_version"
        case 80: "internal_error"
        case 112: "unrecognized_name"
        case 116: "certificate_required"
        case 120: "no_application_protocol"
        default: "code \(code)"
        }
    }
}
