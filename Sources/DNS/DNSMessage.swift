import PacketDecoding

/// A DNS resource record type (RFC 1035 §3.2.2 and later). Open: unknown values stay representable.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let a = Self(rawValue: 1)
    public static let ns = Self(rawValue: 2)
    public static let cname = Self(rawValue: 5)
    public static let soa = Self(rawValue: 6)
    public static let ptr = Self(rawValue: 12)
    public static let mx = Self(rawValue: 15)
    public static let txt = Self(rawValue: 16)
    public static let aaaa = Self(rawValue: 28)
    public static let srv = Self(rawValue: 33)
    public static let opt = Self(rawValue: 41)
    public static let https = Self(rawValue: 65)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .https: "HTTPS"
        default: "TYPE\(rawValue)"
        }
    }
}

public struct DNSQuestion: Sendable, Equatable {
    public var name: String
    public var type: DNSRecordType
}

public struct DNSRecord: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case address(IPAddress)
        /// CNAME / NS / PTR target.
        case name(String)
        case other
    }
    public var name: String
    public var type: DNSRecordType
    public var ttl: UInt32
    public var value: Value
}

/// The parts of a DNS message the detector uses: header, questions, answers.
public struct DNSMessage: Sendable, Equatable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: UInt8
    public var rcode: UInt8
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]

    /// Every address the answers give for `name`, following CNAME chains
    /// (bounded: a chain longer than the answer count is a loop).
    /// - Complexity: O(answers²) in the worst case; answers are capped.
    public func addresses(for name: String) -> [(IPAddress, UInt32)] {
        var names: Set<String> = [name.lowercased()]
        var out: [(IPAddress, UInt32)] = []
        for _ in 0...answers.count {
            var grew = false
            for r in answers where names.contains(r.name.lowercased()) {
                if case .name(let target) = r.value, r.type == .cname, names.insert(target.lowercased()).inserted {
                    grew = true
                }
            }
            if !grew { break }
        }
        for r in answers where names.contains(r.name.lowercased()) {
            if case .address(let a) = r.value { out.append((a, r.ttl)) }
        }
        return out
    }

    /// Names in the CNAME chain from `name` (excluding `name`), for matching pool lists.
    public func aliases(of name: String) -> [String] {
        var chain: [String] = []
        var current = name.lowercased()
        for _ in 0..<answers.count {
            guard let next = answers.first(where: { $0.type == .cname && $0.name.lowercased() == current }),
                case .name(let t) = next.value, !chain.contains(t.lowercased())
            else { break }
            chain.append(t.lowercased())
            current = t.lowercased()
        }
        return chain
    }
}
