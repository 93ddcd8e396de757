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
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return
            "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem / 60 % 60, 2)):\(p(rem % 60, 2)).\(p(frac / 1000, 6))Z"
    }

    /// "2017-12-25 10:03:08": to the second, for sentences and tables (UTC).
    public static func short(_ nanoseconds: Int64) -> String {
        String(iso8601(nanoseconds).prefix(19).map { $0 == "T" ? " " : $0 })
    }
}
