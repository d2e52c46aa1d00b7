import CanaryCore
import Foundation

/// One input file read a chunk at a time through the line splitter and the decoder (`IngestDecoder`)
/// the socket and standard input use — without their consent filter: replay reads files the operator
/// already holds — for callers that pull: `FileIngest.read` drains one in a loop, a replay that merges many
/// files by time keeps one per file and reads each only as far as the merge has come. Records are
/// handed over as they are, not wrapped, and the per-row state is a value the reader mutates in
/// place (no class, so no run-time exclusivity check per row). One reader per file: a copy would
/// share the descriptor.
struct FileReader {
    let path: String
    let maxLineBytes: Int
    /// Bytes read so far.
    private(set) var bytesRead = 0
    /// Whether the file has been read to its end (or to `byteLimit`) and its last line handed over.
    private(set) var atEnd = false
    /// Counts so far, complete once `atEnd`.
    private(set) var counts = FileIngest.Counts()
    /// Reads stop here: a second reading of a file sees the bytes the first one saw, even if the
    /// file has grown since.
    private let byteLimit: Int
    /// A merge of thousands of files would run out of descriptors: such readers close theirs after
    /// each chunk and open it again (at the same offset) for the next.
    private let keepsOpen: Bool
    private let file: OpenFile
    private var decoder: IngestDecoder
    private var splitter: LineSplitter
    // One stream has one format: accepted rows are counted once at the end, not per row in a dictionary.
    private var accepted = 0

    /// Opens `path` (throwing `ReplayError` when it cannot). `chunkBytes` is what one `step` reads.
    init(path: String, format: InputFormat? = nil, subject: String? = nil, maxLineBytes: Int = 64 * 1024,
         zones: ZoneBook, latestAccepted: Double, maxPastBehindLatest: Double = .infinity, limits: ValueLimits = ValueLimits(),
         chunkBytes: Int = 1 << 20, byteLimit: Int = .max, keepsOpen: Bool = true) throws {
        file = try OpenFile(path: path, bufferBytes: chunkBytes)
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.byteLimit = byteLimit
        self.keepsOpen = keepsOpen
        decoder = IngestDecoder(stream: IngestStream(format: format, subject: subject, zones: zones, latestAccepted: latestAccepted,
                                                     maxPastBehindLatest: maxPastBehindLatest, limits: limits),
                                maxLineBytes: maxLineBytes, maxSubjects: .max, admit: nil)
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        if !keepsOpen { file.close() }
    }

    /// Whether `path` is a regular file, so it can be read a second time (a pipe cannot).
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Reads the next chunk and hands what its lines hold over in file order: each accepted record to
    /// `onRecord`, each rejected row to `onRejected`, each `#canary subject=ID tz=Zone` directive to
    /// `onZone`. Returns false once the file has ended; that call hands over a last line without a newline.
    mutating func step(onRecord: (Record) -> Void, onRejected: (RowError) -> Void,
                       onZone: (String, TimeZone) -> Void = { _, _ in }) throws -> Bool {
        guard !atEnd else { return false }
        let n = try file.read(at: bytesRead, upTo: byteLimit - bytesRead)
        if !keepsOpen { file.close() }
        // The splitter is set aside while it calls back into `handle`, which mutates the rest of self.
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        swap(&splitter, &self.splitter)
        defer { swap(&splitter, &self.splitter) }
        if n == 0 {
            splitter.finish { handle($0, onRecord, onRejected, onZone) }
            if accepted > 0, let format = decoder.format { counts.accepted[format, default: 0] += accepted }
            accepted = 0
            atEnd = true
            file.close()
            return false
        }
        bytesRead += n
        splitter.feed(UnsafeBufferPointer(rebasing: file.buffer[0..<n])) { handle($0, onRecord, onRejected, onZone) }
        return true
    }

    /// One split line through the decoder: rows counted by format, a refused header reported once, every
    /// `#canary subject=ID tz=Zone` directive applied (as in the daemon: that subject's days are on that zone).
    private mutating func handle(_ piece: LineSplitter.Piece, _ onRecord: (Record) -> Void, _ onRejected: (RowError) -> Void,
                                 _ onZone: (String, TimeZone) -> Void) {
        let before = decoder.format
        let n = Self.decode(piece, &decoder, onRecord, onRejected, onZone)
        // A directive starting a new section ends the rows of the format before it (a directive line
        // holds no row): they are counted under it.
        if let before, decoder.format != before, accepted > 0 {
            counts.accepted[before, default: 0] += accepted
            accepted = 0
        }
        accepted &+= n.accepted
        // One piece is one line, and only a header or directive line sets the format (neither is rejected
        // with it): the format after the line is the format of a rejected one.
        if n.rejected > 0 {
            if let format = decoder.format { counts.rejected[format, default: 0] += n.rejected } else { counts.rejectedUnknown += n.rejected }
        }
        counts.rejectedUnknown += n.refused
    }

    /// The decoder's callbacks count into locals (the decoder is being changed while it calls back).
    @inline(never)
    private static func decode(_ piece: LineSplitter.Piece, _ decoder: inout IngestDecoder, _ onRecord: (Record) -> Void,
                               _ onRejected: (RowError) -> Void, _ onZone: (String, TimeZone) -> Void)
        -> (accepted: Int, rejected: Int, refused: Int) {
        var accepted = 0, rejected = 0, refused = 0
        decoder.handle(piece,
                       record: { r, _ in
                           accepted &+= 1
                           onRecord(r)
                       },
                       rejected: { e in
                           rejected += 1
                           onRejected(e)
                       },
                       refused: { line, reason, first in
                           refused += 1
                           if first { onRejected(RowError(line: line, field: nil, kind: .badIdentifier, reason: reason)) }
                       },
                       zone: onZone)
        return (accepted, rejected, refused)
    }

    /// A reader's descriptor and read buffer, released with the last reader that holds them.
    private final class OpenFile {
        let path: String
        let buffer: UnsafeMutableBufferPointer<UInt8>
        private var descriptor: Int32

        init(path: String, bufferBytes: Int) throws {
            // Opened before anything is set: an initialiser that throws once every property is set runs deinit.
            descriptor = try Self.open(path)
            self.path = path
            buffer = .allocate(capacity: max(1, bufferBytes))
        }

        deinit {
            close()
            buffer.deallocate()
        }

        /// Reads up to one buffer (and at most `limit` bytes) at `offset`, opening the file again if it was closed.
        func read(at offset: Int, upTo limit: Int) throws -> Int {
            if descriptor < 0 {
                descriptor = try Self.open(path)
                if lseek(descriptor, off_t(offset), SEEK_SET) < 0 { throw failure("cannot seek in") }
            }
            let wanted = min(buffer.count, limit)
            guard wanted > 0 else { return 0 }
            var n = 0
            repeat { n = Foundation.read(descriptor, buffer.baseAddress, wanted) } while n < 0 && errno == EINTR
            if n < 0 { throw failure("cannot read") }
            return n
        }

        func close() {
            if descriptor >= 0 { Foundation.close(descriptor) }
            descriptor = -1
        }

        private func failure(_ what: String) -> ReplayError {
            ReplayError("\(what) \(path): \(String(cString: strerror(errno)))")
        }

        private static func open(_ path: String) throws -> Int32 {
            let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ReplayError("cannot open \(path): \(String(cString: strerror(errno)))") }
            return fd
        }
    }
}
