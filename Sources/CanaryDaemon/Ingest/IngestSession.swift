import CanaryCore
import Foundation

/// One ingest conversation (a socket client, or standard input): bytes in, records to the engine,
/// protocol replies out. `ERR <line> <reason>` for each rejected line, and on end of input
/// `OK accepted=N rejected=M`.
public struct IngestSession {
    public var accepted: Int { lines.accepted }
    public var rejected: Int { lines.rejected }
    private var splitter: LineSplitter
    private var lines: LineHandler

    /// - Parameter admit: whether a subject's rows may be taken (consent); refused rows get `ERR <line> no-consent`.
    /// - Parameter earliestAccepted: rows stamped before this are refused as `too-old` (now - `engine.max_past`).
    /// - Parameter limits: plausible value ranges; values outside are refused as `out-of-range`.
    public init(zones: ZoneBook, latestAccepted: Double, earliestAccepted: Double = -.infinity, limits: ValueLimits = ValueLimits(),
                maxLineBytes: Int = 64 * 1024,
                format: InputFormat? = nil, subject: String? = nil, admit: @escaping (String) -> Bool = { _ in true }) {
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        lines = LineHandler(stream: IngestStream(format: format, subject: subject, zones: zones, latestAccepted: latestAccepted,
                                                 earliestAccepted: earliestAccepted, limits: limits),
                            maxLineBytes: maxLineBytes, admit: admit)
    }

    /// Where the conversation stands: lines fully handled, rows accepted and rejected so far.
    public var mark: ProgressMark {
        ProgressMark(line: splitter.lineNumber, accepted: lines.accepted, rejected: lines.rejected)
    }

    /// Forgets which subjects were admitted when the consent ledger has changed since (`version` differs),
    /// so a revocation or expiry takes effect from the next read on.
    public mutating func refreshAdmission(version: Int) {
        if version != lines.admissionVersion {
            lines.admitted.removeAll(keepingCapacity: true)
            lines.admissionVersion = version
        }
    }

    /// Moves the future-timestamp limit; a long-lived connection calls this as time goes on.
    public mutating func updateLatestAccepted(_ instant: Double) {
        lines.stream.updateLatestAccepted(instant)
    }

    /// Moves the too-old limit; a long-lived connection calls this as time goes on.
    public mutating func updateEarliestAccepted(_ instant: Double) {
        lines.stream.updateEarliestAccepted(instant)
    }

    /// Feeds received bytes. Records go to `record`, protocol replies to `reply` (without newline), and a
    /// `#canary subject=ID tz=Zone` directive to `zone`, in input order with the records.
    public mutating func receive(_ bytes: UnsafeBufferPointer<UInt8>, record: (Record) -> Void, reply: (String) -> Void,
                                 zone: (String, TimeZone) -> Void = { _, _ in }) {
        splitter.feed(bytes) { piece in lines.handle(piece, record: record, reply: reply, zone: zone) }
    }

    /// The client finished sending: the last unterminated line counts (its error too); no reply of its own.
    public mutating func finishInput(record: (Record) -> Void, reply: (String) -> Void, zone: (String, TimeZone) -> Void = { _, _ in }) {
        splitter.finish { piece in lines.handle(piece, record: record, reply: reply, zone: zone) }
    }

    /// The final reply: `OK accepted=N rejected=M`, plus ` late=L` when rows arrived for days already evaluated.
    public func okLine(late: Int = 0) -> String {
        "OK accepted=\(accepted) rejected=\(rejected)" + (late > 0 ? " late=\(late)" : "")
    }

    /// `finishInput`, then the final `OK` reply.
    public mutating func finish(record: (Record) -> Void, reply: (String) -> Void, zone: (String, TimeZone) -> Void = { _, _ in }) {
        finishInput(record: record, reply: reply, zone: zone)
        reply(okLine())
    }

    /// `ERR <line> <kind>: <field>: <reason>`: the kind first, so scripts can match on it.
    static func err(_ e: RowError) -> String {
        if let field = e.field { return "ERR \(e.line) \(e.kind.rawValue): field '\(field)': \(e.reason)" }
        return "ERR \(e.line) \(e.kind.rawValue): \(e.reason)"
    }
}

/// A point in an ingest conversation, for `PROGRESS line=L accepted=N rejected=M`: every line up to
/// `line` was handled and the effects of its accepted rows are committed.
public struct ProgressMark: Sendable, Equatable {
    public var line = 0
    public var accepted = 0
    public var rejected = 0

    public var reply: String { "PROGRESS line=\(line) accepted=\(accepted) rejected=\(rejected)" }
}

/// What happens to each split line of a session.
private struct LineHandler {
    var stream: IngestStream
    let maxLineBytes: Int
    let admit: (String) -> Bool
    /// Subjects admitted under the ledger version `admissionVersion`: each is asked about once.
    var admitted: Set<String> = []
    var admissionVersion = -1
    var accepted = 0
    var rejected = 0
    var refusalSent = false
    var zoneSeen: TimeZone?

    mutating func handle(_ piece: LineSplitter.Piece, record: (Record) -> Void, reply: (String) -> Void,
                         zone: (String, TimeZone) -> Void) {
        switch piece {
        case .tooLong(let number, let bytes):
            rejected += 1
            reply(IngestSession.err(RowError.lineTooLong(line: number, bytes: bytes, limit: maxLineBytes)))
        case .line(let bytes, let number):
            switch stream.feed(bytes, number: number) {
            case .record(let r):
                let subject = r.subject
                if !admitted.contains(subject) {
                    guard admit(subject) else {
                        rejected += 1
                        reply("ERR \(number) no-consent: no active monitor consent for this subject; nothing of the row was kept")
                        return
                    }
                    admitted.insert(subject)
                }
                accepted += 1
                record(r)
            case .rejected(let e):
                rejected += 1
                reply(IngestSession.err(e))
            case .control:
                if let assigned = stream.assignedZone, let subject = assigned.subject, assigned.zone != zoneSeen {
                    zoneSeen = assigned.zone
                    zone(subject, assigned.zone)
                }
            case .refused(let h):
                rejected += 1
                // One reason is enough: every later line is refused for the same header.
                if !refusalSent {
                    refusalSent = true
                    reply("ERR \(number) \(h.reason)")
                }
            }
        }
    }
}
