import Foundation
import Store

/// Batches a sensor could not deliver, kept on disk in order until the database answers again
/// (docs/store-and-fleet.md "Many sensors"). One file per batch, named by a sequence number; each written whole
/// (a temporary file, then a rename) so a crash leaves whole batches only. Bounded: past `maxBytes`
/// the oldest batches of one run are merged — what a later batch rewrites (open-session snapshots,
/// evidence, counters, host rows whose verdict it keeps) goes, every verdict change and every ended
/// session stays; if that is not enough, the oldest batch loses its open-session snapshots and
/// evidence (counted in `rowsDropped`).
/// - Complexity: append O(batch); delivery reads one file at a time.
public struct Spool: Sendable {
    public let directory: String
    public let maxBytes: Int
    /// Files in order (oldest first) and their sizes.
    private var files: [(name: String, bytes: Int)] = []
    private var next: UInt64 = 0
    public private(set) var rowsDropped = 0
    /// Wall-clock time the oldest batch waiting was spooled (seconds since the epoch).
    public private(set) var oldestSpooledAt: Double?

    /// Opens (creating) the spool; batches an earlier run left are delivered first.
    public init(directory: String, maxBytes: Int) throws {
        self.directory = directory
        self.maxBytes = max(maxBytes, 1 << 16)
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        for name in names where name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        files = names.filter { $0.hasSuffix(".batch") && UInt64($0.dropLast(6)) != nil }.sorted().map { name in
            (name, ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + name))?[.size] as? Int) ?? 0)
        }
        next = files.last.flatMap { UInt64($0.name.dropLast(6)) }.map { $0 + 1 } ?? 0
        oldestSpooledAt = files.first.flatMap { modified($0.name) }
    }

    public var isEmpty: Bool { files.isEmpty }
    public var batches: Int { files.count }
    public var bytes: Int { files.reduce(0) { $0 + $1.bytes } }

    /// Keeps `rows` after every batch already waiting.
    public mutating func append(_ rows: StoreRows) throws {
        let name = String(format: "%016llu.batch", next)
        next += 1
        let size = try write(rows, as: name)
        files.append((name, size))
        if oldestSpooledAt == nil { oldestSpooledAt = Date().timeIntervalSince1970 }
        try compact()
    }

    /// The oldest batch waiting, if any.
    public mutating func peek() throws -> StoreRows? {
        guard let first = files.first else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + first.name))
        do { return try JSONDecoder().decode(StoreRows.self, from: data) } catch {
            // A damaged file (a disk error, a hand edit) must not block everything behind it: set aside.
            try? FileManager.default.moveItem(
                atPath: directory + "/" + first.name, toPath: directory + "/" + first.name + ".damaged")
            files.removeFirst()
            throw SpoolError(
                "spool \(directory)/\(first.name): not a batch this release wrote (\(error)); set aside as .damaged")
        }
    }

    /// The oldest batch was delivered.
    public mutating func removeOldest() {
        guard let first = files.first else { return }
        try? FileManager.default.removeItem(atPath: directory + "/" + first.name)
        files.removeFirst()
        oldestSpooledAt = files.first.flatMap { modified($0.name) }
    }

    /// When a batch file was written (a merged file keeps the time of its newer half).
    private func modified(_ name: String) -> Double? {
        ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + name))?[.modificationDate] as? Date)?
            .timeIntervalSince1970
    }

    private func write(_ rows: StoreRows, as name: String) throws -> Int {
        let data = try JSONEncoder().encode(rows)
        let tmp = directory + "/" + name + ".tmp"
        try data.write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, directory + "/" + name) == 0 else {
            throw SpoolError("spool \(directory): cannot rename \(tmp) (errno \(errno))")
        }
        return data.count
    }

    /// Back under `maxBytes`: merge the two oldest batches of one run, oldest first; then thin the oldest.
    private mutating func compact() throws {
        var i = 0
        while bytes > maxBytes && i + 1 < files.count {
            let a = try load(files[i].name)
            let b = try load(files[i + 1].name)
            guard a.run.run == b.run.run && a.identity == b.identity else {
                i += 1
                continue
            }
            let merged = a.merged(with: b)
            let olderTime = modified(files[i].name)
            let size = try write(merged, as: files[i + 1].name)
            // The merged batch is as old as its older half (the spool's age says how long data has waited).
            if let t = olderTime {
                try? FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: t)],
                    ofItemAtPath: directory + "/" + files[i + 1].name)
            }
            try? FileManager.default.removeItem(atPath: directory + "/" + files[i].name)
            files[i + 1].bytes = size
            files.remove(at: i)
        }
        var j = 0
        while bytes > maxBytes && j < files.count {
            var rows = try load(files[j].name)
            let before = rows.sessions.count + rows.evidence.count
            rows.sessions.removeAll(where: \.open)
            rows.evidence.removeAll()
            rowsDropped += before - rows.sessions.count
            files[j].bytes = try write(rows, as: files[j].name)
            j += 1
        }
    }

    private func load(_ name: String) throws -> StoreRows {
        try JSONDecoder().decode(StoreRows.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
