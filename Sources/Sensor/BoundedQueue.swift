import DequeModule
import Dispatch
import Foundation
import Locking
import Synchronization

/// A bounded FIFO handed from the capture thread to one sender thread. `push` never blocks:
/// when the queue is full the oldest item is dropped and counted, so a dead receiver can
/// never stall capture. The sender sleeps on a semaphore until there is work.
final class BoundedQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: Deque<Item> = []
        var dropped = 0
        var closed = false
    }
    private let state = Locked(State())
    /// Signalled once per push and at close; the consumer re-checks the state after every wake-up.
    private let wake = DispatchSemaphore(value: 0)
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var dropped: Int { state.withLock { $0.dropped } }

    /// - Complexity: O(1).
    func push(_ item: Item) {
        state.withLock { s in
            if s.items.count >= capacity {
                s.items.removeFirst()
                s.dropped += 1
            }
            s.items.append(item)
        }
        wake.signal()
    }

    /// Waits for an item; nil once closed and drained.
    func pop() -> Item? {
        while true {
            let (item, closed) = state.withLock { s in (s.items.popFirst(), s.closed) }
            if let item { return item }
            if closed { return nil }
            wake.wait()
        }
    }

    /// Puts an item back at the front (a send that failed and will be retried).
    func pushFront(_ item: Item) {
        state.withLock { s in
            s.items.prepend(item)
            if s.items.count > capacity {
                s.items.removeLast()
                s.dropped += 1
            }
        }
    }

    var count: Int { state.withLock { $0.items.count } }

    func close() {
        state.withLock { $0.closed = true }
        wake.signal()
    }

    /// Waits until the queue is empty or `timeout` seconds pass (used at shutdown).
    func drain(timeout: Double) {
        let deadline = DispatchTime.now() + timeout
        while count > 0 && DispatchTime.now() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }
}
