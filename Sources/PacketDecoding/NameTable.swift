import Locking

/// Names given a small number the first time they are used, so that a value carrying one (an
/// `Anomaly`, a protocol's counter) is copied without reference counting and compared, hashed and
/// counted as an integer: a malformed packet's outcome travels through the packet path by the
/// million, and a String inside it made every copy of a decoded packet count references.
public final class NameTable: Sendable {
    private struct Names {
        var list: [String] = []
        var numbers: [String: Int] = [:]
    }
    private let names = Locked(Names())

    public init() {}

    /// The number of `name`, given now if it has none yet.
    public func number(of name: String) -> Int {
        names.withLock { n in
            if let i = n.numbers[name] { return i }
            n.list.append(name)
            n.numbers[name] = n.list.count - 1
            return n.list.count - 1
        }
    }

    /// The name numbered `number`.
    public func name(_ number: Int) -> String {
        names.withLock { number >= 0 && number < $0.list.count ? $0.list[number] : "" }
    }
}

/// Counts kept in one slot per number a `NameTable` gave (anomalies, protocol counters): counting
/// is indexing, and counting a number counted before does not allocate.
public struct NumberedCounts: Sendable, Equatable {
    @usableFromInline var slots: [Int] = []
    public init() {}

    public subscript(_ number: Int) -> Int {
        get { number < slots.count ? slots[number] : 0 }
        set {
            grow(to: number)
            slots[number] = newValue
        }
    }

    /// Counts `n` more of `number`.
    @inlinable
    public mutating func add(_ number: Int, _ n: Int = 1) {
        if number < slots.count { slots[number] += n } else { self[number] = n }
    }

    /// Adds another set of counts (another worker's).
    public mutating func merge(_ other: NumberedCounts) {
        grow(to: other.slots.count - 1)
        for i in other.slots.indices { slots[i] += other.slots[i] }
    }

    /// The numbers counted above zero, with their counts, in number order.
    public var nonZero: [(number: Int, count: Int)] {
        slots.indices.filter { slots[$0] > 0 }.map { ($0, slots[$0]) }
    }

    public var total: Int { slots.reduce(0, +) }

    /// Equal when every number has the same count (a slot never grown counts as zero).
    public static func == (a: NumberedCounts, b: NumberedCounts) -> Bool {
        (0..<max(a.slots.count, b.slots.count)).allSatisfy { a[$0] == b[$0] }
    }

    @usableFromInline mutating func grow(to number: Int) {
        if number >= slots.count { slots += Array(repeating: 0, count: number + 1 - slots.count) }
    }
}
