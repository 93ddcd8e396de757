import ArgumentParser
import Detection
import Foundation
import Locking
import OS
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Reporting
import SafeNumbers
import Sensor
import Store

extension Live {
    /// As root: hand what this run will write to the target user (every check first, so a refusal
    /// changes nothing), then become that user.
    func dropPrivileges(writing storePath: String?, spool spoolDir: String?) throws {
        guard Privileges.isRoot, (user ?? "nobody") != "root" else { return }
        let target = user ?? "nobody"
        do {
            var handOver = try HandOver(user: target)
            if let storePath {
                for suffix in ["", "-wal", "-shm"] { try handOver.file(storePath + suffix, what: "store") }
            }
            if let reportDir { try handOver.directory(reportDir, what: "report directory") }
            if let spoolDir { try handOver.directory(spoolDir, what: "spool directory") }
            if let events, !EventsFile.isStandardOutput(events) { try handOver.file(events, what: "events file") }
            try handOver.apply()
            try Privileges.drop(to: target)
        } catch {
            Diagnostics.log.error("\(error)")
            throw ExitCode(Exit.usageOrInputError)
        }
    }

    /// Outputs and store, opened as the (possibly unprivileged) user.
    func openOutputs(store location: StoreLocation?, spool spoolDir: String?, started: Timestamp) throws -> (
        Outputs, Recorder?
    ) {
        do {
            // The outputs, each when configured (one line each: docs/architecture.md "Adding an output").
            var list: [any SensorOutput] = []
            if let events {
                let file = try EventsFile(path: events, maxBytes: eventsMaxMb * 1024 * 1024)
                list.append(EventsOutput(file: file, eve: eventsFormat == .eve))
            }
            if let syslog { list.append(try SyslogSender(target: syslog)) }
            if let webhook { list.append(try WebhookSender(url: webhook)) }
            let outputs = Outputs(list, identity: identity.identity)
            if let reportDir {
                try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)
            }
            guard let location else { return (outputs, nil) }
            if !Privileges.isRoot, let storePath = location.file { try StorePaths.prepareDirectory(for: storePath) }
            // A PostgreSQL server away at start does not stop the sensor: it spools until the server answers.
            let db = try EvidenceStore(location, identity: identity.identity, documents: .reportJSON, deferred: true)
            db.beginRun(
                source: "live: " + interfaces.joined(separator: ","), version: StratumSniff.configuration.version,
                at: started)
            let spool = try spoolDir.map {
                try Spool(directory: $0, maxBytes: spoolMaxMb.multipliedSaturated(by: 1 << 20))
            }
            if let spool, !spool.isEmpty {
                Diagnostics.log.notice(
                    "spool \(spool.directory): \(Format.count(spool.batches, "batch", plural: "batches")) from an earlier run wait for the database; delivered first"
                )
            }
            return (outputs, Recorder(store: db, spool: spool))
        } catch {
            Diagnostics.log.error("\(error)")
            throw ExitCode(Exit.usageOrInputError)
        }
    }

    /// `--probe`: the prober, knowing every sensor's recent answers from the store; its own answers
    /// go to the store on the writer thread. With a store and without `--probe`: one that never asks
    /// but judges with the answers the fleet's other sensors write (read again at each commit).
    func makeProber(localNets: AddressSet?, recorder: Recorder?) -> LiveProber? {
        let asking = probing.policy(localNets: localNets)
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
