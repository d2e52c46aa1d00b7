import Foundation

/// A buffered writer over a file descriptor, so millions of output lines cost few system calls.
public final class BufferedWriter {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let capacity: Int

    public init(fd: Int32, ownsDescriptor: Bool = false, capacity: Int = 1 << 20) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    /// Creates (or truncates) `path` for writing, owner-only: what is written holds health values. An
    /// existing regular file is made owner-only too (not a device or pipe such as /dev/stdout).
    public convenience init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write \(path): \(String(cString: strerror(errno)))"])
        }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && (st.st_mode & 0o077) != 0 && fchmod(fd, 0o600) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot make \(path) owner-only: \(reason)"])
        }
        self.init(fd: fd, ownsDescriptor: true)
    }

    public func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= capacity { flush() }
    }

    public func flush() {
        buffer.withUnsafeBytes { _ = POSIXIO.writeAll(fd, $0) }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit {
        flush()
        if ownsDescriptor { close(fd) }
    }
}
