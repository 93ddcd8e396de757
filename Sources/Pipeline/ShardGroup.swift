import Detection
import Locking
import PacketDecoding
import PoolIntel

/// The shards one worker analyses, as one value the worker owns. A shard is a fixed part of the
/// input's address pairs with its own `PacketPath` and its own share of every cap
/// (`Limits.share(of:)`): how many shards there are does not depend on the number of workers, so what
/// a cap decides — which flow is evicted, which session retired, which host left out — is decided on
/// the same packets in the same order whether one worker holds all the shards or four hold a few each
/// (docs/architecture.md "Workers").
struct ShardGroup {
    /// The shard numbers this worker holds, ascending; `paths` in the same order.
    let shards: [Int]
    private var paths: [PacketPath]
    /// Shard number → index in `paths` (−1: another worker's).
    private let local: [Int]
    /// Where the caller's events go (in input order, at each `flush`), and what the shards raised since.
    private let onEvent: (@Sendable (AnalysisEvent) -> Void)?
    private let raised = EventList()
    /// Frames taken and not yet processed, in input order, with the index of their shard's path.
    private var ahead: [(path: Int, item: PacketPath.Ahead)] = []
    /// What the reader made of some of those frames (`DatagramNote`), by index in `ahead`.
    private var notes = DatagramNotes()

    /// `path`: a new shard's packet path, given where it raises its events (nil: nobody listens).
    init(
        shards: [Int], shardCount: Int, collectRetired: Bool, onEvent: (@Sendable (AnalysisEvent) -> Void)?,
        path: (_ shard: Int, _ raise: ((AnalysisEvent) -> Void)?) -> PacketPath
    ) {
        self.shards = shards
        self.onEvent = onEvent
        let raised = raised
        paths = shards.map { shard in
            let p = path(shard, onEvent == nil ? nil : { raised.events.append($0) })
            p.dispatcher.runState.verdicts.collectRetired = collectRetired
            return p
        }
        var local = Array(repeating: -1, count: shardCount)
        for (i, s) in shards.enumerated() { local[s] = i }
        self.local = local
    }

    /// A frame of shard `shard` (one of these), decoded by the reader; processed within the next
    /// `PacketPath.aheadLimit` frames or at `flush()`, so `frame` must stay valid until then. The
    /// frames of all the shards wait in one queue, in input order, with each one's flow fetched ahead
    /// as one path does (`PacketPath.flush`): with a queue per shard, a shard's fetches would be made
    /// hundreds of packets before their use, and be gone from the cache by then.
    @inline(__always)
    mutating func enqueue(
        shard: Int, at point: InputPoint, decoded: DecodeOutcome, frame: UnsafeRawBufferPointer,
        note: (any DatagramNote)?
    ) {
        let l = local[shard]
        let key = paths[l].key(decoded)
        notes.add(note, at: ahead.count)
        ahead.append((l, PacketPath.Ahead(point: point, second: false, frame: frame, decoded: decoded, key: key)))
        if ahead.count >= PacketPath.aheadLimit { processAhead() }
    }

    private mutating func processAhead() {
        let count = ahead.count
        guard count > 0 else { return }
        let distance = PacketPath.slotDistance
        // Through buffer pointers: one uniqueness check per run of frames, not several per frame.
        paths.withUnsafeMutableBufferPointer { paths in
            ahead.withUnsafeBufferPointer { ahead in
                for j in 0..<min(distance, count) {
                    if let k = ahead[j].item.key { paths[ahead[j].path].prefetchSlot(k) }
                }
                for i in 0..<count {
                    if i + distance < count, let k = ahead[i + distance].item.key {
                        paths[ahead[i + distance].path].prefetchSlot(k)
                    }
                    if let note = notes.take(at: i) {
                        paths[ahead[i].path].process(ahead[i].item, note: note)
                    } else {
                        paths[ahead[i].path].process(ahead[i].item)
                    }
                }
            }
        }
        ahead.removeAll(keepingCapacity: true)
        notes.removeAll()
    }

    /// A whole second of packet time (sample `number`), at the same place in every shard's stream.
    mutating func sample(_ number: Int, at clock: Timestamp, before seq: Int, peaks: PeakSamples) {
        processAhead()
        peaks.sample(number, &paths, at: clock, before: seq)
    }

    /// Processes every frame enqueued so far, then hands the events they raised on in input order.
    mutating func flush() {
        processAhead()
        release()
    }

    /// The end of input (sample `number`, the last clock): each shard's part into `results`.
    /// `before`: just past the input's last packet (`PacketPath.finishPart`).
    mutating func finish(
        sample number: Int, at clock: Timestamp, before end: Int, peaks: PeakSamples,
        results: Locked<[AnalysisPart?]>
    ) {
        processAhead()
        peaks.sample(number, &paths, at: clock, before: end)
        for i in paths.indices {
            let part = paths[i].finishPart(at: clock, before: end)
            let shard = shards[i]
            results.withLock { $0[shard] = part }
        }
        release()
    }

    /// Moves the sessions the shards retired from memory since the last call to `retired` (what a
    /// store gets); nothing when no store collects them.
    mutating func drainRetired(into retired: Locked<[SessionRecord]>?) {
        guard let retired else { return }
        var all: [SessionRecord] = []
        for i in paths.indices { all += paths[i].dispatcher.runState.verdicts.drainRetired() }
        if !all.isEmpty { retired.withLock { $0 += all } }
    }

    /// Each shard raises its events in its own order; the caller gets one stream ordered by the
    /// place in the input each came from (ties: shard order, then as raised).
    private func release() {
        guard let onEvent, !raised.events.isEmpty else { return }
        let ordered = raised.events.enumerated().sorted {
            ($0.element.seq, $0.offset) < ($1.element.seq, $1.offset)
        }
        raised.events.removeAll(keepingCapacity: true)
        for e in ordered { onEvent(e.element) }
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

/// Events raised by a worker's shards since its last flush (the worker's thread only).
final class EventList {
    var events: [AnalysisEvent] = []
}
