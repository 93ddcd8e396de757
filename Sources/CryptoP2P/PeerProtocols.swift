/// What a cryptocurrency peer-to-peer handshake revealed: the node software, not mining.
public struct PeerHandshake: Sendable, Equatable {
    public enum Network: String, Sendable, Codable {
        case bitcoin
        case bitcoinTestnet = "bitcoin-testnet"
        case bitcoinRegtest = "bitcoin-regtest"
        case bitcoinSignet = "bitcoin-signet"
        case litecoin, dogecoin
        case bitcoinCash = "bitcoin-cash"
        case dash
        case monero
        case ethereum
    }
    public var network: Network
    /// What the message was ("version", "levin handshake", "discv4 ping").
    public var message: String
    /// Node software when the handshake names it ("/Satoshi:25.0.0/"). Wire text: escape when printing.
    public var userAgent: String?
}

/// Recognisers for node-to-node protocols, each checking a magic number and
/// the message structure around it, so a random payload does not match.
public enum PeerProtocols {
    /// Bitcoin-family network magics (first 4 bytes of every message).
    static let bitcoinMagics: [(UInt32, PeerHandshake.Network)] = [
        (0xF9BE_B4D9, .bitcoin), (0x0B11_0907, .bitcoinTestnet), (0xFABF_B5DA, .bitcoinRegtest),
        (0x0A03_CF40, .bitcoinSignet), (0x1C16_3F28, .bitcoinTestnet), (0xFBC0_B6DB, .litecoin),
        (0xC0C0_C0C0, .dogecoin), (0xE3E1_F3E8, .bitcoinCash), (0xBF0C_6BBD, .dash)
    ]

    /// A Bitcoin-family message header (magic, 12-byte NUL-padded command, LE length, checksum)
    /// carrying `version` or `verack`; for `version`, the user agent from the payload.
    ///
    ///     version: int32 version; uint64 services; int64 timestamp; net_addr recv[26];
    ///              net_addr from[26]; uint64 nonce; var_str user_agent; int32 start_height
    public static func bitcoin(_ b: UnsafeRawBufferPointer) -> PeerHandshake? {
        guard b.count >= 24 else { return nil }
        let magic = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        guard let net = bitcoinMagics.first(where: { $0.0 == magic })?.1 else { return nil }
        let command = b[4..<16]
        let nameEnd = command.firstIndex(of: 0) ?? 16
        guard command[nameEnd...].allSatisfy({ $0 == 0 }) else { return nil }
        let name = String(decoding: b[4..<nameEnd], as: UTF8.self)
        let length = Int(b[16]) | Int(b[17]) << 8 | Int(b[18]) << 16 | Int(b[19]) << 24
        guard name == "version" || name == "verack", length <= 4 * 1024 * 1024 else { return nil }
        if name == "verack" {
            return length == 0 ? PeerHandshake(network: net, message: "verack", userAgent: nil) : nil
        }
        guard length >= 85 else { return nil }
        var agent: String?
        let p = 24 + 80
        if b.count > p {
            let n = Int(b[p])
            if n < 0xFD, n <= 256, b.count >= p + 1 + n {
                agent = String(decoding: b[(p + 1)..<(p + 1 + n)], as: UTF8.self)
            }
        }
        return PeerHandshake(network: net, message: "version", userAgent: agent)
    }

    /// A Monero (CryptoNote) levin header: the signature 0x0101010101012101 (little-endian),
    /// a body size, and a command in the P2P range (1001 handshake ... 2010).
    ///
    ///     uint64 signature; uint64 cb; bool have_to_return; uint32 command;
    ///     int32 return_code; uint32 flags; uint32 protocol_version   (33 bytes)
    public static func levin(_ b: UnsafeRawBufferPointer) -> PeerHandshake? {
        let signature: [UInt8] = [0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01]
        guard b.count >= 33, b.prefix(8).elementsEqual(signature) else { return nil }
        let command = Int(b[17]) | Int(b[18]) << 8 | Int(b[19]) << 16 | Int(b[20]) << 24
        guard (1001...1010).contains(command) || (2001...2012).contains(command) else { return nil }
        let name = command == 1001 ? "levin handshake" : "levin command \(command)"
        return PeerHandshake(network: .monero, message: name, userAgent: nil)
    }

    /// Ethereum node discovery v4 over UDP: hash[32] ‖ signature[65] ‖ type ‖ RLP(data), with
    /// type 1–6, an RLP list after it, and hash = keccak256(signature ‖ type ‖ data) — checked,
    /// so random datagrams never match.
    public static func discoveryV4(_ b: UnsafeRawBufferPointer) -> PeerHandshake? {
        guard b.count >= 98 + 2, b.count <= 1280 else { return nil }
        let type = b[97]
        guard (1...6).contains(type), b[98] >= 0xC0 else { return nil }
        guard Keccak256.hash(b[32...]).elementsEqual(b[0..<32]) else { return nil }
        let names = [1: "ping", 2: "pong", 3: "findnode", 4: "neighbors", 5: "enrrequest", 6: "enrresponse"]
        return PeerHandshake(network: .ethereum, message: "discv4 \(names[Int(type)]!)", userAgent: nil)
    }
}
