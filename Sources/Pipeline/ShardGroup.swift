import Detection
import Locking
import PacketDecoding
import PoolIntel

/// The shards one worker analyses. A shard is a fixed part of the input's address pairs with its own
/// `PacketPipeline` and its own share of every cap (`Limits.share(of:)`): how many shards there are
/// does not depend on the number of workers, so what a cap decides — which flow is evicted, which
/// session retired, which host left out — is decided on the same packets in the same order whether
/// one worker holds all the shards or four hold a few each (docs/architecture.md "Workers").
final class ShardGroup {
    /// The shard numbers this worker holds, ascending, and their pipelines (same order).
    let shards: [Int]
    private let pipelines: [PacketPipeline]
    /// Shard number → index in `pipelines` (−1: another worker's).
    private let local: [Int]
    /// Per local shard, the positions in the batch being run of its items (reused between batches).
    private var buckets: [[Int32]]
    private let peaks: PeakSamples
    private let results: Locked<[AnalysisPart?]>
    private let retired: Locked<[SessionRecord]>?

    init(
        shards: [Int], shardCount: Int, peaks: PeakSamples, results: Locked<[AnalysisPart?]>,
        retired: Locked<[SessionRecord]>?, pipeline: () -> PacketPipeline
    ) {
        self.shards = shards
        self.peaks = peaks
        self.results = results
        self.retired = retired
        pipelines = shards.map { _ in
            let p = pipeline()
            p.collectRetiredSessions = retired != nil
            return p
        }
        var local = Array(repeating: -1, count: shardCount)
        for (i, s) in shards.enumerated() { local[s] = i }
        self.local = local
        buckets = shards.map { _ in
            var b: [Int32] = []
            b.reserveCapacity(ParallelAnalysis.batchFrames)
            return b
        }
    }

    /// Analyses one batch from the reader: each shard's packets in input order, every tick (and the
    /// end) at its place among them. Shards are run one after the other: they share nothing a packet
    /// changes, and what one teaches another (`NameMemory`) is seen only from a point further on than
    /// any batch spans (the reader sends a batch before its first packet is that far behind).
    /// Returns whether the batch ended the input (every shard's part is then in `results`).
    @discardableResult
    func run(_ batch: Batch) -> Bool {
        var end: Item?
        for (i, item) in batch.items.enumerated() {
            switch item.kind {
            case .packet:
                buckets[local[Int(item.shard)]].append(Int32(i))
            case .tick:
                for b in buckets.indices { buckets[b].append(Int32(i)) }
            case .end:
                end = item
            }
        }
        batch.bytes.withUnsafeBytes { bytes in
            for (l, pipeline) in pipelines.enumerated() where !buckets[l].isEmpty {
                pipeline.withPath { path in
                    for i in buckets[l] {
                        let item = batch.items[Int(i)]
                        if item.kind == .tick {
                            peaks.sample(item.seq, &path, at: item.clock)
                            continue
                        }
                        let frame =
                            item.address != 0
                            ? UnsafeRawBufferPointer(
                                start: UnsafeRawPointer(bitPattern: item.address), count: item.length)
                            : UnsafeRawBufferPointer(rebasing: bytes[item.offset..<item.offset + item.length])
                        path.enqueue(
                            at: InputPoint(seq: item.seq, clock: item.clock), linkType: item.linkType, frame: frame)
                    }
                    path.flush()  // before the batch's bytes are recycled
                }
                buckets[l].removeAll(keepingCapacity: true)
            }
        }
        if let end {
            for (l, pipeline) in pipelines.enumerated() {
                peaks.sample(end.seq, pipeline, at: end.clock)
                let part = pipeline.finishPart(at: end.clock)
                let shard = shards[l]
                results.withLock { $0[shard] = part }
            }
        }
        if let retired {
            let sessions = pipelines.flatMap { $0.drainRetiredSessions() }
            if !sessions.isEmpty { retired.withLock { $0 += sessions } }
        }
        return end != nil
    }

    /// Shard numbers for each of `workers` workers, for `shardCount` shards. The reader (worker 0)
    /// also reads, decodes and copies for everyone, so it holds about a quarter of what another
    /// worker holds (weights 1 : 4 : 4 …, which balanced the two threads of a 2-core run best); every
    /// worker holds at least one shard (callers use at most `shardCount` workers).
    static func split(shardCount: Int, workers: Int) -> [[Int]] {
        let n = max(1, min(workers, shardCount))
        guard n > 1 else { return [Array(0..<shardCount)] }
        let own = max(1, (shardCount + (4 * n - 3) / 2) / (4 * n - 3))
        var groups: [[Int]] = [Array(0..<own)]
        let rest = shardCount - own
        var next = own
        for w in 1..<n {
            let count = rest / (n - 1) + (w - 1 < rest % (n - 1) ? 1 : 0)
            groups.append(Array(next..<next + count))
            next += count
        }
        return groups
    }
}
