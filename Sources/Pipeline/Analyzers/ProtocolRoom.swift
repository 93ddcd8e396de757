import PacketDecoding
import PoolIntel
import StreamReassembly

// What a protocol module declares besides its analyzer — the counters it keeps for the run's
// summary, its caps, and (in `extension Anomaly`) the anomalies it records — so that a protocol
// lives in one file and is registered by one line in `AnalyzerTable` (docs/architecture.md
// "Adding an analyzer").

/// A count a protocol keeps for the run's summary, under its name there (`dns_messages`). Declared
/// by the protocol's module and listed by its analyzer (`counters`), so the summary shows it at zero too.
public struct ProtocolCounter: Hashable, Sendable {
    /// The name's number (`NameTable`): counting is indexing.
    let number: Int
    public init(_ name: String) { number = Self.names.number(of: name) }
    public var name: String { Self.names.name(number) }
    static let names = NameTable()
}

/// A run's protocol counters, one slot per counter's number (`NumberedCounts`).
public struct ProtocolCounts: Sendable, Equatable {
    private var counts = NumberedCounts()
    public init() {}

    public subscript(_ counter: ProtocolCounter) -> Int { counts[counter.number] }

    /// Counts one more (or `n` more) of `counter`.
    @inline(__always)
    public mutating func add(_ counter: ProtocolCounter, _ n: Int = 1) { counts.add(counter.number, n) }

    /// Adds another worker's counts.
    public mutating func merge(_ other: ProtocolCounts) { counts.merge(other.counts) }

    /// Every registered protocol's counters by name, zeros included, and any other that was counted.
    public var byName: [String: Int] {
        var out = Dictionary(uniqueKeysWithValues: AnalyzerTable.counters.map { ($0.name, 0) })
        for (number, count) in counts.nonZero { out[ProtocolCounter.names.name(number), default: 0] += count }
        return out
    }
}

/// A protocol's caps: its own type with its defaults, kept in `Limits.protocols` and found by type,
/// so that adding a cap touches only the protocol's file. Per-flow caps only: budgets shared by
/// every flow are divided by `Limits.share` and live in `Limits` itself.
public protocol ProtocolCaps: Sendable {
    init()
}

/// Every protocol's caps, by type; a type never set has its defaults.
public struct ProtocolCapsTable: Sendable {
    /// Each set value in a box of its own type, stored under that type's identifier: the box found
    /// under `ObjectIdentifier(C.self)` is always a `Box<C>`, so it is read back without a dynamic cast
    /// (a DNS message reads its caps per packet). Boxes are never changed, only replaced: tables
    /// copied from one another share them safely.
    private var boxes: [ObjectIdentifier: AnyObject & Sendable] = [:]
    private final class Box<Caps: ProtocolCaps>: Sendable {
        let value: Caps
        init(_ value: Caps) { self.value = value }
    }
    public init() {}

    public subscript<Caps: ProtocolCaps>(_ type: Caps.Type) -> Caps {
        get {
            guard let box = boxes[ObjectIdentifier(type)] else { return Caps() }
            return unsafeDowncast(box, to: Box<Caps>.self).value
        }
        set { boxes[ObjectIdentifier(type)] = Box(newValue) }
    }
}

/// A UDP protocol: each datagram judged on its own (no stream). The table offers every UDP datagram
/// to these in order; the first that claims it takes it.
protocol DatagramAnalyzer: SendableMetatype {
    /// Whether datagrams between these ports are this protocol's. Cheap: every datagram asks (the
    /// reader asks too, before a flow exists); what the payload says is `datagram`'s to judge.
    static func claims(sourcePort: UInt16, destinationPort: UInt16) -> Bool

    /// One datagram, and what the reader did with it (`ReaderPass`). Returns whether the flow's later
    /// datagrams still come here; false bypasses the flow.
    static func datagram(
        _ bytes: UnsafeRawBufferPointer, from source: Endpoint, to destination: Endpoint, flow: FlowContext,
        reader: ReaderPass
    ) -> Bool

    /// What a whole datagram teaches every worker before it is handed on (a DNS answer's names).
    /// What it returns travels with the datagram to `datagram` (`ReaderPass.seen`), so that what the
    /// reader parsed is not parsed again. Default: nothing.
    static func learnAtOnce(_ bytes: UnsafeRawBufferPointer, _ reader: DatagramReader) -> (any DatagramNote)?

    /// Whether it implements `learnAtOnce` (the reader offers datagrams only to those that do).
    static var learnsAtOnce: Bool { get }

    /// Counts in the run's summary (`ProtocolCounter`).
    static var counters: [ProtocolCounter] { get }
}

extension DatagramAnalyzer {
    static func learnAtOnce(_ bytes: UnsafeRawBufferPointer, _ reader: DatagramReader) -> (any DatagramNote)? { nil }
    static var learnsAtOnce: Bool { false }
    static var counters: [ProtocolCounter] { [] }
}

/// What the reader made of a whole datagram (`DatagramAnalyzer.learnAtOnce`: a DNS message parsed),
/// handed on with it to the worker whose analyzer takes it. Immutable once made: it crosses threads.
protocol DatagramNote: AnyObject, Sendable {}

/// Notes beside a list of frames, by the frame's index: kept apart so that the frames' own values
/// hold no reference and copy as plain bytes (most frames have none). Taken in index order.
struct DatagramNotes {
    private var notes: [(index: Int, note: any DatagramNote)] = []
    private var taken = 0

    /// `note` (if any) for the frame at `index`, added after every earlier index's.
    mutating func add(_ note: (any DatagramNote)?, at index: Int) {
        if let note { notes.append((index, note)) }
    }

    /// The note of the frame at `index`, asked for in increasing index order.
    mutating func take(at index: Int) -> (any DatagramNote)? {
        guard taken < notes.count, notes[taken].index == index else { return nil }
        taken += 1
        return notes[taken - 1].note
    }

    /// Empty again, its storage kept.
    mutating func removeAll() {
        notes.removeAll(keepingCapacity: true)
        taken = 0
    }
}

/// What the reader did with the datagram an analyzer is given.
enum ReaderPass {
    /// The reader never saw it whole: it was put together from IP fragments in the worker, so what the
    /// reader learns from whole datagrams is the analyzer's to learn.
    case reassembled
    /// The reader saw it whole and learned from it what it could; `note` is what the claiming
    /// analyzer's `learnAtOnce` made of it (nil: nothing, or it was not asked).
    case seen(note: (any DatagramNote)?)
}

/// What the reader offers a whole datagram before handing it on (`DatagramAnalyzer.learnAtOnce`).
struct DatagramReader {
    let source: Endpoint
    let destination: Endpoint
    let intel: PoolIntelligence
    let limits: Limits
    let names: NameMemory
    /// The datagram's place in the input.
    let point: InputPoint
    /// The worker the datagram goes to is behind: parse it here even if it teaches nothing (a DNS
    /// query, an answer for an unlisted name), so that its note spares that worker the work
    /// (`Dealer.Spare`). What is found is the same.
    var spareWorker = false
}
