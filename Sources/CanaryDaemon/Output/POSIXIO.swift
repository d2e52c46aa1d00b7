import Foundation

/// The few raw POSIX operations the shell needs in more than one place: writing a whole buffer
/// to a descriptor, and Unix-socket addresses.
public enum POSIXIO {
    /// Writes all of `bytes`, retrying on EINTR and short writes. Returns false on any other error.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        all(bytes) { write(fd, $0, $1) }
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        Array(bytes).withUnsafeBytes { writeAll(fd, $0) }
    }

    /// `writeAll` for a socket, with MSG_NOSIGNAL: a peer that has gone away is an EPIPE error to
    /// handle, never a SIGPIPE that kills the process (the clients are a library, used in-process too).
    @discardableResult
    public static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        all(bytes) { send(fd, $0, $1, Int32(MSG_NOSIGNAL)) }
    }

    @discardableResult
    public static func sendAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        Array(bytes).withUnsafeBytes { sendAll(fd, $0) }
    }

    /// Calls `transfer(pointer, count)` until every byte is taken, retrying on EINTR.
    private static func all(_ bytes: UnsafeRawBufferPointer, _ transfer: (UnsafeRawPointer, Int) -> Int) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = transfer(bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// `sockaddr_un` for `path`; nil when the path does not fit.
    public static func unixAddress(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    /// `connect(2)` or `bind(2)` of `fd` to the Unix socket `path`; 0 on success, -1 with errno set.
    public static func unixSocketCall(_ fd: Int32, _ path: String,
                                      _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        guard var addr = unixAddress(path) else {
            errno = ENAMETOOLONG
            return -1
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
