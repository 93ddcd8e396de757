import Foundation
import Testing
import TrafficGen

/// The fleet's central store, against a real PostgreSQL server (PostgresLab): the same capture gives
/// the same report from SQLite and PostgreSQL; two live sensors write into one database and one
/// report names both; the database stopped mid-run and restarted loses nothing and doubles nothing.
@Suite(
    .serialized,
    .enabled(
        if: PostgresLab.available, "needs root and Debian's postgresql (scripts/test installs it): fleet tests skipped")
)
struct FleetTests {
    /// The report's JSON without the moment it was generated.
    static func reportJSON(_ store: String, _ extra: [String] = [], env: [String: String]) throws -> (
        Binary.Result, [String: Any]
    ) {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        let r = try Binary.run(
            ["report", "--store", store, "--since", "all", "--format", "json"] + extra, environment: environment)
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
        let captures = ["xmrig-cryptonote.pcap", "tls-to-pool.pcap", "stratum-v1-vlan.pcap", "not-mining-jsonrpc.pcap"]
            .map { Binary.root.path + "/pcaps/" + $0 }
        for store in [sqlite, pg.url] {
            let r = try Binary.run(
                ["analyze", "--store", store, "--sensor", "tap-1", "--site", "hq", "--format", "none"] + captures,
                environment: env)
            #expect(r.status == 1, "analyze into \(store): \(r.stderr)")  // miners found
        }
        let (a, fromSQLite) = try Self.reportJSON(sqlite, env: pg.environment)
        let (b, fromPostgres) = try Self.reportJSON(pg.url, env: pg.environment)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(!Binary.hosts(fromSQLite).isEmpty)
        #expect(
            NSDictionary(dictionary: fromSQLite).isEqual(to: fromPostgres),
            "SQLite:\n\(a.stdout.prefix(3000))\nPostgreSQL:\n\(b.stdout.prefix(3000))")
        // Every output format renders from PostgreSQL.
        for format in ["md", "csv", "html"] {
            let r = try Binary.run(
                ["report", "--store", pg.url, "--since", "all", "--format", format], environment: env)
            #expect(r.status == 0 && r.stdout.contains("10.0.0."), "\(format): \(r.stderr)")
        }
        // Analysing the same captures again adds a run, not a second copy of anything a report counts twice.
        #expect(pg.count("SELECT COUNT(*) FROM runs") == 1)
        #expect(pg.count("SELECT MAX(version) FROM stratumsniff_schema") == 3)
        // Retention removes the same from both (the captures' packets are years old; hosts stay).
        let pruned = try [sqlite, pg.url].map { store in
            let out = try Binary.run(["prune", "--store", store, "--older-than", "30d"], environment: env).stdout
            return out.range(of: "removed").map { String(out[$0.lowerBound...]) } ?? out
        }
        #expect(
            pruned[0] == pruned[1] && pruned[0].contains("removed") && !pruned[0].contains("removed 0 sessions"),
            "\(pruned)")
        #expect(pg.count("SELECT COUNT(*) FROM sessions") == 0 && pg.count("SELECT COUNT(*) FROM hosts") > 0)
        // A database of the previous schema (2: no probes table) is brought to 3 by the next sensor, rows kept.
        _ = try pg.psql("DROP TABLE probes; UPDATE stratumsniff_schema SET version = 2", database: "fleet")
        let before = try Binary.run(["report", "--store", pg.url, "--since", "all"], environment: env)
        #expect(
            before.status == 2 && before.stderr.contains("has schema 2; this release reads schema 3"),
            "\(before.stderr)")
        let upgrade = try Binary.run(
            ["analyze", "--store", pg.url, "--sensor", "tap-2", "--format", "none", captures[3]], environment: env)
        #expect(upgrade.status == 0, "\(upgrade.stderr) / \(before.stderr)")
        #expect(pg.count("SELECT MAX(version) FROM stratumsniff_schema") == 3)
        #expect(pg.count("SELECT COUNT(*) FROM probes") == 0)
        #expect(pg.count("SELECT COUNT(*) FROM hosts") > 0)
    }

    @Test func passwordsStayOffTheCommandLineAndBadAddressesAreOneLine() throws {
        let pg = try PostgresLab()
        let withPassword = pg.url.replacingOccurrences(of: "sniff@", with: "sniff:secret@")
        let r = try Binary.run(["report", "--store", withPassword])
        #expect(
            r.status == 2 && r.stderr.contains("PGPASSWORD") && !r.stderr.contains("secret"),
            Comment(rawValue: r.stderr))
        // No password anywhere: the server's refusal, in one line.
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = nil
        env["HOME"] = Lab.tempDir("home")
        let refused = try Binary.run(["report", "--store", pg.url], environment: env)
        #expect(
            refused.status == 2 && refused.stderr.split(separator: "\n").count == 1, Comment(rawValue: refused.stderr))
        // ~/.pgpass (mode 600) is read as libpq reads it.
        try "127.0.0.1:\(pg.port):fleet:sniff:\(PostgresLab.password)\n".write(
            toFile: env["HOME"]! + "/.pgpass", atomically: true, encoding: .utf8)
        chmod(env["HOME"]! + "/.pgpass", 0o600)
        let empty = try Binary.run(["report", "--store", pg.url], environment: env)
        #expect(
            empty.status == 2 && empty.stderr.contains("no StratumSniff history yet"), Comment(rawValue: empty.stderr))
        // A database holding someone else's tables named like ours is refused, nothing written.
        try pg.psql("CREATE TABLE hosts (id int)", database: "fleet")
        env["PGPASSWORD"] = PostgresLab.password
        let foreign = try Binary.run(
            ["analyze", "--store", pg.url, Binary.root.path + "/pcaps/xmrig-cryptonote.pcap", "--format", "none"],
            environment: env)
        #expect(foreign.status == 2 && foreign.stderr.contains("did not create"), Comment(rawValue: foreign.stderr))
        #expect(pg.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'runs'") == 0)
    }

    /// A live sensor on `net`'s pool side writing into `pg` (through its socket: the sensor is in a namespace).
    static func sensor(_ net: NetPair, _ pg: PostgresLab, name: String, site: String, dir: String, extra: [String] = [])
        throws -> Process
    {
        try Lab.spawn(
            Lab.ip,
            net.inPool(
                [
                    "/usr/bin/env", "PGPASSWORD=\(PostgresLab.password)", Binary.path, "live", "-i", net.poolIf,
                    "--store", pg.socketURL, "--sensor", name, "--site", site, "--spool", dir + "/spool-" + name,
                    "--commit-interval", "1", "--format", "json", "--quiet"
                ] + extra), log: dir + "/" + name + ".log")
    }

    static func stop(_ p: Process, _ log: String) -> [String: Any] {
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, Comment(rawValue: Lab.read(log + ".err")))
        return (try? JSONSerialization.jsonObject(with: Data(Lab.read(log).utf8))) as? [String: Any] ?? [:]
    }

    @Test(.enabled(if: Lab.available, "needs root, iproute2 and python3"))
    func twoLiveSensorsWriteIntoOneDatabaseAndOneReportNamesBoth() throws {
        let pg = try PostgresLab()
        let dir = Lab.tempDir("fleet")
        // Two sites using the same addresses (10.77.7.0/24 at both): two hosts, not one.
        let east = try NetPair(7)
        let west = try NetPair(7)
        let a = try Self.sensor(east, pg, name: "tap-east", site: "east", dir: dir)
        let b = try Self.sensor(west, pg, name: "tap-west", site: "west", dir: dir)
        Thread.sleep(forTimeInterval: 1.5)
        let poolA = try east.startPool(log: dir + "/pool-east.log", hold: 20)
        let poolB = try west.startPool(log: dir + "/pool-west.log", hold: 20)
        defer {
            poolA.terminate()
            poolB.terminate()
        }
        Thread.sleep(forTimeInterval: 0.5)
        // Both miners at once: the two sensors commit concurrently.
        let miners = try [east, west].map { net in
            try Lab.spawn(
                Lab.ip,
                net.inMiner([
                    "python3", Lab.fixtures + "/stratum_pair.py", "miner", net.poolIP, "3333", "--shares", "4",
                    "--interval", "0.2", "--rig", "rig-" + net.tag
                ]), log: dir + "/miner-\(net.tag).log")
        }
        for m in miners { m.waitUntilExit() }
        #expect(
            Lab.waitFor(15) { pg.count("SELECT COUNT(DISTINCT sensor) FROM hosts WHERE verdict = 'mining'") == 2 },
            "east: \(Lab.read(dir + "/tap-east.log.err")) west: \(Lab.read(dir + "/tap-west.log.err"))")
        _ = Self.stop(a, dir + "/tap-east.log")
        _ = Self.stop(b, dir + "/tap-west.log")
        let (r, doc) = try Self.reportJSON(pg.url, env: pg.environment)
        #expect(r.status == 0, Comment(rawValue: r.stderr))
        let mining = Binary.hosts(doc).filter { ($0["host"] as? [String: Any])?["verdict"] as? String == "mining" }
        let seen = Set(
            mining.map {
                "\(($0["host"] as? [String: Any])?["host"] ?? "")@\($0["site"] ?? "")/\(($0["sensors"] as? [String]) ?? [])"
            })
        // The miners, and at each site the scripted pool: a LAN host serving work is the relay to pull.
        #expect(
            seen == [
                "10.77.7.2@east/[\"tap-east\"]", "10.77.7.2@west/[\"tap-west\"]", "10.77.7.1@east/[\"tap-east\"]",
                "10.77.7.1@west/[\"tap-west\"]"
            ], "\(r.stdout.prefix(2000))")
        #expect(mining.filter { ($0["host"] as? [String: Any])?["role"] as? String == "relay" }.count == 2)
        #expect(doc["sensors"] as? [String] == ["tap-east", "tap-west"])
        // Each sensor's run ended, every session once.
        #expect(pg.count("SELECT COUNT(*) FROM runs WHERE ended_at IS NOT NULL") == 2)
        #expect(pg.count("SELECT COUNT(*) FROM sessions WHERE miner = '10.77.7.2'") == 2)
        let (_, onlyWest) = try Self.reportJSON(pg.url, ["--site", "west"], env: pg.environment)
        #expect(
            Binary.hosts(onlyWest).allSatisfy { $0["site"] as? String == "west" } && !Binary.hosts(onlyWest).isEmpty)
    }

    @Test(.enabled(if: Lab.available, "needs root, iproute2 and python3"))
    func theDatabaseAwayMidRunLosesNothingAndDoublesNothing() throws {
        let pg = try PostgresLab()
        let dir = Lab.tempDir("outage")
        let net = try NetPair(8)
        let sensor = try Self.sensor(
            net, pg, name: "tap-1", site: "hq", dir: dir, extra: ["--metrics", "127.0.0.1:19978"])
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 60)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        try net.runMiner(shares: 3, interval: 0.2, rig: "before")
        #expect(
            Lab.waitFor(10) { pg.count("SELECT COUNT(*) FROM sessions WHERE end_reason <> 'open'") == 1 },
            Comment(rawValue: Lab.read(dir + "/tap-1.log.err")))
        // The database goes away; two more sessions happen while it is gone.
        try pg.stop()
        try net.runMiner(shares: 2, interval: 0.2, rig: "during-1")
        try net.runMiner(shares: 4, interval: 0.2, rig: "during-2")
        let scrape = """
            import urllib.request
            try:
                urllib.request.urlopen("http://127.0.0.1:19978/healthz", timeout=3)
                print("healthy")
            except Exception as e:
                print("unhealthy", e)
            print(urllib.request.urlopen("http://127.0.0.1:19978/metrics", timeout=3).read().decode())
            """
        // Within a few commits the sensor knows (health) and keeps what it cannot deliver (spool).
        var metrics = ""
        _ = Lab.waitFor(20) {
            metrics = (try? Lab.run(Lab.ip, net.inPool(["python3", "-c", scrape])).1) ?? ""
            return metrics.hasPrefix("unhealthy") && metrics.contains("stratumsniff_store_spool_batches ")
                && !metrics.contains("stratumsniff_store_spool_batches 0")
        }
        func value(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                Double($0.split(separator: " ").last ?? "")
            }
        }
        #expect(metrics.hasPrefix("unhealthy"), "healthz while the database is away: \(metrics.prefix(300))")
        #expect((value("stratumsniff_store_spool_batches") ?? 0) >= 1, "spool depth: \(metrics)")
        #expect((value("stratumsniff_store_spool_oldest_seconds") ?? 0) > 0)
        // Back: everything waiting is delivered, in order, once.
        try pg.start()
        #expect(
            Lab.waitFor(20) { pg.count("SELECT COUNT(*) FROM sessions WHERE end_reason <> 'open'") == 3 },
            "after the restart: \(Lab.read(dir + "/tap-1.log.err"))")
        let summary = Self.stop(sensor, dir + "/tap-1.log")
        let spool = summary["summary"].flatMap { ($0 as? [String: Any])?["store_spool"] as? [String: Any] }
        #expect(
            spool?["batches"] as? Int == 0 && (spool?["delivered"] as? Int ?? 0) >= 1
                && spool?["oldest_seconds"] as? Double == 0,
            "final summary: \(String(describing: spool))")
        #expect(pg.count("SELECT COUNT(*) FROM sessions") == 3)
        #expect(pg.count("SELECT SUM(shares_accepted) FROM sessions") == 9)
        #expect(
            pg.count("SELECT COUNT(*) FROM verdict_changes WHERE host = '\(net.minerIP)' AND new_verdict = 'mining'")
                == 1)
        #expect(pg.count("SELECT COUNT(*) FROM runs WHERE ended_at IS NOT NULL") == 1)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/spool-tap-1")) ?? ["?"]).isEmpty)
    }

    @Test(.enabled(if: Lab.available, "needs root, iproute2 and python3"))
    func aSensorStartedWhileTheDatabaseIsAwayCapturesAndDeliversLater() throws {
        let pg = try PostgresLab()
        try pg.stop()  // the database host is still booting when the sensor starts
        let dir = Lab.tempDir("early")
        let net = try NetPair(9)
        let sensor = try Self.sensor(net, pg, name: "tap-early", site: "hq", dir: dir)
        Thread.sleep(forTimeInterval: 1.5)
        let pool = try net.startPool(log: dir + "/pool.log", hold: 30)
        defer { pool.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        try net.runMiner(shares: 3, interval: 0.2, rig: "early")
        #expect(
            Lab.waitFor(15) {
                ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/spool-tap-early")) ?? []).count >= 2
            },
            Comment(rawValue: Lab.read(dir + "/tap-early.log.err")))
        // The server comes up: the tables are created then (the sensor migrates before its first write) and the spool delivered.
        try pg.start()
        #expect(
            Lab.waitFor(20) {
                pg.count("SELECT COUNT(*) FROM sessions WHERE end_reason <> 'open' AND shares_accepted = 3") == 1
            },
            Comment(rawValue: Lab.read(dir + "/tap-early.log.err")))
        _ = Self.stop(sensor, dir + "/tap-early.log")
        #expect(pg.count("SELECT COUNT(*) FROM sessions") == 1)
        // The miner, and the scripted pool on the LAN (a relay: mining).
        #expect(
            pg.count("SELECT COUNT(*) FROM hosts WHERE verdict = 'mining' AND sensor = 'tap-early' AND site = 'hq'")
                == 2)
        #expect(Lab.read(dir + "/tap-early.log.err").contains("spooling to"))
    }
}
