import CanaryDaemon
import Foundation

/// A test-owned `NOTIFY_SOCKET`: a datagram socket that records every sd_notify message, in order.
final class NotifyListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []

    init(directory: String) throws {
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard POSIXIO.unixSocketCall(fd, path, bind) == 0 else { throw TestFailure("cannot bind \(path): errno \(errno)") }
        let thread = Thread { [self] in receive() }
        thread.start()
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            let message = String(decoding: buffer[0..<n], as: UTF8.self)
            lock.lock()
            received.append(message)
            lock.unlock()
        }
    }

    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Waits until a message satisfies `match`; returns it.
    @discardableResult
    func wait(timeout: Double = 20, for description: String, _ match: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = messages.first(where: match) { return m }
            usleep(20_000)
        }
        throw TestFailure("no sd_notify message \(description) within \(timeout) s; got: \(messages)")
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
