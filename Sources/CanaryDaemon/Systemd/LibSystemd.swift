import CSystemd
import Foundation

/// The real `SystemdAPI`, over libsystemd. The only file that calls `sd_*` functions.
public struct LibSystemd: SystemdAPI {
    public init() {}

    public func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    public func listenFDs() -> [ListenedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(1, &names)
        guard n > 0 else { return [] }
        defer {
            if let names {
                for i in 0..<Int(n) { free(names[i]) }
                free(names)
            }
        }
        return (0..<n).map { i in
            ListenedSocket(fd: SD_LISTEN_FDS_START + i, name: names?[Int(i)].map { String(cString: $0) } ?? "unknown")
        }
    }

    public func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    public func journalSend(_ fields: [(String, String)]) -> Int32 {
        // All "NAME=value" items in one buffer; values may hold newlines (the native protocol allows it).
        var buffer: [UInt8] = []
        var ranges: [(offset: Int, length: Int)] = []
        for (name, value) in fields {
            let start = buffer.count
            buffer.append(contentsOf: name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: value.utf8)
            ranges.append((start, buffer.count - start))
        }
        guard !ranges.isEmpty else { return -Int32(EINVAL) }
        return buffer.withUnsafeMutableBytes { raw in
            var iovecs = ranges.map { iovec(iov_base: raw.baseAddress! + $0.offset, iov_len: $0.length) }
            return sd_journal_sendv(&iovecs, Int32(iovecs.count))
        }
    }

    public func journalSocketPresent() -> Bool {
        access("/run/systemd/journal/socket", W_OK) == 0
    }
}
