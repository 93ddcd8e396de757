import Foundation

/// A throwaway PostgreSQL cluster for one test: initdb in a temporary directory, started with pg_ctl
/// as the `postgres` user (the server refuses to run as root), listening on 127.0.0.1 and on a Unix
/// socket in that directory (a socket is a file: sensors inside network namespaces reach it too).
/// Every connection needs a password (SCRAM), as on a real server. Debian's `postgresql` package
/// (scripts/test installs it); tests that need it are skipped with a message where it is absent.
final class PostgresLab {
    static let bin: String? = {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init)
            .sorted()
        return versions.last.map { "\(base)/\($0)/bin" }.flatMap {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil
        }
    }()
    static var available: Bool { getuid() == 0 && bin != nil }

    let dir: String
    let port: Int
    static let password = "lab-\(UUID().uuidString.prefix(8))"
    /// The environment a client needs (the password, never on a command line).
    var environment: [String: String] { ["PGPASSWORD": Self.password] }
    /// Over TCP.
    var url: String { "postgresql://sniff@127.0.0.1:\(port)/fleet?sslmode=disable" }
    /// Over the Unix socket (from inside a network namespace).
    var socketURL: String { "postgresql://sniff@localhost:\(port)/fleet?host=\(dir)" }

    /// Where the lab's TLS files are (`tls: true`): the private CA that signed the server's certificate.
    var caFile: String { dir + "/ca.crt" }
    private let tls: Bool

    /// A primary server; with `tls`, it has a certificate (for localhost and 127.0.0.1) signed by a
    /// private CA of its own (`caFile`).
    init(tls: Bool = false) throws {
        guard let bin = Self.bin else {
            throw LabError(message: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        self.tls = tls
        dir = Lab.tempDir("pg")
        port = 20000 + Int.random(in: 0..<20000)
        _ = try Lab.run("/usr/bin/chown", ["postgres:postgres", dir])
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/pw"))
        _ = try Lab.run("/usr/bin/chown", ["postgres", dir + "/pw"])
        try asPostgres(
            bin + "/initdb",
            [
                "-D", dir + "/data", "-U", "postgres", "--pwfile", dir + "/pw", "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"
            ])
        if tls { try makeCertificates() }
        try start()
        try psql("CREATE USER sniff PASSWORD '\(Self.password)'")
        try psql("CREATE DATABASE fleet OWNER sniff")
    }

    /// A hot standby of `primary`, streaming from it (pg_basebackup -R), on a port and socket of its own.
    init(standbyOf primary: PostgresLab) throws {
        guard let bin = Self.bin else {
            throw LabError(message: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        tls = false
        dir = Lab.tempDir("pg-standby")
        port = 20000 + Int.random(in: 0..<20000)
        _ = try Lab.run("/usr/bin/chown", ["postgres:postgres", dir])
        try asPostgres(
            "/usr/bin/env",
            [
                "PGPASSWORD=\(Self.password)", bin + "/pg_basebackup", "-h", primary.dir, "-p", String(primary.port),
                "-U", "postgres", "-D", dir + "/data", "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"
            ])
        // pg_basebackup -R leaves the password out of primary_conninfo; the last setting wins.
        let conninfo = "host=\(primary.dir) port=\(primary.port) user=postgres password=\(Self.password)"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/data/postgresql.auto.conf"))
        handle.seekToEndOfFile()
        handle.write(Data("primary_conninfo = '\(conninfo)'\n".utf8))
        try handle.close()
        try start()
    }

    /// Promotes a standby to a primary (as an operator does when the primary is lost).
    func promote() throws {
        try asPostgres(Self.bin! + "/pg_ctl", ["-D", dir + "/data", "-w", "-t", "30", "promote"])
    }

    /// A private CA and a server certificate it signed (names localhost and 127.0.0.1), made with openssl.
    private func makeCertificates() throws {
        let openssl = "/usr/bin/openssl"
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Data("subjectAltName=DNS:localhost,IP:127.0.0.1\n".utf8).write(to: URL(fileURLWithPath: dir + "/san.cnf"))
        for args in [
            ["req", "-x509"] + key + [
                "-keyout", dir + "/ca.key", "-out", caFile, "-days", "2", "-subj", "/CN=StratumSniff lab CA"
            ],
            ["req"] + key + ["-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", dir + "/server.csr", "-CA", caFile, "-CAkey", dir + "/ca.key", "-CAcreateserial",
                "-out", dir + "/server.crt", "-days", "2", "-extfile", dir + "/san.cnf"
            ]
        ] {
            let (status, out) = try Lab.run(openssl, args)
            guard status == 0 else { throw LabError(message: "openssl \(args.joined(separator: " ")): \(out)") }
        }
        _ = try Lab.run("/usr/bin/chown", ["postgres", dir + "/server.key", dir + "/server.crt"])
        chmod(dir + "/server.key", 0o600)
        chmod(caFile, 0o644)
    }

    deinit {
        _ = try? stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func start() throws {
        let ssl = tls ? " -c ssl=on -c ssl_cert_file=\(dir)/server.crt -c ssl_key_file=\(dir)/server.key" : ""
        try asPostgres(
            Self.bin! + "/pg_ctl",
            [
                "-D", dir + "/data", "-l", dir + "/server.log", "-w", "-t", "30", "-o",
                "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off" + ssl, "start"
            ])
    }

    /// Stops the server now (connections cut, as when a database host goes away).
    func stop() throws {
        try asPostgres(Self.bin! + "/pg_ctl", ["-D", dir + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Runs SQL as the superuser; returns the unaligned, tuples-only output.
    @discardableResult
    func psql(_ sql: String, database: String = "postgres") throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.bin! + "/psql")
        p.arguments = [
            "-h", dir, "-p", String(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t",
            "-c", sql
        ]
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw LabError(message: "psql \(sql): \(text)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A number from the fleet database.
    func count(_ sql: String) -> Int { (try? psql(sql, database: "fleet")).flatMap { Int($0) } ?? -1 }

    /// The keyword connection string of the fleet database over TCP (`extra` appended).
    func keywords(_ extra: String = "sslmode=disable") -> String {
        "host=127.0.0.1 port=\(port) user=sniff dbname=fleet \(extra)"
    }

    /// Runs a server tool as `postgres`, its output into a file. posix_spawn and waitpid rather than
    /// Process: the server pg_ctl leaves running would keep a Process's pipes open, and Process did
    /// not see `pg_ctl start` end here (the child stayed a zombie).
    private func asPostgres(_ tool: String, _ args: [String]) throws {
        let log = dir + "/tool.log"
        let argv = ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + args
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw LabError(message: "cannot run \(tool): errno \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw LabError(
                message: "\((tool as NSString).lastPathComponent): \(Lab.read(log))\n\(Lab.read(dir + "/server.log"))")
        }
    }
}
