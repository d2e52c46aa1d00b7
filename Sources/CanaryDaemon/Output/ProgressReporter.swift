import Foundation

/// A one-line progress bar on a terminal, redrawn at most a few times a second.
public final class ProgressReporter {
    private let fd: Int32
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// Returns a reporter only when `fd` is a terminal; pipes and files get no progress noise.
    public static func forTerminal(fd: Int32 = 2) -> ProgressReporter? {
        isatty(fd) == 1 ? ProgressReporter(fd: fd) : nil
    }

    init(fd: Int32) {
        self.fd = fd
    }

    public func update(phase: String, done: Int, total: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 100_000_000, total > 0 else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%%", phase.padding(toLength: 10, withPad: " ", startingAt: 0), bar, fraction * 100)
        _ = line.withCString { write(fd, $0, strlen($0)) }
        drawn = true
    }

    public func finish() {
        guard drawn else { return }
        let clear = "\r" + String(repeating: " ", count: 60) + "\r"
        _ = clear.withCString { write(fd, $0, strlen($0)) }
        drawn = false
    }
}
