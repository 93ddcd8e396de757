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
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count + 64)
        for u in json.unicodeScalars {
            guard u.value >= 0x7F, TerminalSafe.isInvisible(u) else { UTF8.encode(u) { out.append($0) }; continue }
            for unit in String(u).utf16 {
                let hex = String(unit, radix: 16)
                out.append(contentsOf: "\\u".utf8)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 4 - hex.utf8.count))
                out.append(contentsOf: hex.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
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

    /// `text` with `pad` before every non-empty line (but the first when `skipFirst`), byte by byte:
    /// splitting into Substrings and appending them was a third of the report's time.
    static func indent(_ text: String, by pad: String, skipFirst: Bool) -> String {
        let padBytes = Array(pad.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 4)
        var lineStart = true, first = true
        for b in text.utf8 {
            if b == UInt8(ascii: "\n") {
                out.append(b); lineStart = true; first = false
                continue
            }
            // The encoder leaves empty lines bare: a pad goes only before a line's first byte.
            if lineStart && !(first && skipFirst) { out.append(contentsOf: padBytes) }
            lineStart = false
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
