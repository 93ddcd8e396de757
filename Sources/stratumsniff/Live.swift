import ArgumentParser
import Detection
import Foundation
import PacketCapture
import PacketDecoding
import Pipeline
import Reporting
import Sensor

struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture live from one or more interfaces (a tap or mirror port) and report continuously.",
        discussion: """
        Needs root or CAP_NET_RAW + CAP_NET_ADMIN to open the interfaces; when started as root it \
        drops to --user (default nobody) once they are open. SIGINT/SIGTERM stop cleanly (final \
        report, store closed, exit 0); SIGHUP reopens output files and reloads the pool/allow lists.
        """
    )

    @Option(name: [.customShort("i"), .customLong("interface")], help: "Interface to capture on (repeatable).")
    var interfaces: [String] = []

    @Option(help: "libpcap filter expression for every interface.")
    var bpf: String?

    @Flag(help: "Do not put the interfaces into promiscuous mode.")
    var noPromisc = false

    @Option(help: "Bytes captured per packet (default 262144).")
    var snaplen: Int = 262_144

    @Option(help: "Kernel capture buffer per interface, in MiB (default: libpcap's, 2 MiB); raise it when the kernel drops packets.")
    var bufferSize: Int?

    @Option(help: "After opening the interfaces, run as this user (default: nobody when started as root).")
    var user: String?

    @Option(help: "Stop after this many seconds (default: run until SIGINT/SIGTERM).")
    var duration: Double?

    @Option(help: "Final report on standard output: table, json or none.")
    var format: String = "table"

    @Flag(name: .shortAndLong, help: "No status line on standard error.")
    var quiet = false

    @OptionGroup(title: "Pool intelligence") var intel: IntelOptions
    @OptionGroup(title: "Caps") var caps: LimitOptions

    func validate() throws {
        if interfaces.isEmpty { throw ValidationError("name at least one interface with -i (see 'stratumsniff interfaces')") }
        if let bpf { do { try PcapFileSource.validateFilter(bpf) } catch { throw ValidationError(error.description) } }
        if snaplen < 64 { throw ValidationError("--snaplen must be at least 64 (got \(snaplen))") }
        if let b = bufferSize, b < 1 || b > 4096 { throw ValidationError("--buffer-size is in MiB, 1 to 4096 (got \(b))") }
        if let d = duration, !(d > 0) { throw ValidationError("--duration must be a positive number of seconds") }
        if !["table", "json", "none"].contains(format) { throw ValidationError("--format must be table, json or none") }
        if let user, Privileges.isRoot { do { _ = try Privileges.lookup(user) } catch { throw ValidationError(error.description) } }
    }

    func run() throws {
        let started = WallTime.now()
        let (pools, localNets) = try intel.load()
        var options = LiveCapture.Options()
        options.promiscuous = !noPromisc
        options.snapLength = snaplen
        options.bufferSize = bufferSize.map { $0 * 1024 * 1024 }
        options.filter = bpf
        var captures: [LiveCapture] = []
        for name in interfaces {
            do { captures.append(try LiveCapture(interface: name, options: options)) } catch {
                FileHandleStderr.write("stratumsniff: \(TerminalSafe.escape(error.description))\n")
                throw ExitCode(Exit.usageOrInputError)
            }
        }
        // The handles are open: nothing else needs root.
        if Privileges.isRoot {
            let target = user ?? "nobody"
            if target != "root" {
                do { try Privileges.drop(to: target) } catch {
                    FileHandleStderr.write("stratumsniff: \(error.description)\n")
                    throw ExitCode(Exit.usageOrInputError)
                }
            }
        }
        Signals.install()
        let analyzer = Analyzer(limits: caps.limits, intel: pools, localNets: localNets)
        let loop = LiveLoop(captures: captures, analyzer: analyzer)
        let status = StatusLine(enabled: !quiet && isatty(2) != 0)
        let deadline = duration.map { started.adding(seconds: $0) }
        do {
            try loop.run(shouldStop: { Signals.shouldStop || deadline.map { WallTime.now() >= $0 } == true }) { now in
                status.show(loop: loop, analyzer: analyzer)
            }
        } catch {
            status.clear()
            FileHandleStderr.write("stratumsniff: \(TerminalSafe.escape(error.description))\n")
        }
        status.clear()
        let reports = analyzer.finish()
        let stats = loop.captureStatistics()
        var summary = RunSummary(stats: analyzer.statistics, files: 0, errors: [], elapsed: WallTime.now().since(started), hostsFlagged: reports.count)
        summary.capture = CaptureSummary(interfaces: interfaces, stats: stats)
        switch format {
        case "json": print(JSONOutput.encode(ReportDocument(summary: summary, hosts: reports.map(HostJSON.init)), pretty: true))
        case "table": print(TableReport.render(reports, summary: summary), terminator: "")
        default: break
        }
        if stats.droppedByKernel > 0 || stats.droppedByInterface > 0 {
            FileHandleStderr.write("stratumsniff: \(stats.droppedByKernel) packets dropped by the kernel, \(stats.droppedByInterface) by the interface: raise --buffer-size or narrow --bpf\n")
        }
    }
}

/// One status line on stderr (a terminal only), redrawn each tick.
final class StatusLine {
    let enabled: Bool
    private var shown = false
    init(enabled: Bool) { self.enabled = enabled }

    func show(loop: LiveLoop, analyzer: Analyzer) {
        guard enabled else { return }
        let c = loop.captureStatistics()
        let s = analyzer.statistics
        FileHandleStderr.write("\r\u{1B}[K\(c.received) received, \(c.droppedByKernel) dropped by kernel, \(c.droppedByInterface) by interface, \(s.reassembly.activeFlows) flows, \(s.stratumSessions) sessions")
        shown = true
    }

    func clear() {
        if shown { FileHandleStderr.write("\r\u{1B}[K"); shown = false }
    }
}
