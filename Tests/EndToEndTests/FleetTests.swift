import Foundation
import Testing
import TrafficGen

/// The fleet's central store, against a real PostgreSQL server (PostgresLab): the same capture gives
/// the same report from SQLite and PostgreSQL; two live sensors write into one database and one
/// report names both; the database stopped mid-run and restarted loses nothing and doubles nothing.
@Suite(.serialized, .enabled(if: PostgresLab.available, "needs root and Debian's postgresql (scripts/test installs it): fleet tests skipped"))
struct FleetTests {
    /// The report's JSON without the moment it was generated.
    static func reportJSON(_ store: String, _ extra: [String] = [], env: [String: String]) throws -> (Binary.Result, [String: Any]) {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        let r = try Binary.run(["report", "--store", store, "--since", "all", "--format", "json"] + extra, environment: environment)
        var doc = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        doc["generated"] = nil
        return (r, doc)
    }

    @Test func sqliteAndPostgresqlGiveTheSameReport() throws {
        let pg = try PostgresLab()
        let dir = Lab.tempDir("same")
        let sqlite = dir + "/store.sqlite"
        var env = ProcessInfo.processInfo.environment
        env.merge(pg.environment) { $1 }
        let captures = ["xmrig-cryptonote.pcap", "tls-to-pool.pcap", "stratum-v1-vlan.pcap", "not-mining-jsonrpc.pcap"].map { Binary.root.path + "/pcaps/" + $0 }
        for store in [sqlite, pg.url] {
            let r = try Binary.run(["analyze", "--store", store, "--sensor", "tap-1", "--site", "hq", "--format", "none"] + captures, environment: env)
            #expect(r.status == 1, "analyze into \(store): \(r.stderr)")   // miners found
        }
        let (a, fromSQLite) = try Self.reportJSON(sqlite, env: pg.environment)
        let (b, fromPostgres) = try Self.reportJSON(pg.url, env: pg.environment)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(!Binary.hosts(fromSQLite).isEmpty)
        #expect(NSDictionary(dictionary: fromSQLite).isEqual(to: fromPostgres),
                "SQLite:\n\(a.stdout.prefix(3000))\nPostgreSQL:\n\(b.stdout.prefix(3000))")
        // Every output format renders from PostgreSQL.
        for format in ["md", "csv", "html"] {
            let r = try Binary.run(["report", "--store", pg.url, "--since", "all", "--format", format], environment: env)
            #expect(r.status == 0 && r.stdout.contains("10.0.0."), "\(format): \(r.stderr)")
        }
        // Analysing the same captures again adds a run, not a second copy of anything a report counts twice.
        #expect(pg.count("SELECT COUNT(*) FROM runs") == 1)
        #expect(pg.count("SELECT version FROM stratumsniff_schema") == 2)
    }

    @Test func passwordsStayOffTheCommandLineAndBadAddressesAreOneLine() throws {
        let pg = try PostgresLab()
        let withPassword = pg.url.replacingOccurrences(of: "sniff@", with: "sniff:secret@")
        let r = try Binary.run(["report", "--store", withPassword])
        #expect(r.status == 2 && r.stderr.contains("PGPASSWORD") && !r.stderr.contains("secret"), Comment(rawValue: r.stderr))
        // No password anywhere: the server's refusal, in one line.
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = nil
        env["HOME"] = Lab.tempDir("home")
        let refused = try Binary.run(["report", "--store", pg.url], environment: env)
        #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count == 1, Comment(rawValue: refused.stderr))
        // ~/.pgpass (mode 600) is read as libpq reads it.
        try "127.0.0.1:\(pg.port):fleet:sniff:\(PostgresLab.password)\n".write(toFile: env["HOME"]! + "/.pgpass", atomically: true, encoding: .utf8)
        chmod(env["HOME"]! + "/.pgpass", 0o600)
        let empty = try Binary.run(["report", "--store", pg.url], environment: env)
        #expect(empty.status == 2 && empty.stderr.contains("no StratumSniff history yet"), Comment(rawValue: empty.stderr))
        // A database holding someone else's tables named like ours is refused, nothing written.
        try pg.psql("CREATE TABLE hosts (id int)", database: "fleet")
        env["PGPASSWORD"] = PostgresLab.password
        let foreign = try Binary.run(["analyze", "--store", pg.url, Binary.root.path + "/pcaps/xmrig-cryptonote.pcap", "--format", "none"], environment: env)
        #expect(foreign.status == 2 && foreign.stderr.contains("did not create"), Comment(rawValue: foreign.stderr))
        #expect(pg.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'runs'") == 0)
    }
}
