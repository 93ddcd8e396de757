import ArgumentParser
import Foundation
import PacketDecoding
import Sensor
import Store

#if canImport(Glibc)
import Glibc
#endif

/// Where the history lives when --store is not given (README "Store").
enum StorePaths {
    static var defaultPath: String {
        Privileges.isRoot ? "/var/lib/stratumsniff/store.sqlite" : FileManager.default.currentDirectoryPath + "/stratumsniff.sqlite"
    }

    /// Creates the store's directory if needed (mode 0750).
    static func prepareDirectory(for path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ValidationError("cannot create the store directory \(dir): \(error.localizedDescription)")
        }
    }
}

/// Durations like 90s, 30m, 24h, 7d.
enum DurationText {
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let mult = units[unit], let n = Double(text.dropLast()), n > 0 else { return Double(text).flatMap { $0 > 0 ? $0 : nil } }
        return n * mult
    }
}

/// Times like 2026-11-26T08:00:00Z, 2026-11-26 08:00, 2026-11-26 (UTC unless an offset is given).
enum TimeText {
    static func nanoseconds(_ text: String) -> Int64? {
        let iso = ISO8601DateFormatter()
        if let d = iso.date(from: text) { return Int64(d.timeIntervalSince1970 * 1e9) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        for pattern in ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            f.dateFormat = pattern
            if let d = f.date(from: text) { return Int64(d.timeIntervalSince1970 * 1e9) }
        }
        return nil
    }
}

/// Writes a file so that readers see the old or the new content, never half of it.
enum AtomicFile {
    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try Data(text.utf8).write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp.path)
            throw ValidationError("cannot write \(path): \(why)")
        }
    }
}
