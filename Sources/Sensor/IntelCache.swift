import Foundation
import Locking
import PoolIntel
import SafeNumbers
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A maintained list of mining domains to fetch: a name for it, where it lives, and its licence
/// (named beside every use: `intel status`, README).
public struct IntelSource: Sendable, Equatable {
    public var name: String
    public var url: String
    public var licence: String

    public init(name: String, url: String, licence: String) {
        self.name = name
        self.url = url
        self.licence = licence
    }

    /// Lists we checked the licence of (docs/detection.md "Pool intelligence").
    public static let defaults = [
        IntelSource(
            name: "maltrail",
            url:
                "https://raw.githubusercontent.com/stamparm/maltrail/master/trails/static/suspicious/crypto_mining.txt",
            licence: "MIT (stamparm/maltrail)"),
        IntelSource(
            name: "nocoin", url: "https://raw.githubusercontent.com/hoshsadiq/adblock-nocoin-list/master/hosts.txt",
            licence: "MIT (hoshsadiq/adblock-nocoin-list)")
    ]

    /// A source name is a file name in the cache: letters, digits, `-`, `_` and `.` only.
    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "-_.".unicodeScalars.contains($0)
            }
    }
}

/// What the cache knows about one fetched list (`NAME.meta.json` beside `NAME.list`).
public struct CachedList: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    public var licence: String
    /// Unix seconds of the successful fetch.
    public var fetched: Int64
    public var domains: Int
    public var addresses: Int
    /// Lines the parser skipped (reported by `intel update`).
    public var skippedLines: Int
    public var bytes: Int

    /// Seconds since the fetch (saturating: the stamp is read from a file).
    public func age(now: Int64) -> Int64 { now.subtractingSaturated(fetched) }
}

public struct IntelError: Error, CustomStringConvertible {
    public var description: String
}

/// Fetched lists in a directory: `intel update` writes them, `--intel-cache` loads them into the pool
/// lists, `live` reloads them on SIGHUP and on its schedule. A failed fetch never replaces a good copy.
public struct IntelCache: Sendable {
    public let directory: String
    /// A list larger than this is refused (a broken or hostile server).
    public static let maxBytes = 16 << 20

    public init(directory: String) { self.directory = directory }

    func path(_ name: String, _ ext: String) -> String {
        (directory as NSString).appendingPathComponent("\(name).\(ext)")
    }

    /// Fetches `source`, checks it parses into at least one entry, and replaces the cached copy.
    public func update(_ source: IntelSource, timeout: Double = 30, now: Int64) throws -> CachedList {
        let text = try Self.fetch(source.url, timeout: timeout)
        let parsed = ListParser.parse(text, name: source.name)
        guard !parsed.domains.isEmpty || !parsed.blocks.isEmpty else {
            throw IntelError(
                description:
                    "\(source.name): \(source.url) holds no domain or address this parser understands (\(parsed.errors.count) lines skipped); the cached copy stays"
            )
        }
        let meta = CachedList(
            name: source.name, url: source.url, licence: source.licence, fetched: now,
            domains: parsed.domains.count, addresses: parsed.blocks.count, skippedLines: parsed.errors.count,
            bytes: text.utf8.count)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path(source.name, "list")), options: .atomic)
            let json = try JSONEncoder().encode(meta)
            try json.write(to: URL(fileURLWithPath: path(source.name, "meta.json")), options: .atomic)
        } catch {
            throw IntelError(
                description: "\(source.name): cannot write to the cache \(directory): \(error.localizedDescription)")
        }
        return meta
    }

    /// Every list in the cache, by name. A record whose name is not the file's own (or not a valid
    /// name at all) is skipped: the name becomes a path, and must not lead out of the cache.
    public func lists() -> [CachedList] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".meta.json") }.sorted().compactMap { file in
            guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(file)),
                let meta = try? JSONDecoder().decode(CachedList.self, from: data),
                IntelSource.validName(meta.name), file == "\(meta.name).meta.json"
            else { return nil }
            return meta
        }
    }

    /// The cached lists' text, to load as pool lists (named `intel:NAME`).
    public func texts() throws -> [(name: String, text: String, meta: CachedList)] {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw IntelError(
                description: "no list cache at \(directory): run 'stratumsniff intel update --cache \(directory)' first"
            )
        }
        return try lists().map { meta in
            guard let data = FileManager.default.contents(atPath: path(meta.name, "list")) else {
                throw IntelError(
                    description: "\(path(meta.name, "list")) is missing: run 'stratumsniff intel update' again")
            }
            return ("intel:\(meta.name)", String(decoding: data, as: UTF8.self), meta)
        }
    }

    /// One blocking GET; the body as text (a list is UTF-8 text; bad bytes become U+FFFD and their lines are skipped).
    static func fetch(_ url: String, timeout: Double) throws -> String {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
            u.host != nil
        else {
            throw IntelError(description: "\(url): not an http:// or https:// URL")
        }
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout * 4
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: u)
        request.setValue("stratumsniff", forHTTPHeaderField: "User-Agent")
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<Data, IntelError>?>(nil)
        let task = session.dataTask(with: request) { data, response, error in
            let r: Result<Data, IntelError>
            if let error {
                r = .failure(IntelError(description: "cannot fetch \(url): \(error.localizedDescription)"))
            } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                r = .failure(IntelError(description: "cannot fetch \(url): HTTP \(http.statusCode)"))
            } else if let data, data.count <= maxBytes {
                r = .success(data)
            } else {
                r = .failure(
                    IntelError(description: "cannot fetch \(url): empty, or larger than \(maxBytes >> 20) MiB"))
            }
            result.withLock { $0 = r }
            done.signal()
        }
        task.resume()
        done.wait()
        switch result.withLock({ $0 }) {
        case .success(let data): return String(decoding: data, as: UTF8.self)
        case .failure(let e): throw e
        case nil: throw IntelError(description: "cannot fetch \(url)")
        }
    }
}

/// How a maintained list compares with the built-in one (`intel status`).
public struct ListComparison: Sendable, Equatable {
    /// Distinct domains in each.
    public var builtin: Int
    public var list: Int
    /// The list's domains a built-in entry already covers (the same name or a parent domain).
    public var listCoveredByBuiltin: Int
    /// Built-in domains the list covers.
    public var builtinCoveredByList: Int

    public static func compare(listText: String, name: String) -> ListComparison {
        let builtinDomains = Set(
            ListParser.parse(PoolIntelligence.builtinList, name: "built-in").domains.compactMap {
                DomainSet.normalise($0.0)
            })
        let listDomains = Set(ListParser.parse(listText, name: name).domains.compactMap { DomainSet.normalise($0.0) })
        let builtin = PoolIntelligence(builtin: true)
        var other = PoolIntelligence(builtin: false)
        other.add(poolList: listText, name: name)
        return ListComparison(
            builtin: builtinDomains.count, list: listDomains.count,
            listCoveredByBuiltin: listDomains.filter { builtin.pool(named: $0) != nil }.count,
            builtinCoveredByList: builtinDomains.filter { other.pool(named: $0) != nil }.count)
    }
}
