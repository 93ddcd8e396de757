import Foundation

/// A bounded FIFO handed from the capture thread to one sender thread. `push` never blocks:
/// when the queue is full the oldest item is dropped and counted, so a dead receiver can
/// never stall capture. The sender sleeps on the condition until there is work.
final class BoundedQueue<Item>: @unchecked Sendable {
    private var items: [Item] = []
    private var head = 0
    private let condition = NSCondition()
    let capacity: Int
    private(set) var dropped = 0
    private var closed = false

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// - Complexity: O(1) amortised.
    func push(_ item: Item) {
        condition.lock()
        if items.count - head >= capacity { head += 1; dropped += 1 }
        items.append(item)
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.signal()
        condition.unlock()
    }

    /// Waits for an item; nil once closed and drained.
    func pop() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head >= items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        return item
    }

    /// Puts an item back at the front (a send that failed and will be retried).
    func pushFront(_ item: Item) {
        condition.lock()
        if head > 0 { head -= 1; items[head] = item } else { items.insert(item, at: 0) }
        if items.count - head > capacity { items.removeLast(); dropped += 1 }
        condition.unlock()
    }

    var count: Int { condition.lock(); defer { condition.unlock() }; return items.count - head }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the queue is empty or `timeout` seconds pass (used at shutdown).
    func drain(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while count > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }
}
