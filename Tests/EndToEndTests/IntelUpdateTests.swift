import Foundation
import Testing

/// `intel update` / `intel status` / `--intel-cache` against a list served by a local HTTP server.
@Suite(.serialized, .enabled(if: Lab.available, "needs python3 for the local HTTP server: intel tests skipped"))
struct IntelUpdateTests {
    /// Serves `dir` on 127.0.0.1; returns the server and its port.
    func serve(_ dir: String) throws -> (Process, Int) {
        let log = dir + "/server.log"
        let p = try Lab.spawn(
            "/usr/bin/python3",
            [
                "-u", "-c",
                """
                import functools, http.server, sys
                s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]))
                print(s.server_address[1], flush=True)
                s.serve_forever()
                """, dir
            ], log: log)
        var port = 0
        _ = Lab.waitFor(10) {
            port = Int(Lab.read(log).split(separator: "\n").first ?? "") ?? 0
            return port > 0
        }
        try #require(port > 0, "the HTTP server did not start: \(Lab.read(log + ".err"))")
        return (p, port)
    }

    @Test func fetchedListsAreCachedComparedAndUsed() throws {
        let dir = Lab.tempDir("intel")
        let served = dir + "/www"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try
            "# a maintained list\nunlisted-example.net\n0.0.0.0 other-miner.example\n||moneroocean.stream^\nnot a domain!!\n"
            .write(toFile: served + "/list.txt", atomically: true, encoding: .utf8)
        let (server, port) = try serve(served)
        defer { server.terminate() }
        let cache = dir + "/cache"

        let update = try Binary.run([
            "intel", "update", "--cache", cache, "--source", "test=http://127.0.0.1:\(port)/list.txt"
        ])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(
            update.stdout
                == "test: 3 domains, 0 addresses, 1 lines skipped from http://127.0.0.1:\(port)/list.txt (unknown (given with --source))\n"
        )

        let status = try Binary.run(["intel", "status", "--cache", cache])
        #expect(status.stdout.contains("test: 3 domains, 0 addresses, fetched "))
        // moneroocean.stream is built in; the other two are not. The list covers the built-in entries under moneroocean.stream.
        #expect(status.stdout.contains("1 of its 3 domains already covered"))

        // A record naming a path out of the cache is skipped: its name would become a file path.
        try
            #"{"name":"../../etc/passwd","url":"http://x/","licence":"?","fetched":0,"domains":1,"addresses":0,"skippedLines":0,"bytes":1}"#
            .write(toFile: cache + "/evil.meta.json", atomically: true, encoding: .utf8)
        let guarded = try Binary.run(["intel", "status", "--cache", cache])
        #expect(guarded.status == 0 && !guarded.stdout.contains("passwd") && guarded.stdout.contains("test: 3 domains"))

        // A failed fetch says what and where, exits 2, and keeps the cached copy.
        let gone = try Binary.run([
            "intel", "update", "--cache", cache, "--source", "test=http://127.0.0.1:\(port)/missing.txt"
        ])
        #expect(gone.status == 2)
        #expect(
            gone.stderr.contains(
                "stratumsniff: intel update: test: cannot fetch http://127.0.0.1:\(port)/missing.txt: HTTP 404"))
        #expect(try Binary.run(["intel", "status", "--cache", cache]).stdout.contains("test: 3 domains"))

        // The cache feeds the pool lists: the unlisted SNI of a recorded miner is now a listed pool name.
        let capture = Binary.root.appendingPathComponent("pcaps/encrypted/tls-miner-sni-unlisted.pcap").path
        let (_, without) = try Binary.json([capture])
        let before = Binary.hosts(without).first { $0["host"] as? String == "10.66.2.10" }
        #expect(before?["verdict"] as? String == "likely-mining" && before?["confidence"] as? Int == 65)
        let (_, with) = try Binary.json(["--intel-cache", cache, capture])
        let host = Binary.hosts(with).first { $0["host"] as? String == "10.66.2.10" }
        #expect(host?["verdict"] as? String == "likely-mining" && host?["confidence"] as? Int == 80)
        #expect(
            (host?["reasons"] as? [String])?.first?.contains("(listed: unlisted-example.net, pool, intel:test:2)")
                == true)

        // Bad input: a source that is not NAME=URL is a usage error naming the option.
        let bad = try Binary.run(["intel", "update", "--cache", cache, "--source", "ftp://x"])
        #expect(bad.status == 2 && bad.stderr.contains("--source ftp://x: write it as NAME=URL"))
        let missing = try Binary.run(["analyze", "--intel-cache", dir + "/nowhere", capture])
        #expect(missing.status == 2 && missing.stderr.contains("no list cache at \(dir)/nowhere"))

        // live re-reads the lists (and the cache) on its schedule.
        let live = try Binary.run([
            "live", "-i", "lo", "--no-store", "--duration", "3.5", "--reload-lists-every", "1s",
            "--intel-cache", cache, "--format", "none", "--quiet"
        ])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stderr.components(separatedBy: "lists reloaded on schedule").count - 1 >= 2, "\(live.stderr)")
        let badPeriod = try Binary.run(["live", "-i", "lo", "--reload-lists-every", "soon"])
        #expect(badPeriod.status == 2 && badPeriod.stderr.contains("--reload-lists-every soon: write a duration"))
    }
}
