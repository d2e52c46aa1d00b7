import Foundation

/// The bundled ingest client (`canaryctl send`): one connection per input, the input streamed as
/// is, a half-close, then the daemon's replies (`ERR ...` lines and the final `OK ...`).
public struct IngestClient {
    /// What the daemon answered for one input.
    public struct Outcome: Sendable, Equatable {
        public var accepted = 0
        public var rejected = 0
        /// Rows for days the daemon had already evaluated (accepted, not evaluated).
        public var late = 0
        /// Raw samples already observed (resent), counted once.
        public var duplicate = 0
        public var errors: [String] = []
        /// `NOTICE <line> ...` lines (e.g. the first late row), which reject nothing.
        public var notices: [String] = []
        /// False when the connection ended without the final `OK` line.
        public var completed = false
        /// The last `PROGRESS` the daemon sent: lines up to here are committed, even without the final `OK`.
        public var committedLine = 0
    }

    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Sends `prefix` (e.g. a `#canary` directive) and then the file at `path` (or standard input for "-").
    public func send(path: String, prefix: String? = nil, onError: @escaping @Sendable (String) -> Void = { _ in }) throws -> Outcome {
        let input: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DaemonError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { if input != 0 { close(input) } }
        let fd = try Self.connect(socketPath)
        defer { close(fd) }

        // Replies are read on their own thread, so a daemon answering many ERR lines never blocks our writes.
        let collector = ReplyCollector(fd: fd, onError: onError)
        let reader = Thread { collector.run() }
        reader.start()

        if let prefix { try Self.writeAll(fd, Array((prefix + "\n").utf8)[...]) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw DaemonError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            try Self.writeAll(fd, buffer[0..<n])
        }
        shutdown(fd, Int32(SHUT_WR))
        return collector.wait()
    }

    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("cannot create a socket: \(String(cString: strerror(errno)))") }
        guard POSIXIO.unixSocketCall(fd, path, Foundation.connect) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw DaemonError("cannot connect to \(path): \(reason); is canaryd running (systemctl status canaryd.socket)?")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws {
        guard bytes.withUnsafeBytes({ POSIXIO.sendAll(fd, $0) }) else {
            throw DaemonError("the daemon closed the connection: \(String(cString: strerror(errno)))")
        }
    }
}

/// Reads reply lines until the daemon closes the connection.
private final class ReplyCollector: @unchecked Sendable {
    private let fd: Int32
    private let onError: @Sendable (String) -> Void
    private var outcome = IngestClient.Outcome()
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32, onError: @escaping @Sendable (String) -> Void) {
        self.fd = fd
        self.onError = onError
    }

    func run() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: 10) {
                handle(String(decoding: pending[..<nl], as: UTF8.self))
                pending.removeSubrange(...nl)
            }
        }
        if !pending.isEmpty { handle(String(decoding: pending, as: UTF8.self)) }
        done.signal()
    }

    private func handle(_ line: String) {
        if line.hasPrefix("OK ") {
            outcome.completed = true
            for part in line.split(separator: " ").dropFirst() {
                let kv = part.split(separator: "=")
                guard kv.count == 2, let v = Int(kv[1]) else { continue }
                if kv[0] == "accepted" { outcome.accepted = v }
                if kv[0] == "rejected" { outcome.rejected = v }
                if kv[0] == "late" { outcome.late = v }
                if kv[0] == "duplicate" { outcome.duplicate = v }
            }
        } else if line.hasPrefix("PROGRESS ") {
            for part in line.split(separator: " ").dropFirst() {
                let kv = part.split(separator: "=")
                if kv.count == 2, kv[0] == "line", let v = Int(kv[1]) { outcome.committedLine = v }
            }
        } else if line.hasPrefix("ERR ") {
            outcome.errors.append(line)
            onError(line)
        } else if line.hasPrefix("NOTICE ") {
            // Rows accepted but not evaluated (late): said, not counted as rejected.
            outcome.notices.append(line)
            onError(line)
        }
    }

    func wait() -> IngestClient.Outcome {
        done.wait()
        return outcome
    }
}
