import CanaryCore
import Foundation

/// Holds a multi-stream export's entries on disk while the export is read, one file per local month,
/// then hands them to `ImportMerger` month by month in order: memory stays bounded by one month of the
/// export (and a few MB of write buffers) whatever its size and whatever order it holds its records in.
///
/// The spool holds health values, so its files have no name: each is created owner-only under
/// `$TMPDIR` (or /tmp) and unlinked at once, kept only by its open descriptor. Whatever ends the
/// import — success, an error, a signal, a crash — nothing of it stays on disk.
final class ImportSpool {
    private let base: String
    private var merger: ImportMerger
    private var pending: [Int: String] = [:]
    private var pendingBytes = 0
    /// The unnamed file of each local month.
    private var files: [Int: Int32] = [:]
    private static let flushBytes = 4 << 20

    init(subject: String, zone: TimeZone) {
        base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        merger = ImportMerger(subject: subject, zone: zone)
    }

    deinit {
        for fd in files.values { close(fd) }
    }

    /// What the merge wrote.
    var counts: ImportMerger.Counts { merger.counts }
    /// Steps inside the sleep sessions on either reading of the minute series' clock.
    var clockCheck: ImportMerger.ClockCheck { merger.clockCheck }

    /// +1 when the minute series are read as UTC, -1 when as local time (`ImportMerger.otherClock`).
    var otherClock: Double {
        get { merger.otherClock }
        set { merger.otherClock = newValue }
    }

    func add(_ entry: ImportEntry) throws {
        let bucket = merger.bucket(of: entry)
        let line = entry.spoolLine + "\n"
        pending[bucket, default: ""] += line
        pendingBytes += line.utf8.count
        if pendingBytes >= Self.flushBytes { try flush() }
    }

    /// A new file with no name, readable and writable by this process only.
    private func anonymousFile() throws -> Int32 {
        var template = Array("\(base)/canary-import.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ImportError("cannot make a spool file under \(base): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    private func flush() throws {
        for (bucket, text) in pending {
            let fd: Int32
            if let open = files[bucket] { fd = open } else {
                fd = try anonymousFile()
                files[bucket] = fd
            }
            var text = text
            let ok = text.withUTF8 { b -> Bool in
                var done = 0
                while done < b.count {
                    let n = Foundation.write(fd, b.baseAddress! + done, b.count - done)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    done += n
                }
                return true
            }
            guard ok else { throw ImportError("cannot write the spool under \(base): \(String(cString: strerror(errno)))") }
        }
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// Reads a spool file back from its start.
    private func contents(_ fd: Int32) throws -> [UInt8] {
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size >= 0, lseek(fd, 0, SEEK_SET) == 0 else { throw ImportError("cannot read the spool back: \(String(cString: strerror(errno)))") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ImportError("cannot read the spool back: \(String(cString: strerror(errno)))") }
            done += n
        }
        return bytes
    }

    /// Merges every month in order into `out`, closing each month's file once read.
    func finish(to out: BufferedWriter) throws {
        try flush()
        for bucket in files.keys.sorted() {
            let fd = files.removeValue(forKey: bucket)!
            defer { close(fd) }
            var entries: [ImportEntry] = []
            let bytes = try contents(fd)
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                guard let e = ImportEntry(spoolLine: line) else { throw ImportError("the spool holds a line it did not write") }
                entries.append(e)
            }
            merger.merge(entries, bucketEnd: merger.end(ofBucket: bucket)) { out.write($0 + "\n") }
        }
        merger.finish { out.write($0 + "\n") }
    }
}
