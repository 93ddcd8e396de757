import Coins
import Detection
import PacketDecoding
import SafeNumbers
import Stratum

/// The sentences of a report: every `Reason` a verdict rests on, worded for a person. Wire strings
/// are in them as they came: escape for the medium when printing.
public enum ReasonText {
    /// A host's reasons, strongest first.
    public static func sentences(_ r: HostReport) -> [String] {
        r.reasons.flatMap { sentences($0, policy: r.policy) }
    }

    /// How a name was learned, as the reasons and the `name_from` detail say it.
    public static func phrase(_ source: NameSource) -> String {
        switch source {
        case .thisFlowsSNI: "this flow's SNI"
        case .thisFlowsCertificate: "this flow's certificate"
        case .thisFlowsHost: "HTTP Host"
        case .thisFlowsProxyRequest(let kind): "this flow's \(ProxyRoute.label(kind)) request"
        case .session: "session"
        case .dnsAnswer: "a DNS answer"
        case .earlierSNI: "an earlier flow's TLS SNI"
        case .earlierHost: "an earlier flow's HTTP Host"
        case .addressList: "address list"
        }
    }

    /// "pool.example.com:3333 via SOCKS5 proxy 10.0.0.3:1080", with the name the flow revealed
    /// when the request gave only an address: "name (198.51.100.61:443) via …".
    public static func proxied(_ e: Evidence, _ route: ProxyRoute) -> String {
        let dest =
            e.name.map { route.target.hasPrefix($0 + ":") ? route.target : "\($0) (\(route.target))" } ?? route.target
        return "\(dest) via \(route.label) proxy \(e.peerEndpoint ?? "?")"
    }

    public static func sentences(_ reason: Reason, policy: ScoringPolicy) -> [String] {
        switch reason {
        case .servedWork(let ports, let miners, let sessions, let jobs, let shares, let relay, let upstreamSeen):
            let p = ports.map(String.init).joined(separator: ", ")
            let served =
                "mining work on port \(p) to \(Format.count(miners, "miner")) (\(Format.count(sessions, "session")), \(Format.count(jobs, "job")), \(Format.count(shares, "share")) accepted)"
            if relay && !upstreamSeen {
                return [
                    "a relay on the local network (xmrig-proxy or the like): serves \(served); its upstream is not in this traffic "
                        + "(encrypted, or past another tap) — the host to pull"
                ]
            }
            return [
                relay
                    ? "a relay (xmrig-proxy or the like): serves \(served) and mines upstream — the host whose traffic leaves the network"
                    : "served \(served)"
            ]
        case .mined(let sessions, let upstream, let relays):
            return describeAll(sessions).map { line in
                // Where a relay takes this miner's work: the pool it mines at itself.
                let via =
                    relays.isEmpty
                    ? ""
                    : "; "
                        + relays.sorted { $0.key < $1.key }
                        .map { "\($0.key) is a relay mining upstream at \($0.value.joined(separator: ", "))" }.joined(
                            separator: "; ")
                return (upstream ? "also mines upstream: " : "") + line + via
            }
        case .evidence(let e):
            return [describe(e, policy)]
        case .retiredSessions(let n):
            // Said without knowing whether a store is there: the run may have none.
            return [
                "and \(n) earlier session\(n == 1 ? "" : "s") no longer held in memory (a store, --store, keeps every one)"
            ]
        case .noEvidence:
            return ["no mining evidence"]
        case .withdrawn(let e, let because):
            return ["withdrawn: " + describe(e, policy) + " — \(because)"]
        }
    }

    /// One sentence per piece of evidence.
    public static func describe(_ e: Evidence, _ p: ScoringPolicy) -> String {
        let name = e.name ?? e.peer?.description ?? "?"
        let port = e.peerPort
        var listed = ""
        if let m = e.pool {
            let coins = m.entry.coins.isEmpty ? "" : ", " + m.entry.coins.joined(separator: "/")
            listed = " (listed: \(m.matched), \(m.entry.kind.rawValue)\(coins), \(m.entry.source))"
        }
        let times = e.count > 1 ? " over \(e.count) connections" : ""
        let at = e.peer.map { " [\($0)]" } ?? ""
        switch e.kind {
        case .tlsToPool, .webSocketToPool, .connectionToPool, .stratumV2Encrypted:
            let what =
                switch e.kind {
                case .tlsToPool: e.details.noSNI ? "TLS without SNI" : "TLS"
                case .webSocketToPool: "WebSocket"
                case .stratumV2Encrypted: "encrypted Stratum V2 (\(e.details.message ?? "Noise handshake shape"))"
                default: "a connection"
                }
            var t = "\(what) to \(name):\(port)\(at)\(listed) for \(Format.duration(e.duration))\(times)"
            if let route = e.details.proxy {
                t = "\(what) to \(proxied(e, route))\(listed) for \(Format.duration(e.duration))\(times)"
                if e.details.proxyRefused != nil { t += " (the proxy refused it)" }
            }
            if let via = e.details.nameFrom { t += ", name from \(phrase(via))" }
            t += ", \(e.packetsOut + e.packetsIn) packets"
            if let c = e.details.cadence, c.looksLikeMining {
                t += ", behaving like mining: " + cadence(c)
            } else if HostVerdicts.isPeriodic(e, p) {
                t += ", periodic small messages"
            }
            if e.details.minerCertificate { t += ", a miner-generated certificate" }
            if let ja4 = e.details.ja4 { t += ", JA4 \(ja4)" }
            return t
        case .tlsMiningCadence:
            let what = e.details.noSNI ? "TLS without SNI" : "TLS"
            let named = e.name.map { " (SNI \($0), on no list)" } ?? " (no listed name for the address)"
            // Through a proxy, the target the proxy was asked for, and the proxy.
            let to = e.details.proxy.map { "\($0.target) (on no list) via \($0.label) proxy \(e.peerEndpoint ?? "?")" }
            var t = "\(what) to \(to ?? (e.peerEndpoint ?? "?") + named) for \(Format.duration(e.duration))\(times)"
            if let c = e.details.cadence {
                t += c.looksLikeMining ? " behaving like mining: " + cadence(c) : " " + notCadence(c)
            }
            if let ja4 = e.details.ja4 { t += ", JA4 \(ja4)" }
            return t
        case .minerCertificate:
            let cn = e.details.certificateNames.first.map { "CN=\($0)" } ?? "without a common name"
            var t = "server certificate \(cn) with the profile XMRig and xmrig-proxy generate for themselves "
            t +=
                "(self-signed, X.509 v1, serial 1, RSA-2048, valid exactly 10 years) from \(e.peerEndpoint ?? "?")\(listed)"
            return t + " for \(Format.duration(e.duration))\(times)"
        case .httpToPool:
            var t = "HTTP to \(name):\(port)\(listed)"
            if let r = e.details.request { t += ": \(r)" }
            return t + times
        case .minerUserAgent:
            return "miner software \(e.software ?? "?") in HTTP User-Agent to \(name):\(port)\(times)"
        case .dnsPoolLookup:
            var t = "looked up pool name \(name)\(listed)"
            if e.count > 1 { t += " \(e.count) times" }
            if !e.details.answers.isEmpty { t += " → \(e.details.answers.joined(separator: ", "))" }
            return t
        case .probedPool:
            // The probe's sentence, then what it confirms.
            let weak = e.details.weakFlows ? " (brief connections)" : ""
            return
                "\(e.details.message ?? "the server \(e.peerEndpoint ?? "?") answered the probe like a pool"); the host's flows to it\(weak) are mining"
        case .peerToPeer:
            var t =
                "\(e.coin ?? "cryptocurrency") node traffic (\(e.details.message ?? "p2p")) with \(e.peerEndpoint ?? "?")\(times)"
            if let ua = e.software { t += ", node software \(ua)" }
            return t + " — a node, not mining"
        }
    }

    /// The behaviour model's measurements in words.
    public static func cadence(_ c: CadenceMeasures) -> String {
        func bytes(_ s: CadenceSeries) -> Int { Int(saturating: s.mean.rounded()) }
        var t = "the server pushed \(c.pushes) messages of ≈ \(bytes(c.pushSizes)) bytes"
        if c.pushIntervals.count > 0 { t += " every \(Format.duration(c.meanPushInterval)) on average" }
        t += c.repliedPushes == 0 ? ", none answered" : ", \(c.repliedPushes) answered"
        t += "; the client sent \(c.sends) of ≈ \(bytes(c.sendSizes)) bytes at irregular times"
        if c.sendIntervals.count > 0 { t += " (every \(Format.duration(c.meanSendInterval)) on average)" }
        t += ", \(c.answeredSends) acknowledged within \(Format.duration(ExchangeCadence.Timing.answerWindow))"
        t += " by ≈ \(bytes(c.answerSizes))-byte answers"
        if c.flows > 1 { t += " (\(c.flows) connections together)" }
        return t
    }

    /// Why measured flows are not called mining (shown with `--all-hosts`).
    public static func notCadence(_ c: CadenceMeasures) -> String {
        "measured but not behaving like mining (\(c.failedTests.map(\.rawValue).joined(separator: "; "))): "
            + cadence(c)
    }

    /// One sentence per distinct session, in order of first appearance; sessions that say the same
    /// apart from their times (a miner reconnecting and being refused, again and again) share one:
    /// "8 sessions between 2026-11-27 10:02:11 and 10:02:49, each: … (login rejected), monero".
    public static func describeAll(_ sessions: [SessionRecord]) -> [String] {
        var order: [String] = []
        var groups: [String: (first: Int64, last: Int64, sessions: [SessionRecord])] = [:]
        for s in sessions {
            let key = describe(s, withDuration: false)
            let a = (s.summary.firstSeen ?? s.flowFirstSeen).nanoseconds
            let b = (s.summary.lastSeen ?? s.flowLastSeen).nanoseconds
            if var g = groups[key] {
                g.first = min(g.first, a)
                g.last = max(g.last, b)
                g.sessions.append(s)
                groups[key] = g
            } else {
                order.append(key)
                groups[key] = (a, b, [s])
            }
        }
        return order.map { key in
            let g = groups[key]!
            guard g.sessions.count > 1 else { return describe(g.sessions[0]) }
            let from = TimeFormat.short(g.first)
            let to = TimeFormat.short(g.last)
            // The second time without its date when both fall on one day.
            let until = from.prefix(10) == to.prefix(10) ? String(to.dropFirst(11)) : to
            return "\(g.sessions.count) sessions between \(from) and \(until), each: \(key)"
        }
    }

    /// One sentence per session: who, where, as whom, how much.
    public static func describe(_ s: SessionRecord, withDuration: Bool = true) -> String {
        let m = s.summary
        var where_ = s.poolDisplay
        if let l = s.poolList { where_ += " (listed: \(l.matched), \(l.entry.kind.rawValue), \(l.entry.source))" }
        var parts: [String] = []
        let who = m.software ?? "a miner"
        var dialect = m.dialect?.rawValue ?? "stratum"
        if s.transport != .tcp { dialect += " over " + (s.transport == .http ? "HTTP" : "WebSocket") }
        switch m.shape {
        case .twoSided:
            var login = "\(who) mined via \(dialect) at \(where_)"
            if let w = m.wallets.first { login += " as \(Format.shortWallet(w))" }
            if let ok = m.loginAccepted { login += ok ? " (login accepted)" : " (login rejected)" }
            parts.append(login)
        case .poolPushOnly:
            parts.append(
                "received \(Format.count(m.jobsReceived, "mining job")) from \(where_) via \(dialect) (session picked up mid-way)"
            )
        case .minerOnly:
            var t = "\(who) sent \(m.minerMethods.joined(separator: ", ")) to \(where_) with no pool answer seen"
            if let w = m.wallets.first { t += " as \(Format.shortWallet(w))" }
            parts.append(t)
        case .none:
            parts.append("stratum traffic with \(where_)")
        }
        if let coin = s.coin { parts.append(coin) }
        let seconds = (m.lastSeen ?? .zero).since(m.firstSeen ?? .zero)
        if m.sharesSubmitted > 0 || m.sharesAccepted > 0 {
            parts.append(
                "\(Format.count(m.sharesAccepted, "share")) accepted, \(m.sharesRejected) rejected of \(m.sharesSubmitted) submitted"
                    + (withDuration ? " in \(Format.duration(seconds))" : ""))
        } else if m.jobsReceived > 0 && m.shape != .poolPushOnly {
            parts.append(Format.count(m.jobsReceived, "job") + (withDuration ? " in \(Format.duration(seconds))" : ""))
        }
        let unit = s.rateKind.unit
        if withDuration, let h = m.estimatedHashrate {
            // The interval, not only the number: a few shares say little (docs/detection.md "Estimated hashrate").
            let interval =
                RateInterval.factors(shares: m.sharesAccepted)
                .map { " (95 %: \(Format.hashrate(h * $0.low, unit))–\(Format.hashrate(h * $0.high, unit)))" } ?? ""
            parts.append(
                "~\(Format.hashrate(h, unit))\(interval) from \(Format.count(m.sharesAccepted, "accepted share"))")
        }
        if let r = m.reportedHashrate { parts.append("reports \(Format.hashrate(r, unit))") }
        return parts.joined(separator: ", ")
    }
}

extension HostReport {
    /// The reasons as sentences (`ReasonText`).
    public var reasonTexts: [String] { ReasonText.sentences(self) }
}

/// Human formatting shared by reasons and the table.
public enum Format {
    /// "12.3 kH/s". Any Double is safe here: rates come from wire numbers (a `set_difficulty 1e300`,
    /// an `eth_submitHashrate 0xfff…`); beyond the units, scientific notation; not finite: "?".
    public static func hashrate(_ h: Double, _ unit: HashrateUnit = .hashes) -> String {
        let base = unit.rawValue
        guard h.isFinite else { return "? \(base)" }
        let prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"]
        var v = max(h, 0)
        var i = 0
        while v >= 1000 && i < prefixes.count - 1 {
            v /= 1000
            i += 1
        }
        if v >= 1000 { return "\(h) \(base)" }
        let rounded = v >= 100 ? String(Int(v.rounded())) : String(Double(Int(v * 10)) / 10)
        return "\(rounded) \(prefixes[i])\(base)"
    }

    /// "42 s", "5 min", "1.5 h", "3.2 d"; saturates for absurd spans, "?" when not finite.
    public static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        if s < 60 { return "\(Int(saturating: s.rounded())) s" }
        if s < 3600 { return "\(Int((s / 60).rounded())) min" }
        if s < 86400 { return String(Double(Int(s / 360)) / 10) + " h" }
        return String(Double(Int(saturating: s / 8640)) / 10) + " d"
    }

    /// "1 share", "5 shares".
    public static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        n == 1 ? "1 \(noun)" : "\(n) \(plural ?? noun + "s")"
    }

    /// "4BCeEPhodg…CvCDm" for long wallets.
    public static func shortWallet(_ w: String) -> String {
        w.count > 20 ? "\(w.prefix(10))…\(w.suffix(5))" : w
    }
}
