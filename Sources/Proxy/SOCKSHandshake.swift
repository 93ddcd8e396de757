import PacketDecoding

/// The opening of a SOCKS4, SOCKS4a or SOCKS5 connection (RFC 1928, RFC 1929 and the SOCKS4/4a
/// protocol notes), read from both directions until the proxy grants or refuses the CONNECT.
///
/// Why it matters: a miner told to use a proxy (XMRig `--proxy`) resolves nothing itself and sends
/// the pool's host name inside the CONNECT request — the only place the pool is named. Everything
/// after the proxy's grant is the tunnelled stream to that target.
///
/// Hostile input: each direction's handshake bytes are held in one buffer of at most
/// `maxHandshakeBytes`; every length byte is checked against what arrived before it is used.
public struct SOCKSHandshake: Sendable {
    public enum Version: String, Sendable { case socks4, socks4a, socks5 }

    public enum Outcome: Sendable, Equatable {
        /// Still negotiating.
        case pending
        /// The proxy granted the CONNECT: the tunnel starts after `clientBytes` bytes of the client's
        /// stream and `serverBytes` of the server's (counted from the start of each direction).
        case granted(clientBytes: Int, serverBytes: Int)
        /// The proxy refused the request (its reply code), or the client asked for something other
        /// than CONNECT (BIND, UDP ASSOCIATE).
        case refused(code: UInt8)
        /// Not SOCKS after all, or broken.
        case invalid
    }

    /// Bytes held per direction (the default of `SOCKSCaps.maxHandshakeBytes`): a SOCKS5 request
    /// with a 255-byte name is 262 bytes.
    public static let defaultMaxHandshakeBytes = 600
    public let maxHandshakeBytes: Int

    public private(set) var version: Version?
    /// The target as the client named it: a host name (SOCKS4a, SOCKS5 domain) or an address literal.
    public private(set) var targetHost: String?
    public private(set) var targetPort: UInt16?
    /// The target's address when the request gave one (SOCKS4, SOCKS5 IPv4/IPv6).
    public private(set) var targetAddress: IPAddress?
    /// The client authenticated (SOCKS5 username/password, or a SOCKS4 user id).
    public private(set) var authenticated = false
    public private(set) var outcome = Outcome.pending

    private var client: [UInt8] = []
    private var server: [UInt8] = []

    public init(maxHandshakeBytes: Int = defaultMaxHandshakeBytes) { self.maxHandshakeBytes = maxHandshakeBytes }

    /// "pool.example.com:3333", "[2001:db8::1]:443".
    public var target: String? {
        guard let host = targetHost, let port = targetPort else { return nil }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public var bufferedBytes: Int { client.count + server.count }

    /// A cheap look at a client's first payload: a SOCKS5 greeting or a SOCKS4 CONNECT/BIND head.
    public static func looksLikeRequest(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 2 else { return false }
        if b[0] == 5 {
            let n = Int(b[1])
            guard n >= 1, n <= 16, b.count >= 2 + n else { return false }
            // Known method codes: none, GSSAPI, username/password, the IANA range, private methods.
            return (0..<n).allSatisfy {
                let m = b[2 + $0]
                return m <= 0x09 || (m >= 0x80 && m != 0xFF)
            }
        }
        if b[0] == 4 { return b.count >= 9 && (b[1] == 1 || b[1] == 2) }
        return false
    }

    /// Takes bytes from one direction; returns the outcome so far. Bytes past the handshake (the
    /// tunnel) are ignored here: `granted` says where they start.
    @discardableResult
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, fromClient: Bool) -> Outcome {
        guard outcome == .pending else { return outcome }
        let room = maxHandshakeBytes - (fromClient ? client.count : server.count)
        let take = min(bytes.count, max(room, 0))
        if fromClient {
            client.append(contentsOf: bytes.prefix(take))
        } else {
            server.append(contentsOf: bytes.prefix(take))
        }
        outcome = parse()
        if outcome == .pending && (client.count >= maxHandshakeBytes || server.count >= maxHandshakeBytes) {
            outcome = .invalid
        }
        if outcome != .pending {
            client = []
            server = []
        }
        return outcome
    }

    private mutating func parse() -> Outcome {
        guard let first = client.first else { return .pending }
        switch first {
        case 5: return parse5()
        case 4: return parse4()
        default: return .invalid
        }
    }

    /// SOCKS4: VN=4 CD PORT(2) IP(4) USERID NUL [DOMAIN NUL when IP is 0.0.0.x, x ≠ 0 — SOCKS4a];
    /// reply VN=0 CD PORT(2) IP(4), CD 90 = granted.
    private mutating func parse4() -> Outcome {
        let c = client
        guard c.count >= 9 else { return .pending }
        guard c[1] == 1 else { return c[1] == 2 ? .refused(code: 2) : .invalid }  // BIND is not a tunnel to a pool
        guard let userEnd = c[8...].firstIndex(of: 0) else { return .pending }
        authenticated = userEnd > 8
        let port = UInt16(c[2]) << 8 | UInt16(c[3])
        var end = userEnd + 1
        if c[4] == 0 && c[5] == 0 && c[6] == 0 && c[7] != 0 {
            guard let nameEnd = c[end...].firstIndex(of: 0) else { return .pending }
            guard let name = Self.hostName(c[end..<nameEnd]) else { return .invalid }
            version = .socks4a
            targetHost = name
            end = nameEnd + 1
        } else {
            version = .socks4
            let address = IPAddress.v4(UInt32(c[4]) << 24 | UInt32(c[5]) << 16 | UInt32(c[6]) << 8 | UInt32(c[7]))
            targetAddress = address
            targetHost = address.description
        }
        targetPort = port
        let s = server
        guard s.count >= 8 else { return .pending }
        guard s[0] == 0 else { return .invalid }
        return s[1] == 90 ? .granted(clientBytes: end, serverBytes: 8) : .refused(code: s[1])
    }

    /// SOCKS5: greeting VER NMETHODS METHODS; choice VER METHOD; with method 2 the RFC 1929
    /// sub-negotiation (1 ULEN UNAME PLEN PASSWD / 1 STATUS); request VER CMD RSV ATYP ADDR PORT;
    /// reply VER REP RSV ATYP ADDR PORT, REP 0 = granted.
    private mutating func parse5() -> Outcome {
        let c = client
        let s = server
        guard c.count >= 2 else { return .pending }
        var ci = 2 + Int(c[1])
        guard c.count >= ci else { return .pending }
        version = .socks5
        guard s.count >= 2 else {
            // Clients that offer only "no authentication" may send the request with the greeting,
            // before any answer (curl, proxychains do): read its target now, so that a capture that
            // ends before the proxy answers — or a proxy that never does — still names the pool.
            if c.count > ci, c[ci] == 5, !c[2..<(2 + Int(c[1]))].contains(where: { $0 != 0 }) { _ = request(c, at: ci) }
            return .pending
        }
        guard s[0] == 5 else { return .invalid }
        if s[1] == 0xFF { return .refused(code: 0xFF) }  // no acceptable method
        var si = 2
        if s[1] == 2 {
            // Username/password: 1 ULEN UNAME PLEN PASSWD, answered 1 STATUS.
            guard c.count >= ci + 2 else { return .pending }
            guard c[ci] == 1 else { return .invalid }
            let ulen = Int(c[ci + 1])
            guard c.count >= ci + 2 + ulen + 1 else { return .pending }
            let plen = Int(c[ci + 2 + ulen])
            ci += 3 + ulen + plen
            guard c.count >= ci else { return .pending }
            authenticated = true
            guard s.count >= si + 2 else { return .pending }
            guard s[si] == 1 else { return .invalid }
            if s[si + 1] != 0 { return .refused(code: s[si + 1]) }
            si += 2
        }
        guard let (requestEnd, command) = request(c, at: ci) else { return c.count > ci + 262 ? .invalid : .pending }
        guard requestEnd > 0 else { return .invalid }
        if command != 1 { return .refused(code: command) }  // BIND / UDP ASSOCIATE: not a tunnel to a pool
        guard s.count >= si + 4 else { return .pending }
        guard s[si] == 5 else { return .invalid }
        let rep = s[si + 1]
        guard let replyLength = Self.addressLength(s, typeAt: si + 3) else {
            return s.count > si + 262 ? .invalid : .pending
        }
        guard replyLength > 0 else { return .invalid }
        guard s.count >= si + 4 + replyLength + 2 else { return .pending }
        return rep == 0 ? .granted(clientBytes: requestEnd, serverBytes: si + 4 + replyLength + 2) : .refused(code: rep)
    }

    /// Reads a SOCKS5 request at `i`: its end and command, nil while incomplete, end 0 when malformed.
    private mutating func request(_ c: [UInt8], at i: Int) -> (Int, UInt8)? {
        guard c.count >= i + 4 else { return nil }
        guard c[i] == 5, c[i + 2] == 0 else { return (0, 0) }
        guard let n = Self.addressLength(c, typeAt: i + 3) else { return nil }
        guard n > 0 else { return (0, 0) }
        let a = i + 4
        let end = a + n + 2
        guard c.count >= end else { return nil }
        switch c[i + 3] {
        case 1:
            let address = IPAddress.v4(
                UInt32(c[a]) << 24 | UInt32(c[a + 1]) << 16 | UInt32(c[a + 2]) << 8 | UInt32(c[a + 3]))
            targetAddress = address
            targetHost = address.description
        case 3:
            guard let name = Self.hostName(c[(a + 1)..<(a + n)]) else { return (0, 0) }
            targetHost = name
        default:
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            for k in 0..<8 {
                hi = hi << 8 | UInt64(c[a + k])
                lo = lo << 8 | UInt64(c[a + 8 + k])
            }
            let address = IPAddress.v6(hi, lo)
            targetAddress = address
            targetHost = address.description
        }
        targetPort = UInt16(c[end - 2]) << 8 | UInt16(c[end - 1])
        return (end, c[i + 1])
    }

    /// Bytes of an ATYP-tagged address (IPv4 4, domain 1 + length, IPv6 16); nil when the length
    /// byte has not arrived, 0 for an unknown type.
    private static func addressLength(_ b: [UInt8], typeAt i: Int) -> Int? {
        guard b.count > i else { return nil }
        switch b[i] {
        case 1: return 4
        case 4: return 16
        case 3:
            guard b.count > i + 1 else { return nil }
            return b[i + 1] == 0 ? 0 : 1 + Int(b[i + 1])
        default: return 0
        }
    }

    /// A host name as sent: printable ASCII without spaces, lower-cased; anything else is not a name.
    private static func hostName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.count <= 255, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: bytes, as: UTF8.self).lowercased()
    }
}
