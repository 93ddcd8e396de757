import ArgumentParser
import Foundation
import OS
import PacketDecoding
import SafeNumbers
import Sensor
import Store

/// Where the history lives when --store is not given (docs/store-and-fleet.md "Store").
enum StorePaths {
    static var defaultPath: String {
        Privileges.isRoot
            ? "/var/lib/stratumsniff/store.sqlite" : FileManager.default.currentDirectoryPath + "/stratumsniff.sqlite"
    }

}

/// Durations like 90s, 30m, 24h, 7d.
enum DurationText {
    /// The longest duration any option takes: 100 years. Longer (or `1e300h`, `inf`, `nan`) is a usage error.
    static let maxSeconds: Double = 100 * 365 * 86400

    /// Seconds in `text`, or nil unless it is a positive, finite duration of at most `maxSeconds`.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        var number = Substring(text)
        var mult = 1.0
        if let unit = text.last, let m = units[unit] {
            number = number.dropLast()
            mult = m
        }
        // Plain decimal only: Double() would also take "nan", "inf" and hex floats.
        guard !number.isEmpty,
            number.utf8.allSatisfy({
                ($0 >= 48 && $0 <= 57) || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 || $0 == 0x2B || $0 == 0x2D
            }),
            let n = Double(number)
        else { return nil }
        return valid(n * mult)
    }

    /// A retention age (`--retain`, `prune --older-than`) in seconds: a duration of at least a minute.
    static func retention(_ text: String, flag: String) throws -> Double {
        guard let s = seconds(text), s >= 60 else {
            throw ValidationError("\(flag) \(text): write a duration such as 90d, 30d or 24h (at least 1m)")
        }
        return s
    }

    /// `s` when it is a positive, finite number of seconds of at most `maxSeconds`.
    static func valid(_ s: Double) -> Double? { s.isFinite && s > 0 && s <= maxSeconds ? s : nil }
}

/// Times like 2026-11-26T08:00:00Z, 2026-11-26 08:00, 2026-11-26 (UTC unless an offset is given).
/// Only times that nanoseconds since 1970 can hold in 64 bits (1678-01-01 to 2262-04-11) are times here.
enum TimeText {
    static let range = "between 1678-01-01 and 2262-04-11"

    static func nanoseconds(_ text: String) -> Int64? {
        let iso = ISO8601DateFormatter()
        if let d = iso.date(from: text) { return Int64(checked: d.timeIntervalSince1970 * 1e9) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        for pattern in [
            "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"
        ] {
            f.dateFormat = pattern
            if let d = f.date(from: text) { return Int64(checked: d.timeIntervalSince1970 * 1e9) }
        }
        return nil
    }
}

/// `--sensor` and `--site`: who writes into the store (docs/store-and-fleet.md "Many sensors").
struct IdentityOptions: ParsableArguments {
    @Option(
        help:
            "This sensor's name in the store and on every event line, alert, webhook body and syslog message (default: the host name). Sensors writing into one database need distinct names."
    )
    var sensor: String?

    @Option(
        help:
            "The site this sensor watches, in the store and on every line (default: none). The same address at two sites is two hosts."
    )
    var site: String?

    var identity: StoreIdentity { StoreIdentity(sensor: sensor ?? StoreIdentity.hostName, site: site ?? "") }

    func validate() throws {
        for (flag, value) in [("--sensor", sensor), ("--site", site)] {
            guard let value else { continue }
            try NameText.check(value, flag: flag)
        }
        if sensor == "" { throw ValidationError("--sensor: give a name (letters, digits, . _ -)") }
    }
}

/// Sensor and site names: short, and printable everywhere they are shown without surprises.
enum NameText {
    static func check(_ value: String, flag: String) throws {
        guard value.utf8.count <= 64,
            value.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
            })
        else { throw ValidationError("\(flag) \(value): use at most 64 letters, digits, '.', '_' or '-'") }
    }
}

extension StorePaths {
    /// `--store` as a location (a PostgreSQL connection string is checked by libpq now), or a usage error.
    static func location(_ text: String?) throws -> StoreLocation {
        do { return try StoreLocation(text ?? defaultPath) } catch { throw ValidationError(error.description) }
    }

    /// Where a live sensor keeps batches its PostgreSQL store did not take (docs/store-and-fleet.md "Many sensors").
    static var defaultSpool: String {
        Privileges.isRoot
            ? "/var/lib/stratumsniff/spool" : FileManager.default.currentDirectoryPath + "/stratumsniff-spool"
    }
}
