import CanaryCore
import Foundation

/// Reads one input file through the same line splitter and `IngestStream` the socket uses,
/// handing each accepted record and each rejected row to the caller.
public struct FileIngest {
    /// Counts of one input, per format.
    public struct Counts: Sendable, Equatable {
        public var accepted: [InputFormat: Int] = [:]
        public var rejected: [InputFormat: Int] = [:]
        /// Rows rejected before any format was known (a refused header, an over-long first line).
        public var rejectedUnknown = 0

        public init() {}

        public var totalAccepted: Int { accepted.values.reduce(0, +) }
        public var totalRejected: Int { rejected.values.reduce(0, +) + rejectedUnknown }

        public mutating func add(_ other: Counts) {
            for (k, v) in other.accepted { accepted[k, default: 0] += v }
            for (k, v) in other.rejected { rejected[k, default: 0] += v }
            rejectedUnknown += other.rejectedUnknown
        }
    }

    public let path: String
    public var format: InputFormat?
    public var subject: String?
    public var maxLineBytes: Int

    public init(path: String, format: InputFormat? = nil, subject: String? = nil, maxLineBytes: Int = 64 * 1024) {
        self.path = path
        self.format = format
        self.subject = subject
        self.maxLineBytes = maxLineBytes
    }

    /// Reads the whole file. `progress` gets bytes read so far.
    /// `maxPastBehindLatest`: rows this much older than their subject's latest row in the file are refused
    /// (`too-old`); `limits`: values outside these ranges are refused (`out-of-range`).
    public func read(zones: ZoneBook, latestAccepted: Double, maxPastBehindLatest: Double = .infinity,
                     limits: ValueLimits = ValueLimits(),
                     onRecord: (Record) -> Void,
                     onError: (RowError) -> Void,
                     onZone: (String, TimeZone) -> Void = { _, _ in },
                     progress: (Int) -> Void = { _ in }) throws -> Counts {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ReplayError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var stream = IngestStream(format: format, subject: subject, zones: zones, latestAccepted: latestAccepted,
                                  maxPastBehindLatest: maxPastBehindLatest, limits: limits)
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        var counts = Counts()
        var total = 0
        var accepted = 0  // one stream has one format: counted once at the end, not per row in a dictionary
        let chunkSize = 1 << 20
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        defer { buffer.deallocate() }

        func handle(_ piece: LineSplitter.Piece) {
            switch piece {
            case .tooLong(let number, let bytes):
                let e = RowError.lineTooLong(line: number, bytes: bytes, limit: maxLineBytes)
                if let f = stream.parser?.layout.format { counts.rejected[f, default: 0] += 1 } else { counts.rejectedUnknown += 1 }
                onError(e)
            case .line(let bytes, let number):
                switch stream.feed(bytes, number: number) {
                case .record(let r):
                    accepted &+= 1
                    onRecord(r)
                case .rejected(let e):
                    if let f = stream.parser?.layout.format { counts.rejected[f, default: 0] += 1 } else { counts.rejectedUnknown += 1 }
                    onError(e)
                case .control:
                    // `#canary subject=ID tz=Zone`: that subject's days are on that zone, as in the daemon.
                    // replay reads files the operator already holds: every directive applies.
                    if let d = stream.takeZoneDirective() {
                        stream.assignZone(d.zone, to: d.subject)
                        onZone(d.subject, d.zone)
                    }
                case .refused(let h):
                    counts.rejectedUnknown += 1
                    if counts.rejectedUnknown == 1 {
                        onError(RowError(line: number, field: nil, kind: .badIdentifier, reason: h.reason))
                    }
                }
            }
        }
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw ReplayError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            total += n
            splitter.feed(UnsafeBufferPointer(rebasing: buffer[0..<n]), handle)
            progress(total)
        }
        splitter.finish(handle)
        if accepted > 0, let format = stream.parser?.layout.format { counts.accepted[format, default: 0] += accepted }
        return counts
    }
}

/// A replay that cannot go on (a file that cannot be read, an output that cannot be written).
public struct ReplayError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
