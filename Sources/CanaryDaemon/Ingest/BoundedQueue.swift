import Foundation

/// A blocking, bounded first-in first-out queue between two threads: the producer waits when it is
/// full (backpressure), the consumer waits when it is empty, and `close` ends the stream.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func push(_ element: Element) {
        condition.lock()
        while items.count - head >= capacity { condition.wait() }
        items.append(element)
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next element, or nil once the queue is closed and drained.
    func pop() -> Element? {
        pop(until: .distantFuture).element
    }

    /// Pushes without waiting, whatever the fill: for producers that bound their own share
    /// (an event loop must never block).
    func pushUnbounded(_ element: Element) {
        condition.lock()
        items.append(element)
        condition.broadcast()
        condition.unlock()
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count - head
    }

    /// The next element, waiting at most until `deadline`; `closed` is true once the queue is closed and drained.
    func pop(until deadline: Date) -> (element: Element?, closed: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed {
            // NSCondition.wait(until: .distantFuture) traps on Linux: wait without a deadline instead.
            if deadline == .distantFuture {
                condition.wait()
            } else if !condition.wait(until: deadline) {
                return (nil, false)
            }
        }
        guard head < items.count else { return (nil, true) }
        let element = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return (element, false)
    }
}
