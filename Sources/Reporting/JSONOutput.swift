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
    public static func writeReport(summary: RunSummary, hosts: [HostReport], to write: (String) -> Void) {
        guard !hosts.isEmpty else {
            write(encode(ReportDocument(summary: summary, hosts: []), pretty: true) + "\n")
            return
        }
        write("{\n  \"hosts\" : [\n")
        for (i, r) in hosts.enumerated() {
            let text = encode(HostJSON(r), pretty: true)
            write(indent(text, by: "    ", skipFirst: false) + (i == hosts.count - 1 ? "\n" : ",\n"))
        }
        write("  ],\n  \"summary\" : " + indent(encode(summary, pretty: true), by: "  ", skipFirst: true) + "\n}\n")
    }

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
