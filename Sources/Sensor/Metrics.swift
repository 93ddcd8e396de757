import Detection
import Dispatch
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import Prometheus

/// What `live --metrics` shows (docs/operations.md "Metrics"), in the Prometheus text format through
/// swift-prometheus. Counters are the sensor's own running totals, raised by what they grew since the
/// last update (once a second, from the thread that commits).
public final class SensorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The totals last seen per counter, to raise each counter by the difference.
    private let seen = Locked<[String: Int]>([:])
    /// When the sensor last updated the metrics, and why it is unhealthy if it is.
    private let status = Locked<(updated: Timestamp, problem: String?)>((.distantPast, nil))

    /// The time series of one update.
    public struct Snapshot: Sendable {
        /// Per interface and worker (worker 0 alone without workers): capture counters.
        public var capture: [(interface: String, worker: Int, stats: CaptureStatistics)] = []
        public var analysis = AnalysisStats()
        public var hostsByVerdict: [Verdict: Int] = [:]
        public var webhook: (delivered: Int, failed: Int)?
        public var syslogSent: Int?
        public var store: (commits: Int, failures: Int, failing: Bool, lastCommitSeconds: Double)?
        /// Batches waiting on disk for a PostgreSQL store (nil without a spool).
        public var spool: Recorder.SpoolState?
        /// `--probe`: what the prober did (nil without it), and servers dropped from its queue.
        public var probes: (counters: ProbeScheduler.Counters, dropped: Int)?
        public var workers = 1
        /// Why the sensor is unhealthy now (capture stalled, store failing), if it is.
        public var problem: String?
        public init() {}
    }

    /// Which sensor and site the series come from (`stratumsniff_sensor_info`).
    private let sensor: String, site: String

    public init(sensor: String = "", site: String = "") {
        self.sensor = sensor
        self.site = site
    }

    private func raise(_ name: String, _ labels: [(String, String)], to total: Int, help: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = seen.withLock { s -> Int in
            let d = max(total - (s[key] ?? 0), 0)
            s[key] = max(total, s[key] ?? 0)
            return d
        }
        let counter = registry.makeCounter(descriptor: .named(name, help: help), labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    private func set(_ name: String, _ labels: [(String, String)] = [], to value: Double, help: String) {
        registry.makeGauge(descriptor: .named(name, help: help), labels: labels).set(to: value)
    }

    public func update(_ s: Snapshot, at now: Timestamp) {
        // The Prometheus way to say who is speaking without a label on every series: one info series
        // to join on (`* on(instance) group_left(sensor, site) stratumsniff_sensor_info`).
        set(
            "stratumsniff_sensor_info", [("sensor", sensor), ("site", site)], to: 1,
            help: "This sensor's name and site (--sensor, --site); always 1.")
        for c in s.capture {
            let l = [("interface", c.interface), ("worker", String(c.worker))]
            raise(
                "stratumsniff_packets_received_total", l, to: Int(clamping: c.stats.received),
                help: "Packets the capture filter accepted (pcap_stats).")
            raise(
                "stratumsniff_packets_dropped_kernel_total", l, to: Int(clamping: c.stats.droppedByKernel),
                help: "Packets the kernel dropped (buffer full).")
            raise(
                "stratumsniff_packets_dropped_interface_total", l, to: Int(clamping: c.stats.droppedByInterface),
                help: "Packets the interface or driver dropped.")
        }
        let a = s.analysis
        raise("stratumsniff_packets_analysed_total", [], to: a.packets, help: "Packets analysed.")
        raise("stratumsniff_bytes_analysed_total", [], to: a.bytes, help: "Bytes analysed (original lengths).")
        raise("stratumsniff_flows_total", [], to: a.reassembly.flowsCreated, help: "Flows tracked since the start.")
        set("stratumsniff_flows_open", to: Double(a.reassembly.activeFlows), help: "Flows tracked now.")
        raise(
            "stratumsniff_flows_bypassed_total", [], to: a.reassembly.bypassedFlows,
            help: "Flows no decoder kept (counters only).")
        set("stratumsniff_stratum_sessions", to: Double(a.stratumSessions), help: "Mining sessions held in memory.")
        for (anomaly, count) in a.anomalies.nonZero {
            raise(
                "stratumsniff_anomalies_total", [("anomaly", anomaly.rawValue)], to: count,
                help: "Decoder and cap anomalies by kind (README \"Hostile input\").")
        }
        for (name, count) in a.protocolCounts.byName.sorted(by: { $0.key < $1.key }) {
            raise(
                "stratumsniff_protocol_total", [("counter", name)], to: count,
                help: "Each protocol's counters, by their names in the JSON summary (dns_messages, tls_handshakes …).")
        }
        for v in Verdict.allCases where v != .none {
            set(
                "stratumsniff_hosts", [("verdict", v.rawValue)], to: Double(s.hostsByVerdict[v] ?? 0),
                help: "Hosts per current verdict.")
        }
        if let w = s.webhook {
            raise(
                "stratumsniff_alerts_sent_total", [("output", "webhook")], to: w.delivered,
                help: "Alerts and reports delivered, per output.")
            raise(
                "stratumsniff_alerts_failed_total", [("output", "webhook")], to: w.failed,
                help: "Deliveries given up after retries, per output.")
        }
        if let sent = s.syslogSent {
            raise(
                "stratumsniff_alerts_sent_total", [("output", "syslog")], to: sent,
                help: "Alerts and reports delivered, per output.")
        }
        if let st = s.store {
            raise("stratumsniff_store_commits_total", [], to: st.commits, help: "Snapshots committed to the store.")
            raise("stratumsniff_store_commit_failures_total", [], to: st.failures, help: "Store commits that failed.")
            set(
                "stratumsniff_store_commit_seconds", to: st.lastCommitSeconds,
                help: "How long the latest store commit took.")
        }
        if let sp = s.spool {
            set(
                "stratumsniff_store_spool_batches", to: Double(sp.batches),
                help: "Batches waiting in the spool for the database.")
            set("stratumsniff_store_spool_bytes", to: Double(sp.bytes), help: "Size of the spool on disk.")
            set(
                "stratumsniff_store_spool_oldest_seconds", to: sp.oldestSeconds,
                help: "How long the oldest spooled batch has waited.")
            raise(
                "stratumsniff_store_spool_delivered_total", [], to: sp.delivered,
                help: "Spooled batches delivered once the database answered.")
            raise(
                "stratumsniff_store_spool_rows_dropped_total", [], to: sp.rowsDropped,
                help:
                    "Open-session snapshots and evidence rows given up when the spool was full (verdict changes never are)."
            )
        }
        if let p = s.probes {
            let help = "Suspect servers asked whether they are pools (--probe), by answer."
            raise("stratumsniff_probes_total", [("result", "pool")], to: p.counters.pools, help: help)
            raise("stratumsniff_probes_total", [("result", "not-pool")], to: p.counters.notPools, help: help)
            raise("stratumsniff_probes_total", [("result", "undecided")], to: p.counters.undecided, help: help)
            let skipHelp =
                "Suspect servers not asked (--probe), by why: a local address, --probe-deny, a limit, an answer still fresh, a full queue."
            raise(
                "stratumsniff_probes_skipped_total", [("reason", "local")], to: p.counters.refusedLocal, help: skipHelp)
            raise(
                "stratumsniff_probes_skipped_total", [("reason", "denied")], to: p.counters.refusedDenied,
                help: skipHelp)
            raise("stratumsniff_probes_skipped_total", [("reason", "limit")], to: p.counters.overLimit, help: skipHelp)
            raise("stratumsniff_probes_skipped_total", [("reason", "cached")], to: p.counters.cached, help: skipHelp)
            raise("stratumsniff_probes_skipped_total", [("reason", "queue-full")], to: p.dropped, help: skipHelp)
        }
        set("stratumsniff_workers", to: Double(s.workers), help: "Capture workers.")
        status.withLock { $0 = (now, s.problem) }
    }

    /// Whether the sensor is healthy at `now`: updated within 10 s (the committing thread is alive) and
    /// no problem reported; else why not.
    public func health(at now: Timestamp) -> String? {
        let (updated, problem) = status.withLock { $0 }
        if now.since(updated) > 10 { return "no update for \(Int(now.since(updated))) s: the sensor is stalled" }
        return problem
    }

    public func text() -> String { registry.emitToString() }
}

public struct MetricsError: Error, CustomStringConvertible {
    public var description: String
}

extension MetricNameDescriptor {
    /// A metric by its whole name (this sensor's names are written out in full, unit suffix included).
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
