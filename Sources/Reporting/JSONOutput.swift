import Detection
import Dispatch
import Foundation
import Locking
import PacketDecoding
import SafeNumbers
import Stratum

public enum JSONOutput {
    /// A site as every output writes it: null when none is named (`--site` absent or empty).
    static func site(_ name: String?) -> String? { name?.isEmpty == true ? nil : name }

    /// Encoder with stable formatting; JSONEncoder escapes every control character in wire strings.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? enc.encode(value) else { return "{}" }
        return invisiblesEscaped(String(decoding: data, as: UTF8.self))
    }

    /// JSON allows U+2028/2029, bidi overrides, zero-width and tag characters raw inside strings;
    /// written as \uXXXX they decode to the same text but cannot disguise a `cat`ed log line or
    /// break a JavaScript consumer. (Such characters occur only inside strings in JSON.)
    static func invisiblesEscaped(_ json: String) -> String {
        var text = json
        return text.withUTF8 { b in
            guard b.contains(where: { $0 >= 0x7F }) else { return json }
            var out: [UInt8] = []
            out.reserveCapacity(b.count + 64)
            var i = 0
            while i < b.count {
                // Runs of plain ASCII are copied as they are; each other scalar (the string is valid
                // UTF-8: its lead byte gives its length) is looked at.
                var j = i
                while j < b.count && b[j] < 0x7F { j += 1 }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j]))
                guard j < b.count else { break }
                let lead = b[j]
                let n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                let end = min(j + n, b.count)
                var value = n == 1 ? UInt32(lead) : UInt32(lead) & (0xFF >> (n + 1))
                for k in (j + 1)..<end { value = value << 6 | UInt32(b[k] & 0x3F) }
                if let u = Unicode.Scalar(value), TerminalSafe.isInvisible(u) {
                    for unit in String(u).utf16 {
                        let hex = String(unit, radix: 16)
                        out.append(contentsOf: "\\u".utf8)
                        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 4 - hex.utf8.count))
                        out.append(contentsOf: hex.utf8)
                    }
                } else {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[j..<end]))
                }
                i = end
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The `--format json` document, byte for byte what `encode(ReportDocument(...), pretty: true)`
    /// gives, written one host at a time: encoding 16 000 hosts as one tree held ~55 MB at once.
    /// - Complexity: O(total output), memory O(one host).
    /// With `threads` > 1, hosts are encoded that many at a time (chunks of `chunkHosts`, written in
    /// order): encoding is most of the time between the end of input and the exit.
    public static func writeReport(
        summary: RunSummary, hosts: [HostReport], threads: Int = 1, to write: (String) -> Void
    ) {
        guard !hosts.isEmpty else {
            write(encode(ReportDocument(summary: summary, hosts: []), pretty: true) + "\n")
            return
        }
        write("{\n  \"hosts\" : [\n")
        @Sendable func host(_ i: Int) -> String {
            listElement(encode(HostJSON(hosts[i]), pretty: true), last: i == hosts.count - 1)
        }
        if threads > 1 {
            var start = 0
            while start < hosts.count {
                let first = start
                let end = min(start + chunkHosts, hosts.count)
                let texts = Locked([String](repeating: "", count: end - first))
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    for i in stride(from: first + t, to: end, by: threads) {
                        let text = host(i)
                        texts.withLock { $0[i - first] = text }
                    }
                }
                for text in texts.withLock({ $0 }) { write(text) }
                start = end
            }
        } else {
            for i in hosts.indices { write(host(i)) }
        }
        write("  ],\n  \"summary\" : " + indent(encode(summary, pretty: true), by: "  ", skipFirst: true) + "\n}\n")
    }

    /// A period report's JSON, byte for byte what `encode(report, pretty: true) + "\n"` gives, written
    /// one host at a time: the whole tree and text of a 23 MB report held ~90 MB at once, which a
    /// live sensor's minute reports added to its memory.
    /// - Complexity: O(total output), memory O(one host).
    public static func writePeriodReport(_ report: PeriodReport, to write: (String) -> Void) {
        var head = report
        head.hosts = []
        let text = encode(head, pretty: true)
        // The top level's "hosts" key, at the top level's indentation: inside a string a newline and
        // quotes are escaped, so this text occurs once. Its empty array ends at the next "]".
        guard !report.hosts.isEmpty, let key = text.range(of: "\n  \"hosts\" : ["),
            let close = text[key.upperBound...].firstIndex(of: "]")
        else {
            write(encode(report, pretty: true) + "\n")
            return
        }
        write(String(text[..<key.upperBound]) + "\n")
        for (i, host) in report.hosts.enumerated() {
            write(listElement(encode(host, pretty: true), last: i == report.hosts.count - 1))
        }
        write("  " + String(text[close...]) + "\n")
    }

    /// One element of a list under the top level's key, as the pretty encoder nests it: every line
    /// indented two levels, a comma after all but the last.
    static func listElement(_ json: String, last: Bool) -> String {
        indent(json, by: "    ", skipFirst: false) + (last ? "\n" : ",\n")
    }

    /// Hosts encoded at once with several threads: memory stays O(chunk), not O(report).
    static let chunkHosts = 256

    /// `text` with `pad` before every non-empty line (but the first when `skipFirst`), a line at a
    /// time over the bytes: splitting into Substrings and appending them was a third of the report.
    static func indent(_ text: String, by pad: String, skipFirst: Bool) -> String {
        var text = text
        let padBytes = Array(pad.utf8)
        return text.withUTF8 { bytes in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + bytes.count / 4)
            var start = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                // The encoder leaves empty lines bare.
                if end > start && (start > 0 || !skipFirst) { out.append(contentsOf: padBytes) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                if end < bytes.count { out.append(UInt8(ascii: "\n")) }
                start = end + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// A JSON line as it leaves the sensor (events, alerts, verdicts, summaries, webhook bodies): the
/// record's own keys plus `sensor` and `site` (null when none), so a SIEM fed by several sensors —
/// two sites reusing one address range — knows where each line came from.
public struct FromSensor<Body: Encodable>: Encodable {
    public var sensor: String
    public var site: String?
    public var body: Body
    public init(sensor: String, site: String?, _ body: Body) {
        self.sensor = sensor
        self.site = JSONOutput.site(site)
        self.body = body
    }

    enum Keys: String, CodingKey { case sensor, site }

    public func encode(to encoder: Encoder) throws {
        try body.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(sensor, forKey: .sensor)
        try c.encode(site, forKey: .site)
    }
}
