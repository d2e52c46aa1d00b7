import Foundation

/// A buffered writer over a file descriptor, so millions of output lines cost few system calls.
public final class BufferedWriter {
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// `capacity` bytes plus room for one number, so a number is formatted straight into it.
    private let storage: UnsafeMutablePointer<UInt8>
    private var used = 0
    private let capacity: Int
    /// The most bytes `reserve` may ask for.
    static let slack = 64

    public init(fd: Int32, ownsDescriptor: Bool = false, capacity: Int = 1 << 20) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity + Self.slack)
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
        var s = s
        s.withUTF8 { write(bytes: $0) }
    }

    /// Appends bytes as they are.
    public func write(bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, capacity - used)
            (storage + used).update(from: rest.baseAddress!, count: n)
            used += n
            rest = UnsafeBufferPointer(rebasing: rest[n...])
            if used >= capacity { flush() }
        }
    }

    /// Appends one byte.
    public func write(byte: UInt8) {
        storage[used] = byte
        used += 1
        if used >= capacity { flush() }
    }

    /// Lets `body` write at most `count` (up to `slack`) bytes straight into the buffer; it returns how
    /// many it wrote.
    @inline(__always)
    func reserve(_ count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        precondition(count <= Self.slack)
        used += body(storage + used)
        if used >= capacity { flush() }
    }

    public func flush() {
        guard used > 0 else { return }
        _ = POSIXIO.writeAll(fd, UnsafeRawBufferPointer(start: storage, count: used))
        used = 0
    }

    deinit {
        flush()
        storage.deallocate()
        if ownsDescriptor { close(fd) }
    }
}
