import Foundation
import Testing

/// `--store` takes a PostgreSQL connection the way `psql` does (libpq reads it): URLs and keyword
/// strings, PG* variables, service files, verify-full against a private CA, and failover between a
/// primary and a promoted standby — each against real servers these tests start (PostgresLab).
@Suite(
    .serialized,
    .enabled(
        if: PostgresLab.available,
        "needs root and Debian's postgresql (scripts/test installs it): PostgreSQL connection tests skipped"))
struct PostgresConnectTests {
    static let capture = Binary.root.path + "/pcaps/xmrig-cryptonote.pcap"

    /// The environment of this process with `changes` applied (nil removes a variable); libpq's own
    /// variables cleared first, so that only what a test sets is seen.
    static func environment(_ changes: [String: String?]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        for (key, value) in changes { env[key] = value }
        return env
    }

    /// `analyze` into `store`: a miner found (exit 1) means it was written.
    static func analyze(_ store: String, env: [String: String], directory: String? = nil) throws -> Binary.Result {
        try Binary.run(
            ["analyze", "--store", store, "--format", "none", "--quiet", capture],
            directory: directory.map { URL(fileURLWithPath: $0) },
            environment: env)
    }

    @Test func urlsKeywordStringsVariablesAndServiceFiles() throws {
        let pg = try PostgresLab()
        let dir = Lab.tempDir("connect")
        let password = PostgresLab.password
        try """
        # A service file as an operator writes one.
        [fleet]
        host=127.0.0.1
        port=\(pg.port)
        user=sniff
        dbname=fleet
        sslmode=disable
        """.write(toFile: dir + "/pg_service.conf", atomically: true, encoding: .utf8)
        let forms: [(String, String, [String: String?])] = [
            ("URL", pg.url, ["PGPASSWORD": password]),
            ("keyword string", pg.keywords(), ["PGPASSWORD": password]),
            (
                "PG* variables, an empty URL", "postgresql://",
                [
                    "PGPASSWORD": password, "PGHOST": "127.0.0.1", "PGPORT": String(pg.port), "PGUSER": "sniff",
                    "PGDATABASE": "fleet", "PGSSLMODE": "disable"
                ]
            ),
            (
                "PG* variables, a URL naming the database", "postgresql:///fleet",
                [
                    "PGPASSWORD": password, "PGHOST": "127.0.0.1", "PGPORT": String(pg.port), "PGUSER": "sniff",
                    "PGSSLMODE": "disable"
                ]
            ),
            (
                "service file, keyword", "service=fleet",
                ["PGPASSWORD": password, "PGSERVICEFILE": dir + "/pg_service.conf"]
            ),
            (
                "service file, URL", "postgresql://?service=fleet",
                ["PGPASSWORD": password, "PGSERVICEFILE": dir + "/pg_service.conf"]
            ),
            (
                "PGSERVICE", "postgresql://",
                ["PGPASSWORD": password, "PGSERVICEFILE": dir + "/pg_service.conf", "PGSERVICE": "fleet"]
            )
        ]
        for (index, (form, store, changes)) in forms.enumerated() {
            let env = Self.environment(changes)
            let r = try Self.analyze(store, env: env, directory: dir)
            #expect(r.status == 1, "\(form) (\(store)): \(r.stderr)")
            #expect(pg.count("SELECT COUNT(*) FROM runs") == index + 1, "\(form): one more run in the fleet database")
            let report = try Binary.run(
                ["report", "--store", store, "--since", "all", "--format", "csv"], environment: env)
            #expect(report.status == 0 && report.stdout.contains("10.0.0."), "report, \(form): \(report.stderr)")
        }
        // None of them became a file.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []) == ["pg_service.conf"])
    }

    @Test func aConnectionStringNeverBecomesAFileAndLibpqSaysWhy() throws {
        let dir = Lab.tempDir("typo")
        let env = Self.environment(["PGPASSWORD": "x"])
        // A misspelt keyword: libpq's message, one line, exit 2, and no SQLite file of that name.
        let typo = try Self.analyze("host=127.0.0.1 prot=5432 dbname=fleet", env: env, directory: dir)
        #expect(typo.status == 2, Comment(rawValue: typo.stderr))
        #expect(
            typo.stderr.contains("invalid connection option \"prot\"") && typo.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: typo.stderr))
        let badURL = try Self.analyze("postgresql://sniff@127.0.0.1:99999999/fleet", env: env, directory: dir)
        #expect(badURL.status == 2 && badURL.stderr.split(separator: "\n").count == 1, Comment(rawValue: badURL.stderr))
        // A password on the command line is refused in either form, and never echoed.
        for store in [
            "host=127.0.0.1 user=sniff password=secret dbname=fleet", "postgresql://sniff:secret@127.0.0.1/fleet"
        ] {
            let r = try Self.analyze(store, env: env, directory: dir)
            #expect(
                r.status == 2 && r.stderr.contains("PGPASSWORD") && !r.stderr.contains("secret"),
                Comment(rawValue: r.stderr))
        }
        // Nothing listens: libpq's own message on one line, exit 2 (analyze has no spool).
        let away = try Self.analyze(
            "host=127.0.0.1 port=9 user=sniff dbname=fleet connect_timeout=2", env: env, directory: dir)
        #expect(
            away.status == 2 && away.stderr.contains("Connection refused")
                && away.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: away.stderr))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? ["?"]).isEmpty)
        // A file whose name looks like a keyword string is still a file when written with a directory.
        let file = try Self.analyze("./host=db.sqlite", env: env, directory: dir)
        #expect(file.status == 1, Comment(rawValue: file.stderr))
        #expect(FileManager.default.fileExists(atPath: dir + "/host=db.sqlite"))
    }

    @Test func verifyFullAgainstAPrivateCA() throws {
        let pg = try PostgresLab(tls: true)
        let home = Lab.tempDir("home")
        let url = "postgresql://sniff@localhost:\(pg.port)/fleet?sslmode=verify-full"
        let env = Self.environment(["PGPASSWORD": PostgresLab.password, "HOME": home])
        // sslrootcert in the address.
        let r = try Self.analyze(url + "&sslrootcert=\(pg.caFile)", env: env)
        #expect(r.status == 1, Comment(rawValue: r.stderr))
        #expect(pg.count("SELECT COUNT(*) FROM runs") == 1)
        // PGSSLROOTCERT.
        let viaVariable = try Binary.run(
            ["report", "--store", url, "--since", "all", "--format", "csv"],
            environment: Self.environment(["PGPASSWORD": PostgresLab.password, "HOME": home, "PGSSLROOTCERT": pg.caFile]
            ))
        #expect(
            viaVariable.status == 0 && viaVariable.stdout.contains("10.0.0."), Comment(rawValue: viaVariable.stderr))
        // Without a root certificate libpq refuses, in one line, saying which file it looked for.
        let none = try Binary.run(["report", "--store", url], environment: env)
        #expect(
            none.status == 2 && none.stderr.contains("root certificate file")
                && none.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: none.stderr))
        // ~/.postgresql/root.crt, libpq's default place.
        try FileManager.default.createDirectory(atPath: home + "/.postgresql", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pg.caFile, toPath: home + "/.postgresql/root.crt")
        let viaHome = try Binary.run(["report", "--store", url, "--since", "all", "--format", "csv"], environment: env)
        #expect(viaHome.status == 0 && viaHome.stdout.contains("10.0.0."), Comment(rawValue: viaHome.stderr))
        // Another CA's certificate: the server is not trusted.
        let other = try PostgresLab(tls: true)
        let wrong = try Binary.run(["report", "--store", url + "&sslrootcert=\(other.caFile)"], environment: env)
        #expect(
            wrong.status == 2 && wrong.stderr.contains("certificate verify failed")
                && wrong.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: wrong.stderr))
        // sslmode=require against a server without TLS: libpq's words.
        let plain = try PostgresLab()
        let noTLS = try Binary.run(["report", "--store", plain.keywords("sslmode=require")], environment: env)
        #expect(
            noTLS.status == 2 && noTLS.stderr.contains("SSL") && noTLS.stderr.split(separator: "\n").count == 1,
            Comment(rawValue: noTLS.stderr))
    }

    @Test(.enabled(if: Lab.available, "needs root, iproute2 and python3"))
    func aSensorFailsOverToThePromotedStandby() throws {
        let primary = try PostgresLab()
        // The schema exists before the standby is copied (a fleet's database is set up before it fails).
        let setup = try Self.analyze(primary.url, env: Self.environment(["PGPASSWORD": PostgresLab.password]))
        #expect(setup.status == 1, Comment(rawValue: setup.stderr))
        let standby = try PostgresLab(standbyOf: primary)
        let dir = Lab.tempDir("failover")
        let net = try NetPair(10)
        // Both servers through their sockets (the sensor is in a namespace); libpq picks the writable one.
        let store =
            "host=\(primary.dir),\(standby.dir) port=\(primary.port),\(standby.port) user=sniff dbname=fleet target_session_attrs=read-write"
        let sensor = try Lab.spawn(
            Lab.ip,
            net.inPool([
                "/usr/bin/env", "PGPASSWORD=\(PostgresLab.password)", Binary.path, "live", "-i", net.poolIf,
                "--store", store, "--sensor", "tap-failover", "--spool", dir + "/spool",
                "--commit-interval", "1", "--format", "json", "--quiet"
            ]), log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 60)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        try net.runMiner(shares: 3, interval: 0.2, rig: "before")
        let finished = "SELECT COUNT(*) FROM sessions WHERE end_reason <> 'open' AND miner = '\(net.minerIP)'"
        #expect(Lab.waitFor(10) { primary.count(finished) == 1 }, Comment(rawValue: Lab.read(dir + "/sensor.log.err")))
        #expect(Lab.waitFor(10) { standby.count(finished) == 1 }, "the standby streams what the primary took")
        // The primary is lost; a session happens while no server takes writes.
        try primary.stop()
        try net.runMiner(shares: 2, interval: 0.2, rig: "during")
        #expect(
            Lab.waitFor(15) {
                ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/spool")) ?? []).count >= 1
            },
            "spooled while no server is writable: \(Lab.read(dir + "/sensor.log.err"))")
        // The standby is promoted: the sensor finds it and delivers everything that waited.
        try standby.promote()
        try net.runMiner(shares: 4, interval: 0.2, rig: "after")
        #expect(
            Lab.waitFor(25) { standby.count(finished) == 3 },
            "after the promotion: \(Lab.read(dir + "/sensor.log.err"))")
        sensor.terminate()
        sensor.waitUntilExit()
        #expect(sensor.terminationStatus == 0, Comment(rawValue: Lab.read(dir + "/sensor.log.err")))
        #expect(standby.count("SELECT SUM(shares_accepted) FROM sessions WHERE miner = '\(net.minerIP)'") == 9)
        #expect(standby.count("SELECT COUNT(*) FROM runs WHERE ended_at IS NOT NULL AND source LIKE 'live%'") == 1)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/spool")) ?? ["?"]).isEmpty)
    }
}
