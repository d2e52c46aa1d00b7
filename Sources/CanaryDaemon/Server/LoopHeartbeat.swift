import Foundation
import NIOCore
import NIOPosix

/// Proves the event loops still run tasks: each second every loop is handed a tiny task that stamps
/// the time. The engine thread pings the watchdog only while every loop has stamped recently, so a
/// wedged event loop stops the pings as a wedged engine does.
final class LoopHeartbeat: @unchecked Sendable {
    private let lock = NSLock()
    private var beats: [ContinuousClock.Instant]
    private let loops: [any EventLoop]

    init(group: MultiThreadedEventLoopGroup) {
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        self.loops = loops
        beats = Array(repeating: .now, count: loops.count)
    }

    /// Hands every loop its stamping task.
    func poke() {
        for (i, loop) in loops.enumerated() {
            loop.execute { [self] in
                lock.lock()
                beats[i] = .now
                lock.unlock()
            }
        }
    }

    /// True when every loop ran its task within `limit`.
    func healthy(within limit: Duration) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        return beats.allSatisfy { now - $0 <= limit }
    }
}
