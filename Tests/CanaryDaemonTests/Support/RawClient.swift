import CanaryDaemon
import Foundation

/// A bare Unix-socket client for tests that must misbehave (binary garbage, stalls, huge lines).
final class RawClient {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard POSIXIO.unixSocketCall(fd, path, connect) == 0 else {
            close(fd)
            throw TestFailure("cannot connect to \(path): errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        guard POSIXIO.sendAll(fd, bytes) else { throw TestFailure("write failed: errno \(errno)") }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func halfClose() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the daemon closes the connection (or `timeout`).
    func readAll(timeout: Double = 30) -> String {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private var buffered: [UInt8] = []

    /// Reads one reply line (without its newline), or nil at end of stream or after `timeout`.
    func readLine(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = buffered.firstIndex(of: 10) {
                defer { buffered.removeSubrange(...nl) }
                return String(decoding: buffered[..<nl], as: UTF8.self)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var tv = timeval(tv_sec: Int(left), tv_usec: Int(left.truncatingRemainder(dividingBy: 1) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            buffered.append(contentsOf: chunk[0..<n])
        }
    }

    deinit { close(fd) }
}
