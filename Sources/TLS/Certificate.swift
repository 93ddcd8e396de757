import SwiftASN1

/// What the server's leaf certificate (TLS 1.2 and earlier send it in the clear) tells: subject
/// common name and DNS subject alternative names, and the facts that tell a certificate mining
/// software generated for itself — read with swift-asn1's DER parser (strict X.690 DER, lengths
/// checked, nesting bounded), only the fields needed.
public struct LeafCertificate: Sendable, Equatable {
    public var subjectCommonName: String?
    public var dnsNames: [String]
    /// X.509 version (1 when the optional version field is absent).
    public var version = 1
    /// The serial number is 1.
    public var serialIsOne = false
    /// Issuer and subject are the same name (self-issued).
    public var selfIssued = false
    /// notAfter − notBefore, in seconds, when both times parse.
    public var validitySeconds: Int64?
    /// Modulus size of an RSA public key, in bits.
    public var rsaBits: Int?

    /// Heap bytes this value holds (its names), for the decoder memory budget.
    public var retainedBytes: Int {
        TLS.retainedBytes(subjectCommonName) + (dnsNames.isEmpty ? 0 : heapBlock + dnsNames.capacity * 16)
            + dnsNames.reduce(0) { $0 + TLS.retainedBytes($1) }
    }

    /// XMRig and xmrig-proxy make their own certificate when none is configured (`TlsGen::generate_x509`,
    /// src/base/net/tls/TlsGen.cpp): RSA-2048, serial 1, valid 315 360 000 s (10 × 365 days) from
    /// now, subject = issuer = CN only ("localhost" by default), and — never calling X509_set_version —
    /// an X.509 version 1 certificate with no extensions. Tools that make test certificates set a
    /// random serial or version 3 with extensions; this exact profile is the miner's.
    public var hasMinerProfile: Bool {
        version == 1 && serialIsOne && selfIssued && validitySeconds == 315_360_000 && rsaBits == 2048
    }

    /// Most DNS names kept from one certificate.
    static let maxNames = 64

    /// Parses a TLS Certificate handshake body (RFC 5246 §7.4.2) and reads the first certificate.
    public static func parse(certificateMessage body: UnsafeRawBufferPointer) throws(TLSParseError) -> LeafCertificate {
        var r = Reader(body)
        var list = try r.sub(try r.u24())
        let der = try list.bytes(try list.u24())
        return try parse(der: der)
    }

    public static func parse(der: UnsafeRawBufferPointer) throws(TLSParseError) -> LeafCertificate {
        let root: ASN1Node
        do { root = try DER.parse(Array(der)) } catch { throw .malformed }
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial, signature,
        // issuer, validity, subject, subjectPublicKeyInfo, …, [3] extensions OPTIONAL }, … }
        guard root.identifier == .sequence, let tbs = children(root).first, tbs.identifier == .sequence else {
            throw .malformed
        }
        let fields = Array(children(tbs).prefix(12))
        let base = fields.first?.identifier == explicit(0) ? 1 : 0
        var out = LeafCertificate(subjectCommonName: nil, dnsNames: [])
        if base == 1, let v = children(fields[0]).first, let n = try? Int8(derEncoded: v) { out.version = Int(n) + 1 }
        if fields.count > base, case .primitive(let serial) = fields[base].content {
            out.serialIsOne = Array(serial) == [1]
        }
        if fields.count > base + 4 {
            out.selfIssued = fields[base + 2].encodedBytes == fields[base + 4].encodedBytes
            out.validitySeconds = validity(fields[base + 3])
            out.subjectCommonName = commonName(fields[base + 4])
        }
        if fields.count > base + 5 { out.rsaBits = rsaModulusBits(fields[base + 5]) }
        if let extensions = fields.first(where: { $0.identifier == explicit(3) }) {
            out.dnsNames = subjectAltNames(extensions)
        }
        return out
    }

    static let rsaEncryptionOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]

    /// Validity ::= SEQUENCE { notBefore Time, notAfter Time }, Time a UTCTime or GeneralizedTime.
    static func validity(_ node: ASN1Node) -> Int64? {
        let times = children(node)
        guard times.count == 2, let a = seconds(times[0]), let b = seconds(times[1]) else { return nil }
        return b.subtractingReportingOverflow(a).overflow ? nil : b - a
    }

    /// Seconds since 1970 of a UTCTime or GeneralizedTime (proleptic Gregorian, UTC).
    static func seconds(_ node: ASN1Node) -> Int64? {
        let c: (Int, Int, Int, Int, Int, Int)
        if let t = try? UTCTime(derEncoded: node) {
            c = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        } else if let t = try? GeneralizedTime(derEncoded: node) {
            c = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        } else {
            return nil
        }
        // Days from civil (H. Hinnant's algorithm); swift-asn1 has range-checked every component.
        let y = Int64(c.1 <= 2 ? c.0 - 1 : c.0)
        let m = Int64(c.1)
        let d = Int64(c.2)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(c.3) * 3600 + Int64(c.4) * 60 + Int64(c.5)
    }

    /// SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }; for rsaEncryption the
    /// bits hold RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
    static func rsaModulusBits(_ spki: ASN1Node) -> Int? {
        let parts = children(spki)
        guard parts.count == 2, let algorithm = children(parts[0]).first, oid(algorithm) == rsaEncryptionOID,
            let bits = try? ASN1BitString(derEncoded: parts[1]), let key = try? DER.parse(bits.bytes),
            let modulus = children(key).first, case .primitive(let m) = modulus.content
        else { return nil }
        let digits = m.drop { $0 == 0 }
        guard let top = digits.first else { return 0 }
        return (digits.count - 1) * 8 + (8 - top.leadingZeroBitCount)
    }

    static let commonNameOID: ASN1ObjectIdentifier = [2, 5, 4, 3]
    static let subjectAltNameOID: ASN1ObjectIdentifier = [2, 5, 29, 17]

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }; CN is OID 2.5.4.3.
    static func commonName(_ name: ASN1Node) -> String? {
        for set in children(name) {
            for attribute in children(set) {
                let parts = children(attribute)
                guard parts.count == 2, oid(parts[0]) == commonNameOID, case .primitive(let value) = parts[1].content
                else { continue }
                return value.withUnsafeBytes { ClientHello.printable($0) }
            }
        }
        return nil
    }

    /// extensions [3] EXPLICIT SEQUENCE OF Extension { OID, critical BOOLEAN OPTIONAL, OCTET STRING };
    /// subjectAltName's value holds GeneralNames, where a dNSName is [2] IMPLICIT IA5String.
    static func subjectAltNames(_ explicit: ASN1Node) -> [String] {
        guard let list = children(explicit).first else { return [] }
        var names: [String] = []
        for ext in children(list) {
            let parts = children(ext)
            guard parts.count >= 2, oid(parts[0]) == subjectAltNameOID, let value = parts.last,
                value.identifier == .octetString, case .primitive(let bytes) = value.content,
                let general = try? DER.parse(bytes)
            else { continue }
            for n in children(general)
            where n.identifier == ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific) {
                guard names.count < maxNames, case .primitive(let name) = n.content else { continue }
                names.append(name.withUnsafeBytes { ClientHello.printable($0) })
            }
        }
        return names
    }

    /// A constructed node's children; none for a primitive one.
    static func children(_ node: ASN1Node) -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { return [] }
        return Array(nodes)
    }

    static func oid(_ node: ASN1Node) -> ASN1ObjectIdentifier? { try? ASN1ObjectIdentifier(derEncoded: node) }

    /// A context-specific constructed tag ([0] version, [3] extensions).
    static func explicit(_ n: UInt) -> ASN1Identifier { ASN1Identifier(tagWithNumber: n, tagClass: .contextSpecific) }
}
