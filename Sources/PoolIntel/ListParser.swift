/// Reads domain and address lists in the formats security teams already keep:
///
/// - plain: `pool.example.com` (one domain per line)
/// - hosts file: `0.0.0.0 pool.example.com` (every name after the address)
/// - Adblock: `||pool.example.com^` (options after `$` ignored)
/// - addresses: `192.0.2.7`, `192.0.2.0/24`, `192.0.2.7:3333`, `[2001:db8::1]:443`
/// - the built-in list's own form: `domain kind coin,coin`
///
/// `#` and `!` start comments; blank lines are ignored. A bad line is reported
/// with its line number and skipped; the rest of the list still loads.
public struct ParsedList: Sendable {
    public var domains: [(String, PoolEntry)] = []
    public var blocks: [(AddressSet.Block, PoolEntry)] = []
    /// "FILE:LINE: what is wrong"
    public var errors: [String] = []
}

public enum ListParser {
    public static func parse(_ text: String, name: String, defaultKind: PoolKind = .pool) -> ParsedList {
        var out = ParsedList()
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: " \t\r")
            if trimmed.isEmpty || trimmed.hasPrefix("!") || trimmed.hasPrefix("[Adblock") { continue }
            let source = "\(name):\(lineNo)"
            func bad(_ why: String) {
                out.errors.append("\(source): \(why) (\"\(trimmed.prefix(80))\")")
            }
            // Adblock: ||domain^ with optional $options.
            if trimmed.hasPrefix("||") {
                var body = trimmed.dropFirst(2)
                if let dollar = body.firstIndex(of: "$") { body = body[..<dollar] }
                if body.hasSuffix("^") { body = body.dropLast() }
                guard !body.contains("/"), !body.contains("*"), DomainSet.normalise(body) != nil else {
                    bad("not a domain rule; only ||domain^ rules are understood")
                    continue
                }
                out.domains.append((String(body), PoolEntry(kind: defaultKind, source: source)))
                continue
            }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let first = fields[0]
            // Hosts file: an address followed by names.
            if fields.count >= 2, PoolKind(rawValue: String(fields[1])) == nil, isBareAddress(first) {
                let names = fields.dropFirst()
                if let wrong = names.first(where: { DomainSet.normalise($0) == nil }) {
                    bad("not a domain name: \(wrong.prefix(80))")
                    continue
                }
                for name in names where !["localhost", "localhost.localdomain", "broadcasthost", "local"].contains(name)
                {
                    out.domains.append((String(name), PoolEntry(kind: defaultKind, source: source)))
                }
                continue
            }
            // Optional "kind coins" columns (the built-in list's form).
            var entry = PoolEntry(kind: defaultKind, source: source)
            if fields.count >= 2 {
                guard let k = PoolKind(rawValue: String(fields[1])) else {
                    bad("second column must be a kind (pool, web-miner, marketplace)")
                    continue
                }
                entry.kind = k
                if fields.count >= 3 { entry.coins = fields[2].split(separator: ",").map { $0.lowercased() } }
                if fields.count > 3 {
                    bad("too many columns")
                    continue
                }
            }
            if AddressSet.looksLikeAddress(first) {
                guard let block = AddressSet.parseBlock(first) else {
                    bad("not an address, CIDR block or address:port")
                    continue
                }
                out.blocks.append((block, entry))
            } else {
                guard DomainSet.normalise(first) != nil else {
                    bad("not a domain name")
                    continue
                }
                out.domains.append((String(first), entry))
            }
        }
        return out
    }

    /// A bare address with no block or port: the first column of a hosts file.
    static func isBareAddress(_ s: Substring) -> Bool {
        guard !s.contains("/"), let b = AddressSet.parseBlock(s) else { return false }
        return b.port == nil
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> Substring {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
