import PacketDecoding

/// Why a DNS message was rejected (counted by the caller, never trusted).
public enum DNSParseError: Error, Sendable, Equatable {
    case truncated
    case badLabel
    case nameTooLong
    case pointerLoop
    case tooManyRecords
}

public struct DNSLimits: Sendable, Equatable {
    /// Questions accepted per message (real queries carry one).
    public var maxQuestions = 8
    /// Answer records parsed per message; the rest are skipped.
    public var maxAnswers = 64
    /// Compression pointers followed per name.
    public var maxPointerJumps = 32
    public init() {}
}

/// Parses a DNS message (RFC 1035 §4) from one UDP payload or one TCP-framed message.
///
/// Names are decoded with compression; a pointer must point strictly before the
/// label that holds it, so loops are impossible, and jumps and total length are capped.
public enum DNSParser {
    /// Whether the message's header says it is a response with at least one answer record — the
    /// only kind that can give a name addresses. Reads two header fields, nothing else (false for
    /// fewer than 12 bytes).
    public static func isAnswer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let v = ByteView(bytes)
        guard bytes.count >= 12, let flags = v.u16(2), let an = v.u16(6) else { return false }
        return flags & 0x8000 != 0 && an > 0
    }

    /// What decides, without parsing a message, whether a name list can name anything in it. `tail`
    /// is called with the end of each question's name as the parsed name would end: its last two
    /// labels, "pool.example" (the one label of a single-label name). The result says whether an
    /// answer record is a CNAME, whose target a list could name too. Nil when the message cannot be
    /// outlined that simply — a question with a compression pointer, or with a byte other than a
    /// letter, digit, '-' or '_'; more questions than `limits` accepts; a record that does not walk —
    /// and the caller parses it whole. Reads the bytes in place, allocates nothing.
    public static func outline(
        _ bytes: UnsafeRawBufferPointer, limits: DNSLimits = DNSLimits(), tail: (UnsafeRawBufferPointer) -> Void
    ) -> Bool? {
        let v = ByteView(bytes)
        guard bytes.count >= 12, let qd = v.u16(4), let an = v.u16(6), Int(qd) <= limits.maxQuestions else {
            return nil
        }
        var pos = 12
        for _ in 0..<qd {
            // Where the last two labels start, and how long they are.
            var last = (start: 0, count: 0)
            var before = (start: 0, count: 0)
            while true {
                guard let len = v.u8(pos), len & 0xC0 == 0 else { return nil }
                pos += 1
                if len == 0 { break }
                guard pos + Int(len) <= v.count else { return nil }
                for i in pos..<pos + Int(len) { guard isHostnameByte(bytes[i]) else { return nil } }
                before = last
                last = (pos, Int(len))
                pos += Int(len)
            }
            guard pos + 4 <= v.count else { return nil }
            pos += 4  // QTYPE, QCLASS
            // Labels are at most 63 bytes: the two and a dot fit in 127.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer in
                var n = 0
                if before.count > 0 {
                    for j in 0..<before.count { buffer[j] = bytes[before.start + j] }
                    buffer[before.count] = 0x2E
                    n = before.count + 1
                }
                for j in 0..<last.count { buffer[n + j] = bytes[last.start + j] }
                n += last.count
                tail(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<n]))
            }
        }
        for _ in 0..<min(Int(an), limits.maxAnswers) {
            // The owner name: labels up to the root, or up to a pointer (which ends it).
            while true {
                guard let len = v.u8(pos) else { return nil }
                if len == 0 {
                    pos += 1
                    break
                }
                if len & 0xC0 == 0xC0 {
                    pos += 2
                    break
                }
                guard len & 0xC0 == 0 else { return nil }
                pos += 1 + Int(len)
            }
            // TYPE, CLASS, TTL, RDLENGTH, then RDATA.
            guard let type = v.u16(pos), let rdlen = v.u16(pos + 8), pos + 10 + Int(rdlen) <= v.count else {
                return nil
            }
            if type == DNSRecordType.cname.rawValue { return true }
            pos += 10 + Int(rdlen)
        }
        return false
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: DNSLimits = DNSLimits()) throws(DNSParseError)
        -> DNSMessage
    {
        let v = ByteView(bytes)
        // Header: ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT (12 bytes).
        guard let id = v.u16(0), let flags = v.u16(2), let qd = v.u16(4), let an = v.u16(6) else { throw .truncated }
        guard Int(qd) <= limits.maxQuestions else { throw .tooManyRecords }
        var msg = DNSMessage(
            id: id, isResponse: flags & 0x8000 != 0, opcode: UInt8((flags >> 11) & 0xF),
            rcode: UInt8(flags & 0xF), questions: [], answers: [])
        var offset = 12
        for _ in 0..<qd {
            let name = try readName(v, at: &offset, limits: limits)
            guard let t = v.u16(offset), v.u16(offset + 2) != nil else { throw .truncated }
            offset += 4
            msg.questions.append(DNSQuestion(name: name, type: DNSRecordType(rawValue: t)))
        }
        for _ in 0..<min(Int(an), limits.maxAnswers) {
            let name = try readName(v, at: &offset, limits: limits)
            // TYPE, CLASS, TTL, RDLENGTH, then RDATA.
            guard let t = v.u16(offset), let ttl = v.u32(offset + 4), let rdlen = v.u16(offset + 8) else {
                throw .truncated
            }
            let rdata = offset + 10
            guard rdata + Int(rdlen) <= v.count else { throw .truncated }
            let type = DNSRecordType(rawValue: t)
            var value = DNSRecord.Value.other
            switch type {
            case .a where rdlen == 4:
                value = .address(.v4(v.u32(rdata)!))
            case .aaaa where rdlen == 16:
                value = .address(.v6(v.u64(rdata)!, v.u64(rdata + 8)!))
            case .cname, .ns, .ptr:
                var o = rdata
                let target = try readName(v, at: &o, limits: limits)
                guard o <= rdata + Int(rdlen) else { throw .truncated }
                value = .name(target)
            default:
                break
            }
            // TTLs with the top bit set are treated as zero (RFC 2181 §8).
            msg.answers.append(DNSRecord(name: name, type: type, ttl: ttl & 0x8000_0000 != 0 ? 0 : ttl, value: value))
            offset = rdata + Int(rdlen)
        }
        return msg
    }

    /// Reads a possibly compressed name starting at `offset`; advances `offset` past it
    /// in the original position (not past pointer targets).
    static func readName(_ v: ByteView, at offset: inout Int, limits: DNSLimits) throws(DNSParseError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)  // most names fit: one allocation, not one per doubling
        var pos = offset
        var jumps = 0
        var resume: Int?
        var total = 0
        while true {
            guard let len = v.u8(pos) else { throw .truncated }
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    offset = resume ?? pos + 1
                    return out.isEmpty ? "." : String(decoding: out, as: UTF8.self)
                }
                guard pos + 1 + Int(len) <= v.count else { throw .truncated }
                total += Int(len) + 1
                guard total <= 255 else { throw .nameTooLong }
                if !out.isEmpty { out.append(0x2E) }
                for i in 0..<Int(len) { appendEscaped(v.base[pos + 1 + i], to: &out) }
                pos += 1 + Int(len)
            case 0xC0:
                guard let lo = v.u8(pos + 1) else { throw .truncated }
                let target = Int(len & 0x3F) << 8 | Int(lo)
                // Only backward pointers: each jump strictly decreases the position, so no loop.
                guard target < pos, jumps < limits.maxPointerJumps else { throw .pointerLoop }
                jumps += 1
                if resume == nil { resume = pos + 2 }
                pos = target
            default:
                throw .badLabel  // 0x40 / 0x80: extended and binary labels, obsolete
            }
        }
    }

    /// A letter, digit, '-' or '_': what a name list's entries are made of (`readName` also keeps '*').
    @inline(__always) private static func isHostnameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    /// Keeps letters, digits, '-', '_' and '*' as they are; everything else
    /// becomes \DDD (RFC 4343 presentation form), so names are safe to print.
    private static func appendEscaped(_ c: UInt8, to out: inout [UInt8]) {
        if isHostnameByte(c) || c == 0x2A {
            out.append(c)
            return
        }
        out.append(0x5C)
        out.append(0x30 + c / 100)
        out.append(0x30 + (c / 10) % 10)
        out.append(0x30 + c % 10)
    }
}

/// DNS over TCP: each message is preceded by a 2-byte length (RFC 1035 §4.2.2).
/// Feed in-order bytes; complete messages come out. Bounded by the 64 KiB frame maximum.
public struct DNSTCPFramer {
    private var buffer: [UInt8] = []
    private var needed: Int?
    /// Bytes allocated for a partial message.
    public var bufferedBytes: Int { buffer.capacity }

    public init() {}

    /// - Complexity: O(n) in the bytes fed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onMessage: (UnsafeRawBufferPointer) -> Void) {
        buffer.append(contentsOf: bytes)
        var start = 0
        while true {
            if needed == nil {
                guard buffer.count - start >= 2 else { break }
                needed = Int(buffer[start]) << 8 | Int(buffer[start + 1])
                start += 2
            }
            guard let n = needed, buffer.count - start >= n else { break }
            buffer.withUnsafeBytes { onMessage(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
            start += n
            needed = nil
        }
        if start > 0 { buffer.removeFirst(start) }
    }

    /// Bytes were lost: the framing cannot be recovered.
    public mutating func reset() {
        buffer.removeAll()
        needed = nil
    }
}
