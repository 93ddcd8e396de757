/// The names in the server's leaf certificate (TLS 1.2 and earlier send it in the clear):
/// subject common name and DNS subject alternative names. A minimal, bounded DER walk
/// (X.690): only the fields needed, every length checked against its enclosing element.
public struct CertificateNames: Sendable, Equatable {
    public var subjectCommonName: String?
    public var dnsNames: [String]

    /// Parses a TLS Certificate handshake body (RFC 5246 §7.4.2) and reads the first certificate.
    public static func parse(certificateMessage body: UnsafeRawBufferPointer) throws(TLSParseError) -> CertificateNames {
        var r = Reader(body)
        var list = try r.sub(try r.u24())
        let der = try list.bytes(try list.u24())
        return try parse(der: der)
    }

    public static func parse(der: UnsafeRawBufferPointer) throws(TLSParseError) -> CertificateNames {
        var out = CertificateNames(subjectCommonName: nil, dnsNames: [])
        let cert = try DER.element(der, at: 0)
        guard cert.tag == 0x30 else { throw .malformed }
        let tbs = try DER.element(der, at: cert.content.lowerBound)
        guard tbs.tag == 0x30 else { throw .malformed }
        var fields: [DER.Element] = []
        var pos = tbs.content.lowerBound
        while pos < tbs.content.upperBound && fields.count < 12 {
            let e = try DER.element(der, at: pos, within: tbs.content.upperBound)
            fields.append(e)
            pos = e.end
        }
        // [0] version is optional; then serial, signature, issuer, validity, subject.
        let base = fields.first?.tag == 0xA0 ? 1 : 0
        if fields.count > base + 4 {
            out.subjectCommonName = try commonName(der, fields[base + 4])
        }
        if let exts = fields.first(where: { $0.tag == 0xA3 }) {
            out.dnsNames = try subjectAltNames(der, exts)
        }
        return out
    }

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }; CN is OID 2.5.4.3.
    static func commonName(_ der: UnsafeRawBufferPointer, _ name: DER.Element) throws(TLSParseError) -> String? {
        for set in try DER.children(der, of: name) {
            for atv in try DER.children(der, of: set) {
                let parts = try DER.children(der, of: atv)
                guard parts.count == 2, parts[0].tag == 0x06 else { continue }
                if Array(der[parts[0].content]) == [0x55, 0x04, 0x03] {
                    return ClientHello.printable(UnsafeRawBufferPointer(rebasing: der[parts[1].content]))
                }
            }
        }
        return nil
    }

    /// extensions [3] EXPLICIT SEQUENCE OF Extension; subjectAltName is OID 2.5.29.17,
    /// its value an OCTET STRING holding GeneralNames with dNSName [2] IA5String.
    static func subjectAltNames(_ der: UnsafeRawBufferPointer, _ explicit: DER.Element) throws(TLSParseError) -> [String] {
        guard let seq = try DER.children(der, of: explicit).first else { return [] }
        var names: [String] = []
        for ext in try DER.children(der, of: seq) {
            let parts = try DER.children(der, of: ext)
            guard parts.count >= 2, parts[0].tag == 0x06, Array(der[parts[0].content]) == [0x55, 0x1D, 0x11],
                  let value = parts.last, value.tag == 0x04 else { continue }
            let general = try DER.element(der, at: value.content.lowerBound, within: value.content.upperBound)
            for n in try DER.children(der, of: general) where n.tag == 0x82 && names.count < 64 {
                names.append(ClientHello.printable(UnsafeRawBufferPointer(rebasing: der[n.content])))
            }
        }
        return names
    }
}

/// Just enough DER to walk a certificate: definite lengths up to 3 bytes, low tag numbers.
enum DER {
    struct Element {
        var tag: UInt8
        var content: Range<Int>
        var end: Int { content.upperBound }
    }

    static func element(_ b: UnsafeRawBufferPointer, at offset: Int, within limit: Int? = nil) throws(TLSParseError) -> Element {
        let end = min(limit ?? b.count, b.count)
        guard offset + 2 <= end else { throw .truncated }
        let tag = b[offset]
        guard tag & 0x1F != 0x1F else { throw .malformed }   // high tag numbers never occur here
        var length = Int(b[offset + 1])
        var start = offset + 2
        if length & 0x80 != 0 {
            let n = length & 0x7F
            guard n >= 1, n <= 3, start + n <= end else { throw .malformed }
            length = 0
            for i in 0..<n { length = length << 8 | Int(b[start + i]) }
            start += n
        }
        guard start + length <= end else { throw .truncated }
        return Element(tag: tag, content: start..<(start + length))
    }

    static func children(_ b: UnsafeRawBufferPointer, of parent: Element) throws(TLSParseError) -> [Element] {
        var out: [Element] = []
        var pos = parent.content.lowerBound
        while pos < parent.content.upperBound {
            guard out.count < 256 else { throw .malformed }
            let e = try element(b, at: pos, within: parent.content.upperBound)
            out.append(e)
            pos = e.end
        }
        return out
    }
}
