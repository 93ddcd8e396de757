/// Makes wire strings safe for a terminal (and, through it, Markdown, CSV, HTML and syslog):
/// control characters (C0, C1, DEL) and every invisible or reordering character become visible
/// escapes, so a worker name cannot move the cursor, recolour the screen, reorder a line, hide
/// text or break a line where a reader would not expect it.
public enum TerminalSafe {
    public static func escape(_ s: String) -> String {
        // Fast path: printable ASCII without a backslash needs nothing.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x00...0x1F, 0x7F...0x9F:
                out += "\\x" + hex2(u.value)
            case 0x5C:
                out += "\\\\"
            default:
                if isInvisible(u) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// Characters that change how text looks without showing themselves: format characters
    /// (bidi marks and overrides, U+061C, zero-width space/joiners, word joiner, BOM, soft hyphen,
    /// tag characters), line and paragraph separators (U+2028/U+2029), and unassigned or
    /// private-use code points a terminal may render as anything.
    public static func isInvisible(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .control, .unassigned, .privateUse, .surrogate: return true
        default: return u.value == 0x180E || u.value == 0x3164 || u.value == 0x115F || u.value == 0x1160 || (0xFE00...0xFE0F).contains(u.value)
        }
    }

    private static func hex2(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}

/// RFC 3339 UTC timestamps from packet time, without the system calendar.
public enum TimeFormat {
    public static func iso8601(_ nanoseconds: Int64) -> String {
        // Floor division without overflow: every Int64 is a valid packet time (1677 to 2262).
        let (q, r) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let secs = r < 0 ? q - 1 : q
        let frac = r < 0 ? r + 1_000_000_000 : r
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = secs - days * 86400
        // Civil-from-days (H. Hinnant), proleptic Gregorian.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        func p(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem / 60 % 60, 2)):\(p(rem % 60, 2)).\(p(frac / 1000, 6))Z"
    }
}
