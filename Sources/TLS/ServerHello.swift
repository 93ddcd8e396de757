/// The server's answer (RFC 8446 §4.1.3): the version actually negotiated and the cipher.
public struct ServerHello: Sendable, Equatable {
    public var version: UInt16
    public var cipherSuite: UInt16
    public var alpn: String?

    public static func parse(_ body: UnsafeRawBufferPointer) throws(TLSParseError) -> ServerHello {
        var r = Reader(body)
        var version = try r.u16()
        try r.skip(32)
        try r.skip(Int(try r.u8()))
        let cipher = try r.u16()
        _ = try r.u8()  // compression
        var alpn: String?
        if !r.atEnd {
            var ext = try r.sub(Int(try r.u16()))
            while !ext.atEnd {
                let type = try ext.u16()
                var data = try ext.sub(Int(try ext.u16()))
                if type == 0x002B, data.remaining >= 2 { version = try data.u16() }  // selected_version (TLS 1.3)
                if type == 0x0010 {
                    var list = try data.sub(Int(try data.u16()))
                    if !list.atEnd { alpn = ClientHello.printable(try list.bytes(Int(try list.u8()))) }
                }
            }
        }
        return ServerHello(version: version, cipherSuite: cipher, alpn: alpn)
    }

    public var versionName: String { TLSVersion.name(version) }
}

public enum TLSVersion {
    public static func name(_ v: UInt16) -> String {
        switch v {
        case 0x0304: "TLS 1.3"
        case 0x0303: "TLS 1.2"
        case 0x0302: "TLS 1.1"
        case 0x0301: "TLS 1.0"
        case 0x0300: "SSL 3.0"
        default: "0x" + [UInt8(v >> 8), UInt8(v & 0xFF)].hexString
        }
    }
}
