import CanaryCore
import Foundation

/// One ingest conversation (a socket client, or standard input): bytes in, records to the engine,
/// protocol replies out. `ERR <line> <reason>` for each rejected line, and on end of input
/// `OK accepted=N rejected=M`.
public struct IngestSession {
    public var accepted: Int { lines.accepted }
    public var rejected: Int { lines.rejected }
    private var splitter: LineSplitter
    private var lines: IngestDecoder

    /// - Parameters:
    ///   - admit: whether a subject's rows may be taken (consent); refused rows get `ERR <line> no-consent`.
    ///     It is asked before anything is held for the subject, and again after the ledger changes.
    ///   - earliestAccepted: rows stamped before this are refused as `too-old` (now - `engine.max_past`).
    ///   - limits: plausible value ranges; values outside are refused as `out-of-range`.
    ///   - maxSubjects: distinct subjects one session may send (`daemon.max_subjects_per_connection`);
    ///     rows of another one get `ERR <line> too-many-subjects`.
    public init(zones: ZoneBook, latestAccepted: Double, earliestAccepted: Double = -.infinity, limits: ValueLimits = ValueLimits(),
                maxLineBytes: Int = 64 * 1024,
                format: InputFormat? = nil, subject: String? = nil, maxSubjects: Int = .max,
                admit: @escaping (String) -> Bool = { _ in true }) {
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        lines = IngestDecoder(stream: IngestStream(format: format, subject: subject, zones: zones, latestAccepted: latestAccepted,
                                                   earliestAccepted: earliestAccepted, limits: limits),
                              maxLineBytes: maxLineBytes, maxSubjects: maxSubjects, admit: admit)
    }

    /// Subjects the session holds anything of (admitted, or with a directive's zone); tests check it shrinks on withdrawal.
    var heldSubjects: Set<String> { Set(lines.admitted.keys).union(lines.stream.effectiveZones.subjects.keys) }

    /// Distinct subjects the session may send (`daemon.max_subjects_per_connection`).
    public var maxSubjects: Int { lines.maxSubjects }

    /// Whether a row was refused for `maxSubjects` (the caller journals it once).
    public var subjectLimitReached: Bool { lines.subjectLimitReached }

    /// Takes back a row the session counted as accepted but the engine refused (a bound of the engine):
    /// it counts as rejected from now on.
    public mutating func engineRefused(_ rows: Int) {
        lines.accepted -= rows
        lines.rejected += rows
    }

    /// The format of the rows, once the header (or the caller) named it.
    public var format: InputFormat? { lines.format }

    /// Rejections by reason since the last call (parsing, consent and the per-connection bound; not the
    /// engine's refusals, which the connection counts).
    public mutating func takeRejections() -> [String: Int] {
        defer { lines.reasons.removeAll(keepingCapacity: true) }
        return lines.reasons
    }

    /// Where the conversation stands: lines fully handled, rows accepted and rejected so far.
    public var mark: ProgressMark {
        ProgressMark(line: splitter.lineNumber, accepted: lines.accepted, rejected: lines.rejected)
    }

    /// When the consent ledger has changed since (`version` differs): a revocation or expiry takes effect
    /// from the next read on, and the session forgets at once what it held of subjects without monitor
    /// consent (their admission and any zone a directive set), so nothing of them stays in its memory.
    public mutating func refreshAdmission(version: Int) {
        guard version != lines.admissionVersion else { return }
        lines.admissionVersion = version
        var dropped = false
        for subject in Array(lines.admitted.keys) {
            if lines.admit?(subject) ?? true {
                lines.admitted[subject] = version
            } else {
                lines.admitted[subject] = nil
                lines.stream.forgetZone(of: subject)
                dropped = true
            }
        }
        // The parser's interned names may hold the id too.
        if dropped { lines.stream.forgetIdentifiers() }
    }

    /// Moves the future-timestamp limit; a long-lived connection calls this as time goes on.
    public mutating func updateLatestAccepted(_ instant: Double) {
        lines.stream.updateLatestAccepted(instant)
    }

    /// Moves the too-old limit; a long-lived connection calls this as time goes on.
    public mutating func updateEarliestAccepted(_ instant: Double) {
        lines.stream.updateEarliestAccepted(instant)
    }

    /// Feeds received bytes. Records go to `record` with their line number, protocol replies to `reply` (without newline), and a
    /// `#canary subject=ID tz=Zone` directive to `zone`, in input order with the records.
    public mutating func receive(_ bytes: UnsafeBufferPointer<UInt8>, record: (Record, Int) -> Void, reply: (String) -> Void,
                                 zone: (String, TimeZone) -> Void = { _, _ in }) {
        splitter.feed(bytes) { piece in Self.handle(piece, &lines, record: record, reply: reply, zone: zone) }
    }

    /// One split line through the decoder; rejections become `ERR` replies (a refused header once).
    private static func handle(_ piece: LineSplitter.Piece, _ lines: inout IngestDecoder, record: (Record, Int) -> Void,
                               reply: (String) -> Void, zone: (String, TimeZone) -> Void) {
        lines.handle(piece, record: record, rejected: { reply(err($0)) },
                     refused: { line, reason, first in if first { reply("ERR \(line) \(reason)") } }, zone: zone)
    }

    /// The client finished sending: the last unterminated line counts (its error too); no reply of its own.
    public mutating func finishInput(record: (Record, Int) -> Void, reply: (String) -> Void, zone: (String, TimeZone) -> Void = { _, _ in }) {
        splitter.finish { piece in Self.handle(piece, &lines, record: record, reply: reply, zone: zone) }
    }

    /// The final reply: `OK accepted=N rejected=M`, plus ` late=L` when rows arrived for days already
    /// evaluated and ` duplicate=D` for rows already held (resent or overlapping: same subject, stream and
    /// instant, for sleep the same session, for a raw metric not newer than its latest), which count once.
    public func okLine(late: Int = 0, duplicate: Int = 0) -> String {
        "OK accepted=\(accepted) rejected=\(rejected)" + (late > 0 ? " late=\(late)" : "") + (duplicate > 0 ? " duplicate=\(duplicate)" : "")
    }

    /// `finishInput`, then the final `OK` reply.
    public mutating func finish(record: (Record, Int) -> Void, reply: (String) -> Void, zone: (String, TimeZone) -> Void = { _, _ in }) {
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

/// The one decoder of ingest input, whoever reads it — a socket connection, standard input, a replay
/// file: each split line becomes a record (with its line number), a rejection with its reason, a
/// directive's zone, or a refusal (every line after a header that could not be understood). What to
/// say about a rejection is the reader's (an `ERR` reply, a diagnostic line, a count). Consent and the
/// per-connection subject bound are the daemon's filter on top (`admit`, `maxSubjects`); a reader
/// without one (`admit == nil`: replay, files the operator already holds) takes every subject.
struct IngestDecoder {
    var stream: IngestStream
    let maxLineBytes: Int
    let maxSubjects: Int
    let admit: ((String) -> Bool)?
    /// Subjects this session may send, each with the ledger version it was admitted under (asked again
    /// once the ledger changed). Only consented subjects enter, at most `maxSubjects` of them.
    var admitted: [String: Int] = [:]
    var admissionVersion = 0
    var accepted = 0
    var rejected = 0
    /// Rejections by reason (the `ERR` kind, `bad-header` for lines refused for their header) since the
    /// last `IngestSession.takeRejections`, for the operator's metrics.
    var reasons: [String: Int] = [:]
    /// The refused header last reported (each section's refusal is reported once).
    var refusalSent: String?
    var subjectLimitReached = false

    /// Nil when rows (or a directive) of `subject` may be taken; else the error for `line`. Consent is
    /// asked first, so nothing is held for a subject without it.
    mutating func admission(_ subject: String, line: Int) -> RowError? {
        guard let admit else { return nil }
        let version = admitted[subject]
        if version == admissionVersion { return nil }
        guard admit(subject) else {
            admitted[subject] = nil  // withdrawn: the slot is free again
            return RowError(line: line, field: nil, kind: .noConsent,
                            reason: "no active monitor consent for this subject; nothing of the row was kept")
        }
        if version == nil && admitted.count >= maxSubjects {
            subjectLimitReached = true
            return RowError(line: line, field: "subject", kind: .tooManySubjects,
                            reason: "this connection already sent rows of \(maxSubjects) subjects (daemon.max_subjects_per_connection); send the others on another connection")
        }
        admitted[subject] = admissionVersion
        return nil
    }

    /// The format of the rows (once the header or the caller named it).
    var format: InputFormat? { stream.parser?.layout.format }

    /// - Parameters:
    ///   - rejected: a line refused, with its line number, field and reason.
    ///   - refused: a line refused because the header was (line, reason, whether it is the first such line).
    mutating func handle(_ piece: LineSplitter.Piece, record: (Record, Int) -> Void, rejected: (RowError) -> Void,
                         refused: (Int, String, Bool) -> Void, zone: (String, TimeZone) -> Void) {
        func reject(_ e: RowError) {
            reasons[e.kind.rawValue, default: 0] += 1
            rejected(e)
        }
        switch piece {
        case .tooLong(let number, let bytes):
            self.rejected += 1
            reject(RowError.lineTooLong(line: number, bytes: bytes, limit: maxLineBytes))
        case .line(let bytes, let number):
            switch stream.feed(bytes, number: number) {
            case .record(let r):
                if let e = admission(r.subject, line: number) {
                    self.rejected += 1
                    reject(e)
                    return
                }
                accepted += 1
                record(r, number)
            case .rejected(let e):
                self.rejected += 1
                reject(e)
            case .control:
                // `#canary subject=ID tz=Zone`: held and passed on only for a subject that may be sent, and
                // only when it changes something, so repeating it costs nothing downstream.
                guard let d = stream.takeZoneDirective() else { return }
                if let e = admission(d.subject, line: number) {
                    self.rejected += 1
                    reject(e)
                } else if stream.effectiveZones.zone(for: d.subject) != d.zone {
                    stream.assignZone(d.zone, to: d.subject)
                    zone(d.subject, d.zone)
                }
            case .refused(let h):
                self.rejected += 1
                reasons["bad-header", default: 0] += 1
                // One reason is enough: every later line of the section is refused for the same header.
                refused(number, h.reason, refusalSent != h.reason)
                refusalSent = h.reason
            }
        }
    }
}
