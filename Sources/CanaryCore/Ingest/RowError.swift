/// Why one input row was rejected: the line, the field and a reason a person can act on.
///
/// A rejected row never stops the rows after it; callers collect these and report them.
public struct RowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in a form tests and the wire protocol can match on.
    public enum Kind: String, Sendable {
        case wrongColumnCount = "wrong-column-count"
        case emptyField = "empty-field"
        case notANumber = "not-a-number"
        case notFinite = "not-finite"
        case outOfRange = "out-of-range"
        case badTimestamp = "bad-timestamp"
        case endBeforeStart = "end-before-start"
        case tooFarInFuture = "future-timestamp"
        case tooOld = "too-old"
        case unknownKeyClass = "unknown-key-class"
        case keyContent = "key-content"
        case lineTooLong = "line-too-long"
        case invalidUTF8 = "invalid-utf8"
        case badIdentifier = "bad-identifier"
        case badJSON = "bad-json"
        case noConsent = "no-consent"
        /// A bound on subjects (per connection, or in all) was reached.
        case tooManySubjects = "too-many-subjects"
        /// A subject's bound on metric names was reached.
        case tooManyMetrics = "too-many-metrics"
    }

    /// 1-based line number in the input, header included.
    public let line: Int
    /// The column the problem is in, when there is one.
    public let field: String?
    public let kind: Kind
    /// The human explanation, never containing more of the input than needed to find it.
    public let reason: String

    public init(line: Int, field: String?, kind: Kind, reason: String) {
        self.line = line
        self.field = field
        self.kind = kind
        self.reason = reason
    }

    public var description: String {
        if let field { return "line \(line): field '\(field)': \(reason)" }
        return "line \(line): \(reason)"
    }

    /// Shows at most a short prefix of an offending value, so errors stay one line and leak little.
    static func excerpt(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(24), as: UTF8.self)
            .unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : String($0) }.joined()
        return bytes.count > 24 ? "\"\(text)…\"" : "\"\(text)\""
    }

    public static func lineTooLong(line: Int, bytes: Int, limit: Int) -> RowError {
        RowError(line: line, field: nil, kind: .lineTooLong,
                 reason: "line is \(bytes) bytes, over the limit of \(limit); skipped to the next newline")
    }
}

/// Why a header row (or a format directive) cannot be used: the input as a whole is refused.
public struct HeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
