import Detection
import Foundation
import PacketDecoding
import SafeNumbers

/// Renders a `PeriodReport` as HTML (one self-contained file), Markdown, CSV or JSON.
/// Every string that came from the wire is escaped for the format it lands in.
public enum PeriodRenderer {
    public enum OutputKind: String, CaseIterable, Sendable { case html, json, md, csv }

    public static func render(_ r: PeriodReport, as format: OutputKind) -> String {
        switch format {
        case .json: JSONOutput.encode(r, pretty: true) + "\n"
        case .md: markdown(r)
        case .csv: csv(r)
        case .html: html(r)
        }
    }

    /// `render`, handed over in pieces: JSON one host at a time (`JSONOutput.writePeriodReport`), so
    /// a large report is never whole in memory; the other formats at once.
    public static func write(_ r: PeriodReport, as format: OutputKind, to write: (String) -> Void) {
        if format == .json { JSONOutput.writePeriodReport(r, to: write) } else { write(render(r, as: format)) }
    }

    // MARK: - Shared

    /// "17.1 MH/s (ethereum) · 675 Sol/s (zcash)", or "none" when nothing was rated.
    static func rates(_ list: [RateJSON]) -> String {
        list.isEmpty ? "none" : list.map(\.text).joined(separator: " · ")
    }
    /// Pools serve shares rather than submit them, nodes have none to give: their shares column is empty, not 0.
    static func sharesCell(_ h: PeriodReport.Host) -> String {
        ["pool", "crypto-node"].contains(h.host.verdict) ? "-" : String(shares(h))
    }
    /// The period's headline numbers, one wording for every format. "In this period", not "now": a
    /// report may cover last year.
    static func headline(_ r: PeriodReport) -> [String] {
        var capture = "\(Format.count(r.capture.packets, "packet")) in \(Format.count(r.capture.runs, "run"))"
        if let k = r.capture.packets_dropped_by_kernel {
            capture += ", \(k) dropped by the kernel, \(r.capture.packets_dropped_by_interface ?? 0) by the interface"
        }
        return [
            "Hosts mining in this period: \(r.hosts_mining_now) (first flagged in it: \(r.hosts_new_in_period))",
            "Estimated stolen hashrate: \(rates(r.estimated_stolen_hashrates))",
            "Capture: \(capture)"
        ]
    }
    /// One sentence a manager can forward: how many hosts mine, how much, and which to deal with first
    /// (the most serious — the report lists hosts in that order) with since when, where and for whom.
    static func summary(_ r: PeriodReport) -> String? {
        let miners = r.hosts.filter { ["mining", "likely-mining"].contains($0.host.verdict) }
        guard let first = miners.first else { return nil }
        let n = r.hosts_mining_now
        var s = "\(Format.count(n, "host")) mined in this period"
        if r.hosts_new_in_period > 0 { s += " (\(r.hosts_new_in_period) first flagged in it)" }
        if !r.estimated_stolen_hashrates.isEmpty { s += ", together ~\(rates(r.estimated_stolen_hashrates))" }
        let j = first.host
        s +=
            ". Start with \(first.label): \(j.verdictText) (\(j.confidence)) since \(short(first.first_flagged ?? first.first_seen))"
        let what = [
            j.miner_software.first, j.pools.first.map { "at \($0)" },
            j.wallets.first.map { "for \(Format.shortWallet($0))" }
        ]
        .compactMap { $0 }
        if !what.isEmpty { s += " — " + what.joined(separator: " ") }
        return s + "."
    }

    /// Hosts per site and verdict, when sensors name more than one site ("hq: 2 mining, 1 pool").
    static func bySite(_ r: PeriodReport) -> [String] {
        let sites = Set(r.hosts.map(\.site))
        guard sites.count > 1 else { return [] }
        return sites.sorted().map { site in
            let hosts = r.hosts.filter { $0.site == site }
            let counts = Dictionary(grouping: hosts, by: \.host.verdict).map { ($0.key, $0.value.count) }
                .sorted {
                    HostVerdicts.rank(Verdict(rawValue: $0.0) ?? .none)
                        < HostVerdicts.rank(Verdict(rawValue: $1.0) ?? .none)
                }
            return "\(site.isEmpty ? "(no site)" : site): " + counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
        }
    }

    static func emptyPeriod(_ r: PeriodReport) -> String {
        "No mining activity in this period." + (r.whereTheDataIs.map { " " + $0 } ?? "")
    }
    static func short(_ iso: String) -> String { String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ") }
    static func pools(_ h: HostJSON) -> String {
        h.pools.isEmpty
            ? "-" : h.pools.prefix(3).joined(separator: "; ") + (h.pools.count > 3 ? " +\(h.pools.count - 3)" : "")
    }
    static func wallets(_ h: HostJSON) -> String {
        h.wallets.isEmpty
            ? "-"
            : h.wallets.prefix(2).joined(separator: "; ") + (h.wallets.count > 2 ? " +\(h.wallets.count - 2)" : "")
    }
    static func workers(_ h: HostJSON) -> String {
        h.workers.isEmpty
            ? "-"
            : h.workers.prefix(3).joined(separator: "; ") + (h.workers.count > 3 ? " +\(h.workers.count - 3)" : "")
    }
    static func software(_ h: HostJSON) -> String {
        h.miner_software.isEmpty ? "-" : h.miner_software.prefix(2).joined(separator: "; ")
    }
    /// "Seen by sensors a, b" in a report over several sensors.
    static func seenBy(_ x: PeriodReport.Host, _ r: PeriodReport) -> String? {
        r.sensors.count > 1 && !x.sensors.isEmpty
            ? "Seen by sensor\(x.sensors.count > 1 ? "s" : "") \(x.sensors.joined(separator: ", "))" : nil
    }
    /// A verdict change's host, with its site, and its sensor when the report covers several.
    static func changeHost(_ c: PeriodReport.Change, _ r: PeriodReport) -> String {
        (c.site.isEmpty ? c.host : "\(c.host) @ \(c.site)") + (r.sensors.count > 1 ? " (\(c.sensor))" : "")
    }
    static func shares(_ h: PeriodReport.Host) -> Int {
        h.sessions.reduce(0) { $0.addingSaturated($1.shares_accepted) }
    }

    // MARK: - Markdown

    /// Markdown-safe: control characters shown as \xNN, and the characters Markdown would act on escaped.
    static func md(_ s: String) -> String {
        var out = ""
        for ch in TerminalSafe.escape(s) {
            if "\\`*_[]<>|".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    static func markdown(_ r: PeriodReport) -> String {
        var o = "# StratumSniff report, \(short(r.from)) – \(short(r.to)) UTC\n\n"
        if let s = summary(r) { o += md(s) + "\n\n" }
        for line in headline(r) { o += "- \(md(line))\n" }
        let sites = bySite(r)
        if !sites.isEmpty { o += "- By site: " + sites.map(md).joined(separator: "; ") + "\n" }
        o += "\n"
        guard !r.hosts.isEmpty else { return o + md(emptyPeriod(r)) + "\n\n" + markdownProbed(r) + markdownChanges(r) }
        if r.hosts_omitted > 0 { o += omittedNote(r) + "\n\n" }
        o +=
            "| host | verdict | conf | pool | wallet | worker | software | first seen | last seen | shares | hashrate |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
        for h in r.hosts {
            let j = h.host
            o +=
                "| \(md(h.label)) | \(j.verdictText) | \(j.confidence) | \(md(pools(j))) | \(md(wallets(j))) | \(md(workers(j))) | \(md(software(j))) | \(short(h.first_seen)) | \(short(h.last_seen)) | \(sharesCell(h)) | \(md(j.rateCell)) |\n"
        }
        o += "\n"
        for h in r.hosts {
            o +=
                "## \(md(h.label)) — \(h.host.verdictText) (\(h.host.confidence))\(h.new_in_period ? " — new" : "")\n\n"
            if let seen = seenBy(h, r) { o += "- \(md(seen))\n" }
            for reason in h.host.reasons { o += "- \(md(reason))\n" }
            o += "\n"
        }
        return o + markdownProbed(r) + markdownChanges(r)
    }

    /// Said when a report lists only the first `PeriodReport.maxHosts` hosts.
    static func omittedNote(_ r: PeriodReport) -> String {
        "The \(r.hosts.count) most serious hosts are listed; \(r.hosts_omitted) more are in the store."
    }

    /// What the period's servers answered the probe (only when a sensor asked).
    static func markdownProbed(_ r: PeriodReport) -> String {
        guard !r.probed_servers.isEmpty else { return "" }
        var o =
            "## Servers asked whether they are pools\n\n| server | answer | coin | algorithm | asked | what it said |\n|---|---|---|---|---|---|\n"
        for p in r.probed_servers {
            o +=
                "| \(md(p.server)) | \(md(p.answer)) | \(md(p.coin ?? "–")) | \(md(p.algorithm ?? "–")) | \(short(p.probed_at)) | \(md(p.sentence)) |\n"
        }
        return o + "\n"
    }

    /// The verdict changes of the period (the HTML report has them too), the latest 200.
    static func markdownChanges(_ r: PeriodReport) -> String {
        guard !r.verdict_changes.isEmpty else { return "" }
        var o = "## Verdict changes\n\n| time | host | from | to | why |\n|---|---|---|---|---|\n"
        for c in r.verdict_changes.suffix(200) {
            o +=
                "| \(short(c.time)) | \(md(changeHost(c, r))) | \(md(c.old_verdict ?? "–")) | \(md(c.new_verdict)) | \(md(c.reason ?? "")) |\n"
        }
        return o + "\n"
    }

    // MARK: - CSV

    /// RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula.
    public static func csvCell(_ s: String) -> String {
        var v = TerminalSafe.escape(s)
        if let f = v.first, "=+-@\t\r".contains(f) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "'" }) {
            v = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    static func csv(_ r: PeriodReport) -> String {
        var o =
            "host,verdict,confidence,first_seen,last_seen,first_flagged,new_in_period,pools,wallets,workers,miner_software,shares_accepted,estimated_hashrate_hs,hashrate_unit,estimated_hashrates,reasons,site,sensors\n"
        for h in r.hosts {
            let j = h.host
            let cells: [String] =
                [
                    j.host, j.verdict, String(j.confidence), h.first_seen, h.last_seen, h.first_flagged ?? "",
                    String(h.new_in_period),
                    j.pools.joined(separator: "; "), j.wallets.joined(separator: "; "),
                    j.workers.joined(separator: "; "),
                    j.miner_software.joined(separator: "; "),
                    sharesCell(h) == "-" ? "" : sharesCell(h), j.estimated_hashrate_hs.map(csvNumber) ?? "",
                    j.hashrate_unit ?? "",
                    (j.estimated_hashrates ?? []).map(\.text).joined(separator: "; "),
                    j.reasons.joined(separator: " | ")
                ]
                + [h.site, h.sensors.joined(separator: "; ")]
            o += cells.map(csvCell).joined(separator: ",") + "\n"
        }
        return o
    }

    /// A number as a spreadsheet reads it: whole numbers without a fraction or exponent.
    static func csvNumber(_ v: Double) -> String {
        guard v.isFinite else { return "" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    // MARK: - HTML

    /// HTML-escapes text (after showing control characters as \xNN), for element content and attributes.
    public static func h(_ s: String) -> String {
        var out = ""
        for ch in TerminalSafe.escape(s) {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Fits a 1280 px window and a 390 px phone without scrolling sideways (long wire strings break
    /// anywhere, wide tables turn into labelled cards on narrow screens) and prints cleanly.
    static let css = """
        *{box-sizing:border-box}
        body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1d2433;background:#fff;overflow-wrap:anywhere}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}.muted{color:#5b6478}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #d8dde8;border-radius:8px;padding:10px 14px;min-width:150px;max-width:100%}
        .card b{display:block;font-size:22px}.card .rate{display:block;font-size:16px;font-weight:600}
        table{border-collapse:collapse;width:100%;margin:8px 0;table-layout:auto}
        th,td{border-bottom:1px solid #e3e7ef;padding:5px 8px;text-align:left;vertical-align:top;word-break:break-word;overflow-wrap:anywhere}
        th{background:#f4f6fa;font-weight:600;white-space:nowrap;overflow-wrap:normal}
        table.hosts td.nowrap{white-space:nowrap}
        .v-mining{color:#b00020;font-weight:700}.v-likely-mining{color:#c2410c;font-weight:700}
        .v-suspicious{color:#a16207}.v-pool{color:#6d28d9}.v-crypto-node{color:#0f766e}.new{background:#fde68a;border-radius:4px;padding:0 5px;font-size:12px}
        ul{margin:4px 0 0 18px;padding:0}svg.timeline{display:block;margin:6px 0;width:100%;max-width:720px;height:auto}
        @media (max-width:760px){
        body{margin:12px}
        table.stack thead{display:none}
        table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
        table.stack tr{border:1px solid #d8dde8;border-radius:8px;margin:0 0 10px;padding:4px 0}
        table.stack td{border:0;padding:2px 10px}table.stack td.nowrap{white-space:normal}
        table.stack td[data-label]::before{content:attr(data-label) ": ";color:#5b6478;font-weight:600}
        }
        @media print{body{margin:0;font-size:11px}a{color:inherit;text-decoration:none}.card,tr,svg{break-inside:avoid}h2{break-after:avoid}}
        """

    /// One table cell; `label` names it when the table becomes cards on a phone.
    static func td(_ label: String, _ content: String, nowrap: Bool = false, cls: String? = nil) -> String {
        let classes = ([nowrap ? "nowrap" : nil, cls].compactMap { $0 }).joined(separator: " ")
        return "<td data-label=\"\(h(label))\"\(classes.isEmpty ? "" : " class=\"\(classes)\"")>\(content)</td>"
    }

    /// Wallets in the host table, shortened (`48edfHu7V9…UicoD`) so that a 95-character address neither
    /// breaks mid-token nor makes its row fifteen lines tall; the whole address is a hover away (`title`,
    /// no script) and in the host's reasons below.
    static func walletCell(_ j: HostJSON) -> String {
        guard !j.wallets.isEmpty else { return "-" }
        return j.wallets.prefix(2).map { "<span title=\"\(h($0))\">\(h(Format.shortWallet($0)))</span>" }.joined(
            separator: "; ")
            + (j.wallets.count > 2 ? " +\(j.wallets.count - 2)" : "")
    }

    static func html(_ r: PeriodReport) -> String {
        var o =
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        o +=
            "<title>StratumSniff report \(h(short(r.from))) – \(h(short(r.to)))</title><style>\(css)</style></head><body>\n"
        o +=
            "<h1>Cryptomining report</h1><div class=\"muted\">\(h(short(r.from))) – \(h(short(r.to))) UTC · generated \(h(short(r.generated))) UTC by StratumSniff</div>\n"
        if let s = summary(r) { o += "<p id=\"summary\"><b>\(h(s))</b></p>\n" }
        let sites = bySite(r)
        if !sites.isEmpty { o += "<p id=\"by-site\">By site: " + sites.map(h).joined(separator: "; ") + "</p>\n" }
        o +=
            "<div class=\"cards\"><div class=\"card\"><b id=\"mining-now\">\(r.hosts_mining_now)</b>hosts mining in this period</div>"
        o += "<div class=\"card\"><b id=\"new-hosts\">\(r.hosts_new_in_period)</b>first flagged in this period</div>"
        let rateLines =
            r.estimated_stolen_hashrates.isEmpty
            ? "<b>none</b>"
            : r.estimated_stolen_hashrates.map { "<span class=\"rate\">\(h($0.text))</span>" }.joined()
        o += "<div class=\"card\" id=\"hashrate\">\(rateLines)estimated stolen hashrate</div>"
        var cap = "\(Format.count(r.capture.packets, "packet")), \(Format.count(r.capture.runs, "run"))"
        if let k = r.capture.packets_dropped_by_kernel {
            cap += ", \(k) dropped by kernel, \(r.capture.packets_dropped_by_interface ?? 0) by interface"
        }
        o +=
            "<div class=\"card\"><b>\(r.capture.packets_dropped_by_kernel ?? 0)</b>packets dropped<br><span class=\"muted\">\(h(cap))</span></div></div>\n"
        if r.hosts.isEmpty {
            o += "<p id=\"empty\">\(h(emptyPeriod(r)))</p>"
        } else {
            if r.hosts_omitted > 0 { o += "<p class=\"muted\">\(h(omittedNote(r)))</p>\n" }
            o +=
                "<table class=\"hosts stack\"><thead><tr><th>Host</th><th>Verdict</th><th>Conf.</th><th>Pool</th><th>Wallet</th><th>Worker</th><th>Software</th><th>First seen</th><th>Last seen</th><th>Shares</th><th>Hashrate</th></tr></thead><tbody>\n"
            for x in r.hosts {
                let j = x.host
                o +=
                    "<tr>"
                    + td(
                        "Host",
                        "<a href=\"#host-\(h(x.label))\">\(h(x.label))</a>\(x.new_in_period ? " <span class=\"new\">new</span>" : "")",
                        nowrap: true)
                o +=
                    td("Verdict", h(j.verdictText), nowrap: true, cls: "v-\(h(j.verdict))")
                    + td("Confidence", String(j.confidence), nowrap: true)
                o +=
                    td("Pool", h(pools(j))) + td("Wallet", walletCell(j), nowrap: true) + td("Worker", h(workers(j)))
                    + td("Software", h(software(j)))
                o +=
                    td("First seen", h(short(x.first_seen)), nowrap: true)
                    + td("Last seen", h(short(x.last_seen)), nowrap: true)
                o += td("Shares", sharesCell(x), nowrap: true) + td("Hashrate", h(j.rateCell), nowrap: true) + "</tr>\n"
            }
            o += "</tbody></table>\n"
            for x in r.hosts {
                o +=
                    "<h2 id=\"host-\(h(x.label))\">\(h(x.label)) <span class=\"v-\(h(x.host.verdict))\">\(h(x.host.verdictText))</span> <span class=\"muted\">(\(x.host.confidence))</span></h2>\n"
                let axis = r.activeSpan(of: x)
                o += timeline(x, from: axis.0, to: axis.1)
                o +=
                    "<ul>" + (seenBy(x, r).map { ["<li>\(h($0))</li>"] } ?? []).joined()
                    + x.host.reasons.map { "<li>\(h($0))</li>" }.joined() + "</ul>\n"
            }
        }
        if !r.probed_servers.isEmpty {
            o +=
                "<h2>Servers asked whether they are pools</h2><table class=\"changes stack\"><thead><tr><th>Server</th><th>Answer</th><th>Coin</th><th>Algorithm</th><th>Asked</th><th>What it said</th></tr></thead><tbody>"
            for p in r.probed_servers {
                o +=
                    "<tr>" + td("Server", h(p.server)) + td("Answer", h(p.answer)) + td("Coin", h(p.coin ?? "–"))
                    + td("Algorithm", h(p.algorithm ?? "–"))
                o += td("Asked", h(short(p.probed_at))) + td("What it said", h(p.sentence)) + "</tr>"
            }
            o += "</tbody></table>\n"
        }
        if !r.verdict_changes.isEmpty {
            o +=
                "<h2>Verdict changes</h2><table class=\"changes stack\"><thead><tr><th>Time</th><th>Host</th><th>From</th><th>To</th><th>Why</th></tr></thead><tbody>"
            for c in r.verdict_changes.suffix(200) {
                o +=
                    "<tr>" + td("Time", h(short(c.time))) + td("Host", h(changeHost(c, r)))
                    + td("From", h(c.old_verdict ?? "–"))
                o += td("To", h(c.new_verdict)) + td("Why", h(c.reason ?? "")) + "</tr>"
            }
            o += "</tbody></table>\n"
        }
        return o + "</body></html>\n"
    }

    /// Mining activity as an inline SVG: one bar per session over `from ... to` (the span the period's
    /// sessions cover), scaled to the page's width.
    static func timeline(_ x: PeriodReport.Host, from: Int64, to: Int64) -> String {
        // Store times are packet times: any Int64, so differences are taken without overflow.
        let w = 720.0
        let hgt = 34.0
        let span = max(to.difference(from: from), 1)
        func px(_ t: Int64) -> Double { min(w, max(0, t.difference(from: from) / span * w)) }
        var svg =
            "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(hgt))\" role=\"img\" aria-label=\"mining activity of \(h(x.host.host))\">"
        svg += "<rect x=\"0\" y=\"4\" width=\"\(Int(w))\" height=\"18\" fill=\"#eef1f6\"/>"
        let color = x.host.verdict == "pool" ? "#6d28d9" : "#b00020"
        for s in x.sessions where s.end_ns >= from && s.start_ns <= to {
            let a = px(s.start_ns)
            let b = max(px(s.end_ns), a + 2)
            svg +=
                "<rect class=\"session\" x=\"\(String(format: "%.1f", a))\" y=\"4\" width=\"\(String(format: "%.1f", b - a))\" height=\"18\" fill=\"\(color)\"><title>\(h(s.pool)) \(h(short(s.first_seen)))–\(h(short(s.last_seen))), \(h(Format.count(s.shares_accepted, "share")))</title></rect>"
        }
        svg += "<text x=\"0\" y=\"33\" font-size=\"10\" fill=\"#5b6478\">\(h(short(TimeFormat.iso8601(from))))</text>"
        svg +=
            "<text x=\"\(Int(w))\" y=\"33\" font-size=\"10\" fill=\"#5b6478\" text-anchor=\"end\">\(h(short(TimeFormat.iso8601(to))))</text></svg>\n"
        return svg
    }
}
