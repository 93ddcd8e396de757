import Synchronization

/// Names given a small number the first time they are used, so that a value carrying one (an
/// `Anomaly`, a protocol's counter) is copied without reference counting and compared, hashed and
/// counted as an integer: a malformed packet's outcome travels through the packet path by the
/// million, and a String inside it made every copy of a decoded packet count references.
public final class NameTable: Sendable {
    private struct Names {
        var list: [String] = []
        var numbers: [String: Int] = [:]
    }
    private let names = Mutex(Names())

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
