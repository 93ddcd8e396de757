import Digests
import PacketDecoding

/// What a ClientHello says about the client (RFC 8446 §4.1.2), with its JA3 and JA4 fingerprints.
public struct ClientHello: Sendable, Equatable {
    public var legacyVersion: UInt16
    public var cipherSuites: [UInt16]
    /// Extension types in the order sent.
    public var extensions: [UInt16]
    public var serverName: String?
    public var alpn: [String]
    public var supportedGroups: [UInt16]
    public var pointFormats: [UInt8]
    public var signatureAlgorithms: [UInt16]
    public var supportedVersions: [UInt16]

    /// Heap bytes this value holds (array and string storage with their allocation headers), for the
    /// decoder memory budget: a flood of handshakes is charged for what it really keeps.
    public var retainedBytes: Int {
        func storage(_ elements: Int, _ stride: Int) -> Int { elements == 0 ? 0 : heapBlock + elements * stride }
        let arrays =
            storage(cipherSuites.capacity, 2) + storage(extensions.capacity, 2) + storage(supportedGroups.capacity, 2)
            + storage(pointFormats.capacity, 1) + storage(signatureAlgorithms.capacity, 2)
            + storage(supportedVersions.capacity, 2)
        let strings =
            TLS.retainedBytes(serverName) + storage(alpn.capacity, 16) + alpn.reduce(0) { $0 + TLS.retainedBytes($1) }
        return arrays + strings
    }

    /// GREASE values (RFC 8701) are ignored by both fingerprints.
    public static func isGREASE(_ v: UInt16) -> Bool { v & 0x0F0F == 0x0A0A && v >> 8 == v & 0xFF }

    /// The highest version offered (supported_versions, else the legacy field).
    public var highestVersion: UInt16 {
        supportedVersions.filter { !Self.isGREASE($0) }.max() ?? legacyVersion
    }

    /// JA3 text: version,ciphers,extensions,groups,point formats (decimal, '-' joined, GREASE removed).
    public var ja3String: String {
        func j<T: BinaryInteger>(_ xs: [T]) -> String { xs.map { String($0) }.joined(separator: "-") }
        return [
            String(legacyVersion), j(cipherSuites.filter { !Self.isGREASE($0) }),
            j(extensions.filter { !Self.isGREASE($0) }), j(supportedGroups.filter { !Self.isGREASE($0) }),
            j(pointFormats)
        ].joined(separator: ",")
    }

    /// JA3: MD5 of the JA3 text, lower-case hex.
    public var ja3: String { Digest.md5(Array(ja3String.utf8)).hexString }

    /// JA4 (FoxIO, TLS over TCP): `t13d1516h2_<ciphers>_<extensions+sigalgs>`.
    public var ja4: String {
        let version: String =
            switch highestVersion {
            case 0x0304: "13"
            case 0x0303: "12"
            case 0x0302: "11"
            case 0x0301: "10"
            case 0x0300: "s3"
            default: "00"
            }
        let ciphers = cipherSuites.filter { !Self.isGREASE($0) }
        let exts = extensions.filter { !Self.isGREASE($0) }
        let alpnPart: String
        if let first = alpn.first, let f = first.utf8.first, let l = first.utf8.last {
            let alnum = { (c: UInt8) in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            }
            if alnum(f) && alnum(l) {
                alpnPart = String(decoding: [f, l], as: UTF8.self)
            } else {
                let hex = Array(first.utf8).hexString
                alpnPart = String([hex.first!, hex.last!])
            }
        } else {
            alpnPart = "00"
        }
        let a =
            "t\(version)\(serverName == nil ? "i" : "d")\(twoDigits(ciphers.count))\(twoDigits(exts.count))\(alpnPart)"
        let b = ciphers.isEmpty ? "000000000000" : truncatedSHA(ciphers.sorted().map(hex4).joined(separator: ","))
        let sortedExts = exts.filter { $0 != 0x0000 && $0 != 0x0010 }.sorted().map(hex4).joined(separator: ",")
        let sigs = signatureAlgorithms.map(hex4).joined(separator: ",")
        let c = exts.isEmpty ? "000000000000" : truncatedSHA(sigs.isEmpty ? sortedExts : sortedExts + "_" + sigs)
        return "\(a)_\(b)_\(c)"
    }

    private func twoDigits(_ n: Int) -> String { n >= 99 ? "99" : (n < 10 ? "0\(n)" : String(n)) }
    private func hex4(_ v: UInt16) -> String { [UInt8(v >> 8), UInt8(v & 0xFF)].hexString }
    private func truncatedSHA(_ s: String) -> String { String(Digest.sha256(Array(s.utf8)).hexString.prefix(12)) }
}

public enum TLSParseError: Error, Sendable, Equatable {
    case truncated
    case malformed
}

extension ClientHello {
    /// Parses a ClientHello handshake body (after the 4-byte handshake header).
    ///
    ///     struct { ProtocolVersion legacy_version; Random random[32];
    ///              opaque legacy_session_id<0..32>; CipherSuite cipher_suites<2..2^16-2>;
    ///              opaque legacy_compression_methods<1..2^8-1>;
    ///              Extension extensions<8..2^16-1>; } ClientHello;
    public static func parse(_ body: UnsafeRawBufferPointer) throws(TLSParseError) -> ClientHello {
        var r = Reader(body)
        let version = try r.u16()
        try r.skip(32)
        try r.skip(Int(try r.u8()))
        let cipherLength = Int(try r.u16())
        guard cipherLength % 2 == 0 else { throw .malformed }
        var ciphers: [UInt16] = []
        var cr = try r.sub(cipherLength)
        while !cr.atEnd { ciphers.append(try cr.u16()) }
        try r.skip(Int(try r.u8()))
        var hello = ClientHello(
            legacyVersion: version, cipherSuites: ciphers, extensions: [], serverName: nil, alpn: [],
            supportedGroups: [], pointFormats: [], signatureAlgorithms: [], supportedVersions: [])
        guard !r.atEnd else { return hello }  // no extensions (SSL 3.0 style)
        var ext = try r.sub(Int(try r.u16()))
        while !ext.atEnd {
            let type = try ext.u16()
            var data = try ext.sub(Int(try ext.u16()))
            hello.extensions.append(type)
            switch type {
            case 0x0000:  // server_name: ServerNameList { NameType; opaque HostName<1..2^16-1> }
                var list = try data.sub(Int(try data.u16()))
                while !list.atEnd {
                    let nameType = try list.u8()
                    let name = try list.bytes(Int(try list.u16()))
                    if nameType == 0 && hello.serverName == nil { hello.serverName = Self.printable(name) }
                }
            case 0x0010:  // ALPN: ProtocolName protocol_name_list<2..2^16-1>
                var list = try data.sub(Int(try data.u16()))
                // At most 16 kept: each is a String, and 64 KiB of one-byte names would be a 30× amplifier.
                while !list.atEnd {
                    let p = try list.bytes(Int(try list.u8()))
                    if hello.alpn.count < 16 { hello.alpn.append(Self.printable(p)) }
                }
            case 0x000A:  // supported_groups
                var list = try data.sub(Int(try data.u16()))
                while !list.atEnd { hello.supportedGroups.append(try list.u16()) }
            case 0x000B:  // ec_point_formats
                var list = try data.sub(Int(try data.u8()))
                while !list.atEnd { hello.pointFormats.append(try list.u8()) }
            case 0x000D:  // signature_algorithms
                var list = try data.sub(Int(try data.u16()))
                while !list.atEnd { hello.signatureAlgorithms.append(try list.u16()) }
            case 0x002B:  // supported_versions (client form: a u8-length list)
                var list = try data.sub(Int(try data.u8()))
                while !list.atEnd { hello.supportedVersions.append(try list.u16()) }
            default:
                break
            }
        }
        return hello
    }

    /// Wire text kept byte-exact for printable ASCII, \xHH otherwise.
    static func printable(_ b: UnsafeRawBufferPointer) -> String {
        var out = ""
        for c in b {
            if c >= 0x20 && c < 0x7F && c != 0x5C {
                out.unicodeScalars.append(Unicode.Scalar(c))
            } else {
                out += "\\x" + [c].hexString
            }
        }
        return out
    }
}

/// A bounds-checked cursor inside a borrowed slice; every read throws `.truncated` past the end.
/// TLS's reading of the shared `ByteCursor`: a read past the end is a truncated message.
struct Reader {
    private var cursor: ByteCursor
    init(_ base: UnsafeRawBufferPointer) { cursor = ByteCursor(base) }
    var atEnd: Bool { cursor.atEnd }
    var remaining: Int { cursor.remaining }
    mutating func u8() throws(TLSParseError) -> UInt8 {
        guard let v = cursor.u8() else { throw .truncated }
        return v
    }
    mutating func u16() throws(TLSParseError) -> UInt16 {
        guard let v = cursor.u16() else { throw .truncated }
        return v
    }
    mutating func u24() throws(TLSParseError) -> Int {
        guard let v = cursor.u24() else { throw .truncated }
        return v
    }
    mutating func skip(_ n: Int) throws(TLSParseError) { guard cursor.skip(n) else { throw .truncated } }
    mutating func bytes(_ n: Int) throws(TLSParseError) -> UnsafeRawBufferPointer {
        guard let b = cursor.take(n) else { throw .truncated }
        return b
    }
    mutating func sub(_ n: Int) throws(TLSParseError) -> Reader { Reader(try bytes(n)) }
}

/// What one heap allocation costs beyond its payload: Swift's object header (16 B), an array's or a
/// string's count and capacity (16 B), malloc's own header (16 B).
let heapBlock = 48

/// Heap bytes a string holds: none when short enough to live inline (15 UTF-8 bytes on 64-bit).
func retainedBytes(_ text: String?) -> Int {
    guard let text, text.utf8.count > 15 else { return 0 }
    return heapBlock + text.utf8.count
}

extension ServerHello {
    /// Heap bytes this value holds (its ALPN), for the decoder memory budget.
    public var retainedBytes: Int { TLS.retainedBytes(alpn) }
}
