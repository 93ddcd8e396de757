import CryptoP2P
import PacketDecoding

/// Binary messages of the other protocols the detector reads, built to their specifications:
/// DNS (RFC 1035), TLS handshakes (RFC 8446), WebSocket frames (RFC 6455), Stratum V2 frames,
/// Bitcoin `version`, Ethereum discovery v4.
public enum Wire {
    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func be24(_ v: Int) -> [UInt8] { [UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le24(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }

    // MARK: DNS

    static func dnsName(_ n: String) -> [UInt8] {
        n.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// A standard query for an A record.
    public static func dnsQuery(id: Int, name: String) -> [UInt8] {
        be16(id) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + dnsName(name) + be16(1) + be16(1)
    }

    /// A response with A records for `name` (compressed: answers point at the question).
    public static func dnsAnswer(id: Int, name: String, addresses: [String], ttl: Int = 300) -> [UInt8] {
        var m =
            be16(id) + be16(0x8180) + be16(1) + be16(addresses.count) + be16(0) + be16(0) + dnsName(name) + be16(1)
            + be16(1)
        for a in addresses {
            guard case .v4(let v) = IPAddress(a)! else { continue }
            m +=
                [0xC0, 12] + be16(1) + be16(1) + be16(ttl >> 16) + be16(ttl & 0xFFFF) + be16(4)
                + [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        return m
    }

    // MARK: TLS

    /// A TLS 1.3 ClientHello record (as curl/OpenSSL send it) for `sni`.
    public static func clientHello(sni: String?, alpn: [String] = ["h2", "http/1.1"]) -> [UInt8] {
        var exts: [UInt8] = []
        if let sni {
            let n = Array(sni.utf8)
            let d = be16(n.count + 3) + [0] + be16(n.count) + n
            exts += be16(0) + be16(d.count) + d
        }
        exts += be16(11) + be16(4) + [3, 0, 1, 2]
        let groups = [29, 23, 30, 25, 24]
        exts += be16(10) + be16(2 + groups.count * 2) + be16(groups.count * 2) + groups.flatMap(be16)
        exts += be16(35) + be16(0)
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            exts += be16(16) + be16(list.count + 2) + be16(list.count) + list
        }
        exts += be16(22) + be16(0) + be16(23) + be16(0)
        let sigs = [0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601]
        exts += be16(13) + be16(2 + sigs.count * 2) + be16(sigs.count * 2) + sigs.flatMap(be16)
        exts += be16(43) + be16(5) + [4] + be16(0x0304) + be16(0x0303)
        exts += be16(45) + be16(2) + [1, 1]
        exts += be16(51) + be16(38) + be16(36) + be16(29) + be16(32) + [UInt8](repeating: 0x5A, count: 32)
        let ciphers = [0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA, 0xC02B, 0xC02F, 0x009E]
        var body = be16(0x0303) + [UInt8](repeating: 0x11, count: 32) + [32] + [UInt8](repeating: 0x22, count: 32)
        body += be16(ciphers.count * 2) + ciphers.flatMap(be16) + [1, 0] + be16(exts.count) + exts
        let hs = [1] + be24(body.count) + body
        return [22, 3, 1] + be16(hs.count) + hs
    }

    /// A TLS 1.3 ServerHello record followed by ChangeCipherSpec (what a TLS 1.3 server sends in the clear).
    public static func serverHello13() -> [UInt8] {
        let exts =
            be16(43) + be16(2) + be16(0x0304) + be16(51) + be16(36) + be16(29) + be16(32)
            + [UInt8](repeating: 0x6B, count: 32)
        let body =
            be16(0x0303) + [UInt8](repeating: 0x33, count: 32) + [32] + [UInt8](repeating: 0x22, count: 32)
            + be16(0x1302) + [0]
            + be16(exts.count) + exts
        let hs = [2] + be24(body.count) + body
        return [22, 3, 3] + be16(hs.count) + hs + [20, 3, 3, 0, 1, 1]
    }

    /// A TLS 1.2 ServerHello + Certificate + ServerHelloDone flight whose leaf certificate names
    /// `commonName` and `dnsNames`. The certificate is structurally valid DER (X.509 v3 with a
    /// subjectAltName extension) but carries no real key or signature: only names are read from it.
    public static func serverFlight12(commonName: String, dnsNames: [String]) -> [UInt8] {
        let body = be16(0x0303) + [UInt8](repeating: 0x44, count: 32) + [0] + be16(0xC02F) + [0] + be16(0)
        let hello = [2] + be24(body.count) + body
        let der = certificateDER(commonName: commonName, dnsNames: dnsNames)
        let certList = be24(der.count) + der
        let cert = [11] + be24(certList.count + 3) + be24(certList.count) + certList
        let done: [UInt8] = [14, 0, 0, 0]
        let flight = hello + cert + done
        return [22, 3, 3] + be16(flight.count) + flight
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let n = content.count
        let len: [UInt8] =
            n < 0x80 ? [UInt8(n)] : (n < 0x100 ? [0x81, UInt8(n)] : [0x82, UInt8(n >> 8), UInt8(n & 0xFF)])
        return [tag] + len + content
    }

    static func certificateDER(commonName: String, dnsNames: [String]) -> [UInt8] {
        let oidCN: [UInt8] = [0x55, 0x04, 0x03]
        let oidSAN: [UInt8] = [0x55, 0x1D, 0x11]
        let algorithm = tlv(0x30, tlv(0x06, [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]))  // ecdsa-with-SHA256
        let name = tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, oidCN) + tlv(0x0C, Array(commonName.utf8)))))
        let validity = tlv(0x30, tlv(0x17, Array("241119000000Z".utf8)) + tlv(0x17, Array("351119000000Z".utf8)))
        let spki = tlv(
            0x30,
            tlv(0x30, tlv(0x06, [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]))
                + tlv(0x03, [0] + [UInt8](repeating: 4, count: 65)))
        let san = tlv(0x30, dnsNames.flatMap { tlv(0x82, Array($0.utf8)) })
        let extensions = tlv(0xA3, tlv(0x30, tlv(0x30, tlv(0x06, oidSAN) + tlv(0x04, san))))
        let tbs = tlv(
            0x30,
            tlv(0xA0, tlv(0x02, [2])) + tlv(0x02, [0x01, 0x23]) + algorithm + name + validity + name + spki + extensions
        )
        return tlv(0x30, tbs + algorithm + tlv(0x03, [0] + [UInt8](repeating: 0x30, count: 8)))
    }

    /// An application-data record of `n` opaque bytes.
    public static func appData(_ n: Int, seed: Int) -> [UInt8] {
        [23, 3, 3] + be16(n) + (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed &* 17) }
    }

    // MARK: WebSocket

    /// One frame; client frames are masked (RFC 6455 §5.3).
    public static func wsFrame(_ text: String, fromClient: Bool, opcode: UInt8 = 1) -> [UInt8] {
        let p = Array(text.utf8)
        var f: [UInt8] = [0x80 | opcode]
        let m: UInt8 = fromClient ? 0x80 : 0
        if p.count < 126 { f.append(m | UInt8(p.count)) } else { f += [m | 126] + be16(p.count) }
        guard fromClient else { return f + p }
        let key: [UInt8] = [0x9A, 0x21, 0x4E, 0xC3]
        return f + key + p.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    // MARK: Stratum V2

    public static func sv2Frame(_ type: UInt8, _ payload: [UInt8], channel: Bool = false) -> [UInt8] {
        le16(channel ? 0x8000 : 0) + [type] + le24(payload.count) + payload
    }
    static func str0(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }

    public static func sv2SetupConnection(
        host: String, port: Int, vendor: String, hardware: String, firmware: String, device: String
    ) -> [UInt8] {
        sv2Frame(
            0x00,
            [0] + le16(2) + le16(2) + le32(0) + str0(host) + le16(port) + str0(vendor) + str0(hardware) + str0(firmware)
                + str0(device))
    }
    public static func sv2SetupSuccess() -> [UInt8] { sv2Frame(0x01, le16(2) + le32(0)) }
    public static func sv2OpenStandardChannel(user: String) -> [UInt8] {
        sv2Frame(0x10, le32(1) + str0(user) + le32(0x4B18_9680) + [UInt8](repeating: 0xFF, count: 32))
    }
    public static func sv2OpenChannelSuccess() -> [UInt8] {
        sv2Frame(0x11, le32(1) + le32(7) + [UInt8](repeating: 0x0F, count: 32) + [4] + le32(0xAABB_CCDD) + le32(0))
    }
    public static func sv2NewMiningJob(_ n: Int) -> [UInt8] {
        sv2Frame(
            0x15, le32(7) + le32(n) + [1] + le32(0x2000_0000) + [UInt8](repeating: UInt8(n & 0xFF), count: 32),
            channel: true)
    }
    public static func sv2SubmitShares(seq: Int, job: Int) -> [UInt8] {
        sv2Frame(
            0x1A, le32(7) + le32(seq) + le32(job) + le32(0x1234_5678 &+ seq) + le32(1_732_000_000) + le32(0x2000_0000),
            channel: true)
    }
    public static func sv2SubmitSuccess(seq: Int) -> [UInt8] {
        sv2Frame(0x1C, le32(7) + le32(seq) + le32(1) + le32(0) + le32(0), channel: true)
    }

    // MARK: Peer-to-peer

    /// A Bitcoin mainnet `version` message with a user agent (payload checksum is not verified by readers here).
    public static func bitcoinVersion(agent: String = "/Satoshi:27.0.0/") -> [UInt8] {
        var p = le32(70016) + le32(0x409) + le32(0) + le32(1_732_000_000) + le32(0)
        p += [UInt8](repeating: 0, count: 26) + [UInt8](repeating: 0, count: 26) + le32(0x1122_3344) + le32(0x5566_7788)
        p += [UInt8(agent.utf8.count)] + Array(agent.utf8) + le32(870_000) + [1]
        let command = Array("version".utf8) + [UInt8](repeating: 0, count: 5)
        return [0xF9, 0xBE, 0xB4, 0xD9] + command + le32(p.count) + [0x5D, 0xF6, 0xE0, 0xE2] + p
    }
    public static func bitcoinVerack() -> [UInt8] {
        [0xF9, 0xBE, 0xB4, 0xD9] + Array("verack".utf8) + [UInt8](repeating: 0, count: 6) + le32(0) + [
            0x5D, 0xF6, 0xE0, 0xE2
        ]
    }

    /// An Ethereum discovery v4 ping: hash(32) ‖ signature(65) ‖ 0x01 ‖ RLP([version, from, to, expiration]),
    /// with `hash` = keccak256 of the rest.
    public static func discv4Ping() -> [UInt8] {
        let endpoint: [UInt8] = [0xCB, 0x84, 10, 0, 0, 83, 0x82, 0x76, 0x5F, 0x82, 0x76, 0x5F]  // [ip, udp, tcp]
        let body: [UInt8] = [0x04] + endpoint + endpoint + [0x84, 0x67, 0x45, 0x23, 0x01]
        let rest = [UInt8](repeating: 0xCD, count: 65) + [0x01] + [UInt8(0xC0 + body.count)] + body
        return Keccak256.hash(rest) + rest
    }
}
