import ArgumentParser
import OS
import ProbeClient
import Probing
import Reporting

/// `stratumsniff probe HOST:PORT...`: ask servers, the way miners log in, whether they are pools.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask servers whether they are mining pools, the way miners log in (README \"Probing\").",
        discussion: """
            Tries XMRig's CryptoNote login, Stratum V1, EthereumStratum/1.0 and eth-proxy, each on a fresh \
            connection, in the clear and then over TLS when the clear attempt meets TLS or silence. Stops at \
            the first answer that decides; never submits a share. Exit status: 1 when a server answered as \
            a pool, 0 when none did, 3 when a server could not be reached or would not say, 2 on usage errors.
            """
    )

    @Argument(help: "Servers as HOST:PORT ([ADDRESS]:PORT for IPv6).")
    var targets: [String] = []

    @Flag(name: .customLong("requests"), help: "Print exactly what is sent in each dialect, and connect nowhere.")
    var printRequests = false

    @Flag(name: .customLong("tls"), help: "Speak TLS only.")
    var tlsOnly = false

    @Flag(name: .customLong("no-tls"), help: "Never try TLS.")
    var clearOnly = false

    @Option(name: .customLong("sni"), help: "Server name for the TLS ClientHello (default: HOST when it is a name).")
    var sni: String?

    @Flag(name: .customLong("no-sni"), help: "Send no server name, even when HOST is a name.")
    var noSNI = false

    @Option(name: .customLong("timeout"), help: "Seconds to wait for a connection and for each answer (0.1-60).")
    var timeout: Double = 3

    @Option(name: .customLong("format"), help: "table or json (one JSON object per server and line).")
    var format: String = "table"

    struct Target {
        var host: String
        var port: UInt16
    }

    /// "host:port", "[v6]:port"; or the reason it is not one.
    static func parse(_ text: String) -> Result<Target, ValidationError> {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                return .failure(ValidationError("'\(TerminalSafe.escape(text))' is not [ADDRESS]:PORT"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                return .failure(
                    ValidationError(
                        "'\(TerminalSafe.escape(text))' is not HOST:PORT (write IPv6 addresses as [ADDRESS]:PORT)"))
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = UInt16(port), number > 0 else {
            return .failure(
                ValidationError("'\(TerminalSafe.escape(text))': the port must be 1-65535 and the host not empty"))
        }
        return .success(Target(host: String(host), port: number))
    }

    func validate() throws {
        if tlsOnly && clearOnly { throw ValidationError("--tls and --no-tls exclude each other") }
        if noSNI && sni != nil { throw ValidationError("--sni and --no-sni exclude each other") }
        guard timeout >= 0.1, timeout <= 60 else {
            throw ValidationError("--timeout must be 0.1-60 seconds, not \(timeout)")
        }
        guard ["table", "json"].contains(format) else {
            throw ValidationError("--format must be table or json, not '\(TerminalSafe.escape(format))'")
        }
        if targets.isEmpty && !printRequests {
            throw ValidationError("name at least one server as HOST:PORT (or --requests to see what is sent)")
        }
        for t in targets { _ = try Self.parse(t).get() }
    }

    func run() throws {
        if printRequests {
            for dialect in ProbeDialect.allCases {
                print("# \(dialect.rawValue): \(dialect.label)")
                if dialect.overWebSocket {
                    // The upgrade (CRLF line ends), then each message as one masked text frame.
                    let upgrade = String(decoding: ProbeDialect.upgradeRequest(host: "HOST:PORT"), as: UTF8.self)
                    upgrade.split(separator: "\r\n").forEach { print("  " + $0) }
                }
                if dialect.isBinary { StratumV2Probe.describedRequests.forEach { print($0) } }
                dialect.requestLines.forEach { print($0) }
            }
            return
        }
        var settings = ProbeSettings()
        settings.transport = tlsOnly ? .tls : clearOnly ? .clear : .auto
        settings.sni = sni
        settings.noSNI = noSNI
        settings.connectMilliseconds = Int32(timeout * 1000)
        settings.answerMilliseconds = Int32(timeout * 1000)
        let prober = Prober(settings: settings)
        var sawPool = false
        var undecided = false
        for text in targets {
            let target = try Self.parse(text).get()
            let result = prober.probe(host: target.host, port: target.port)
            switch result.conclusion {
            case .pool: sawPool = true
            case .unreachable, .unconfirmed: undecided = true
            case .notPool: break
            }
            print(
                format == "json"
                    ? JSONOutput.encode(ProbeJSON(result), pretty: false)
                    : ProbeTable.render(result) + (targets.count > 1 ? "\n" : ""))
        }
        if sawPool { throw ExitCode(Exit.minerFound) }
        if undecided { throw ExitCode(3) }
    }
}
