import Detection
import Foundation
import OS
import PacketDecoding
import Reporting
import SafeNumbers
import Store

/// What a live run opens after its capture handles: privileges dropped, then the outputs, the
/// store and the prober, as the (possibly unprivileged) user.
extension LiveSession {
    /// As root: hand what this run will write to the target user (every check first, so a refusal
    /// changes nothing), then become that user.
    func dropPrivileges() throws(LiveStartFailure) {
        let target = settings.user ?? "nobody"
        guard Privileges.isRoot, target != "root" else { return }
        do {
            var handOver = try HandOver(user: target)
            if let storePath = settings.store?.file {
                for suffix in ["", "-wal", "-shm"] { try handOver.file(storePath + suffix, what: "store") }
            }
            if let dir = settings.reportDirectory { try handOver.directory(dir, what: "report directory") }
            if let spool = settings.spool { try handOver.directory(spool.directory, what: "spool directory") }
            if let events = settings.events, !EventsFile.isStandardOutput(events.path) {
                try handOver.file(events.path, what: "events file")
            }
            try handOver.apply()
            try Privileges.drop(to: target)
        } catch {
            throw LiveStartFailure(error)
        }
    }

    /// Outputs and store, opened as the (possibly unprivileged) user.
    func openOutputs() throws(LiveStartFailure) -> (Outputs, Recorder?) {
        do {
            // The outputs, each when configured (one line each: docs/architecture.md "Adding an output").
            var list: [any SensorOutput] = []
            if let events = settings.events {
                let file = try EventsFile(path: events.path, maxBytes: events.maxBytes)
                list.append(EventsOutput(file: file, eve: events.eve))
            }
            if let syslog = settings.syslog { list.append(try SyslogSender(target: syslog)) }
            if let webhook = settings.webhook { list.append(try WebhookSender(url: webhook)) }
            let outputs = Outputs(list, identity: settings.identity)
            if let dir = settings.reportDirectory {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            guard let location = settings.store else { return (outputs, nil) }
            if !Privileges.isRoot, let storePath = location.file { try Self.prepareDirectory(for: storePath) }
            // A PostgreSQL server away at start does not stop the sensor: it spools until the server answers.
            let db = try EvidenceStore(location, identity: settings.identity, documents: .reportJSON, deferred: true)
            db.beginRun(
                source: "live: " + settings.interfaces.joined(separator: ","), version: settings.version, at: started)
            let spool = try settings.spool.map { try Spool(directory: $0.directory, maxBytes: $0.maxBytes) }
            if let spool, !spool.isEmpty {
                Diagnostics.log.notice(
                    "spool \(spool.directory): \(Format.count(spool.batches, "batch", plural: "batches")) from an earlier run wait for the database; delivered first"
                )
            }
            return (outputs, Recorder(store: db, spool: spool))
        } catch {
            throw LiveStartFailure(error)
        }
    }

    /// Creates the store's directory if needed (mode 0750).
    static func prepareDirectory(for path: String) throws(LiveStartFailure) {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw LiveStartFailure(
                message: "cannot create the store directory \(dir): \(error.localizedDescription)")
        }
    }

    /// `--probe`: the prober, knowing every sensor's recent answers from the store; its own answers
    /// go to the store on the writer thread. With a store and without `--probe`: one that never asks
    /// but judges with the answers the fleet's other sensors write (read again at each commit).
    func makeProber(recorder: Recorder?) -> LiveProber? {
        let asking = settings.probe.map { policy in
            var policy = policy
            policy.localNets = localNets
            return policy
        }
        guard asking != nil || recorder != nil else { return nil }
        let policy = asking ?? ProbePolicy()
        var known: [ProbeFact] = []
        if let store = recorder?.store {
            do { known = try store.probeFacts(since: WallTime.now().nanoseconds - Int64(policy.ttl * 1e9)) } catch {
                Diagnostics.log.warning(
                    "probe: the store's earlier answers could not be read (\(error)); servers are asked again")
            }
        }
        return LiveProber(
            policy: policy, asks: asking != nil, known: known,
            note: { Diagnostics.log.notice("\(TerminalSafe.escape($0))") },
            learned: { fact in
                recorder?.enqueue {
                    do { try recorder?.store.store(probes: [fact]) } catch { Diagnostics.log.error("probe: \(error)") }
                }
            })
    }
}
