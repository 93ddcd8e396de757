import SwiftASN1

/// The names in the server's leaf certificate (TLS 1.2 and earlier send it in the clear):
/// subject common name and DNS subject alternative names, read with swift-asn1's DER parser
/// (strict X.690 DER, lengths checked, nesting bounded) — only the fields needed.
public struct CertificateNames: Sendable, Equatable {
    public var subjectCommonName: String?
    public var dnsNames: [String]

    /// Most DNS names kept from one certificate.
    static let maxNames = 64

    /// Parses a TLS Certificate handshake body (RFC 5246 §7.4.2) and reads the first certificate.
    public static func parse(certificateMessage body: UnsafeRawBufferPointer) throws(TLSParseError) -> CertificateNames {
        var r = Reader(body)
        var list = try r.sub(try r.u24())
        let der = try list.bytes(try list.u24())
        return try parse(der: der)
    }

    public static func parse(der: UnsafeRawBufferPointer) throws(TLSParseError) -> CertificateNames {
        let root: ASN1Node
        do { root = try DER.parse(Array(der)) } catch { throw .malformed }
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial, signature,
        // issuer, validity, subject, subjectPublicKeyInfo, …, [3] extensions OPTIONAL }, … }
        guard root.identifier == .sequence, let tbs = children(root).first, tbs.identifier == .sequence else { throw .malformed }
        let fields = Array(children(tbs).prefix(12))
        let base = fields.first?.identifier == explicit(0) ? 1 : 0
        var out = CertificateNames(subjectCommonName: nil, dnsNames: [])
        if fields.count > base + 4 { out.subjectCommonName = commonName(fields[base + 4]) }
        if let extensions = fields.first(where: { $0.identifier == explicit(3) }) { out.dnsNames = subjectAltNames(extensions) }
        return out
    }

    static let commonNameOID: ASN1ObjectIdentifier = [2, 5, 4, 3]
    static let subjectAltNameOID: ASN1ObjectIdentifier = [2, 5, 29, 17]

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }; CN is OID 2.5.4.3.
    static func commonName(_ name: ASN1Node) -> String? {
        for set in children(name) {
            for attribute in children(set) {
                let parts = children(attribute)
                guard parts.count == 2, oid(parts[0]) == commonNameOID, case .primitive(let value) = parts[1].content else { continue }
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
                  let general = try? DER.parse(bytes) else { continue }
            for n in children(general) where n.identifier == ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific) {
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
