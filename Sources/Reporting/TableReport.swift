import Detection
import Foundation
import PacketDecoding
import SafeNumbers

/// The default human-readable output: one row per flagged host, then reasons, then a summary line.
public enum TableReport {
    public static func render(_ reports: [HostReport], summary: RunSummary) -> String {
        var out = ""
        if reports.isEmpty {
            // A failed read is not a clean result.
            if summary.files > 0 && summary.files_failed >= summary.files {
                out += "No capture could be read: no result.\n"
            } else if summary.files_failed > 0 {
                out +=
                    "No mining activity found in what could be read (\(Format.count(summary.files_failed, "file")) failed).\n"
            } else {
                out += "No mining activity found.\n"
            }
        } else {
            let header = [
                "HOST", "VERDICT", "CONF", "POOL", "WALLET", "SOFTWARE", "SHARES", "EST. HASHRATE", "FIRST SEEN",
                "LAST SEEN"
            ]
            var rows: [[String]] = []
            for r in reports {
                let j = HostJSON(r)
                let sessions = r.minerSessions.isEmpty ? r.poolSessions : r.minerSessions
                let pool =
                    r.verdict == .pool
                    ? "(serves :\(Set(r.poolSessions.map(\.poolPort)).sorted().map(String.init).joined(separator: ",")))"
                    : j.pools.first.map { j.pools.count > 1 ? "\($0) +\(j.pools.count - 1)" : $0 } ?? "-"
                let wallet =
                    j.wallets.first.map {
                        Format.shortWallet($0) + (j.wallets.count > 1 ? " +\(j.wallets.count - 1)" : "")
                    } ?? "-"
                let acc = sessions.reduce(0) { $0.addingSaturated($1.summary.sharesAccepted) }
                let sub = sessions.reduce(0) { $0.addingSaturated($1.summary.sharesSubmitted) }
                let rate = j.rateCell
                rows.append(
                    [
                        r.host.description, j.verdictText, String(r.confidence), pool, wallet,
                        j.miner_software.first ?? "-", "\(acc)/\(sub)", r.verdict == .pool ? "-" : rate,
                        r.firstSeen.map { short($0) } ?? "-", r.lastSeen.map { short($0) } ?? "-"
                    ].map(cell))
            }
            out += grid(header, rows)
            out += "\n"
            for r in reports where r.verdict != .none {
                out += "\(r.host) \(r.verdict.rawValue)\(r.role.map { " (\($0.rawValue))" } ?? "") (\(r.confidence)):\n"
                for reason in r.reasonTexts { out += "  - \(TerminalSafe.escape(reason))\n" }
            }
        }
        let s = summary
        if let c = s.capture {
            out +=
                "\nlive on \(c.interfaces.joined(separator: ", ")): \(c.packets_received) received, \(c.packets_dropped_by_kernel) dropped by the kernel, \(c.packets_dropped_by_interface) by the interface"
        } else {
            out += "\n\(s.files) file\(s.files == 1 ? "" : "s")"
        }
        if s.files_failed > 0 { out += " (\(s.files_failed) failed)" }
        out +=
            ", \(s.packets) packets, \(formatBytes(s.bytes)), \(Format.count(s.flows, "flow")) (\(s.bypassed_flows) bypassed)"
        out += ", \(s.malformed_packets) malformed, \(Format.count(s.gaps, "gap"))"
        out +=
            ", \(String(format2(s.elapsed_seconds))) s, \(s.hosts_flagged) host\(s.hosts_flagged == 1 ? "" : "s") flagged"
        if s.pool_servers > 0 { out += ", \(Format.count(s.pool_servers, "pool server"))" }
        // Crypto-nodes are reported, not flagged: a node talking to peers is not mining.
        let nodes = reports.filter { $0.verdict == .cryptoNode }.count
        if nodes > 0 { out += ", \(Format.count(nodes, "crypto-node")) (not mining)" }
        return out + "\n"
    }

    /// Cells are sanitised and capped so one hostile string cannot wreck the layout.
    static func cell(_ s: String) -> String {
        let e = TerminalSafe.escape(s)
        return e.count > 48 ? String(e.prefix(47)) + "…" : e
    }

    static func grid(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ").trimmingTrailingSpaces + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    static func short(_ t: Timestamp) -> String {
        let iso = TimeFormat.iso8601(t.nanoseconds)  // 2017-12-01T10:20:30.123456Z
        return String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    static func formatBytes(_ b: Int) -> String {
        if b < 1024 { return "\(b) B" }
        if b < 1 << 20 { return "\(format2(Double(b) / 1024)) KiB" }
        if b < 1 << 30 { return "\(format2(Double(b) / 1048576)) MiB" }
        return "\(format2(Double(b) / 1073741824)) GiB"
    }

    static func format2(_ v: Double) -> String { String(Double(Int(saturating: (v * 100).rounded())) / 100) }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
