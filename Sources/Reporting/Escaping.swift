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
                if isInvisible(u) {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(u)
                }
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
        default:
            return u.value == 0x180E || u.value == 0x3164 || u.value == 0x115F || u.value == 0x1160
                || (0xFE00...0xFE0F).contains(u.value)
        }
    }

    private static func hex2(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}
