import CanaryCore
import Foundation

/// Holds a multi-stream export's entries on disk while the export is read, one file per local month,
/// then hands them to `ImportMerger` month by month in order: memory stays bounded by one month of the
/// export (and a few MB of write buffers) whatever its size and whatever order it holds its records in.
///
/// The spool holds health values: its directory is owner-only (0700, under `$TMPDIR` or /tmp) and
/// removed when the import ends, whether it succeeded or not.
final class ImportSpool {
    private let directory: String
    private var merger: ImportMerger
    private var pending: [Int: String] = [:]
    private var pendingBytes = 0
    private var buckets: Set<Int> = []
    private static let flushBytes = 4 << 20

    init(subject: String, zone: TimeZone) throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/canary-import.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ImportError("cannot make a spool directory under \(base): \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        merger = ImportMerger(subject: subject, zone: zone)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What the merge wrote.
    var counts: ImportMerger.Counts { merger.counts }

    func add(_ entry: ImportEntry) throws {
        let bucket = merger.bucket(of: entry)
        let line = entry.spoolLine + "\n"
        pending[bucket, default: ""] += line
        pendingBytes += line.utf8.count
        if pendingBytes >= Self.flushBytes { try flush() }
    }

    private func path(_ bucket: Int) -> String { "\(directory)/\(bucket).spool" }

    private func flush() throws {
        for (bucket, text) in pending {
            let fd = open(path(bucket), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ImportError("cannot write the spool \(path(bucket)): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
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
            guard ok else { throw ImportError("cannot write the spool \(path(bucket)): \(String(cString: strerror(errno)))") }
            buckets.insert(bucket)
        }
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// Merges every month in order into `out`, then removes the spool.
    func finish(to out: BufferedWriter) throws {
        try flush()
        for bucket in buckets.sorted() {
            let text: String
            do {
                text = try String(contentsOfFile: path(bucket), encoding: .utf8)
            } catch {
                throw ImportError("cannot read the spool \(path(bucket)): \(error.localizedDescription)")
            }
            try? FileManager.default.removeItem(atPath: path(bucket))
            var entries: [ImportEntry] = []
            for line in text.split(separator: "\n") {
                guard let e = ImportEntry(spoolLine: line) else { throw ImportError("the spool \(path(bucket)) holds a line it did not write") }
                entries.append(e)
            }
            merger.merge(entries, bucketEnd: merger.end(ofBucket: bucket)) { out.write($0 + "\n") }
        }
        merger.finish { out.write($0 + "\n") }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
