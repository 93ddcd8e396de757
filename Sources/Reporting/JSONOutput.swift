import Dispatch
import Locking
import SafeNumbers
import Detection
import Foundation
import PacketDecoding
import Stratum

public enum JSONOutput {
    /// Encoder with stable formatting; JSONEncoder escapes every control character in wire strings.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? enc.encode(value) else { return "{}" }
        return invisiblesEscaped(String(decoding: data, as: UTF8.self))
    }

    /// JSON allows U+2028/2029, bidi overrides, zero-width and tag characters raw inside strings;
    /// written as \uXXXX they decode to the same text but cannot disguise a `cat`ed log line or
    /// break a JavaScript consumer. (Such characters occur only inside strings in JSON.)
    static func invisiblesEscaped(_ json: String) -> String {
        if json.utf8.allSatisfy({ $0 < 0x7F }) { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for u in json.unicodeScalars {
            guard u.value >= 0x7F, TerminalSafe.isInvisible(u) else { out.unicodeScalars.append(u); continue }
            for unit in String(u).utf16 { out += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16) }
        }
        return out
    }

    /// The `--format json` document, byte for byte what `encode(ReportDocument(...), pretty: true)`
    /// gives, written one host at a time: encoding 16 000 hosts as one tree held ~55 MB at once.
    /// - Complexity: O(total output), memory O(one host).
    /// With `threads` > 1, hosts are encoded that many at a time (chunks of `chunkHosts`, written in
    /// order): encoding is most of the time between the end of input and the exit.
    public static func writeReport(summary: RunSummary, hosts: [HostReport], threads: Int = 1, to write: (String) -> Void) {
        guard !hosts.isEmpty else {
            write(encode(ReportDocument(summary: summary, hosts: []), pretty: true) + "\n")
            return
        }
        write("{\n  \"hosts\" : [\n")
        @Sendable func host(_ i: Int) -> String {
            indent(encode(HostJSON(hosts[i]), pretty: true), by: "    ", skipFirst: false) + (i == hosts.count - 1 ? "\n" : ",\n")
        }
        if threads > 1 {
            var start = 0
            while start < hosts.count {
                let first = start, end = min(start + chunkHosts, hosts.count)
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

    /// Hosts encoded at once with several threads: memory stays O(chunk), not O(report).
    static let chunkHosts = 256

    private static func indent(_ text: String, by pad: String, skipFirst: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += "\n" }
            if (i > 0 || !skipFirst) && !line.isEmpty { out += pad }   // the encoder leaves empty lines bare
            out += line
        }
        return out
    }
}
