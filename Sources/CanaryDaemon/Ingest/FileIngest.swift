import CanaryCore
import Foundation

/// Reads one input file through the same line splitter and `IngestStream` the socket uses,
/// handing each accepted record and each rejected row to the caller (`FileReader` does the reading).
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
        var reader = try FileReader(path: path, format: format, subject: subject, maxLineBytes: maxLineBytes, zones: zones,
                                    latestAccepted: latestAccepted, maxPastBehindLatest: maxPastBehindLatest, limits: limits)
        while try reader.step(onRecord: onRecord, onRejected: onError, onZone: onZone) { progress(reader.bytesRead) }
        return reader.counts
    }
}

/// A replay that cannot go on (a file that cannot be read, an output that cannot be written).
public struct ReplayError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
