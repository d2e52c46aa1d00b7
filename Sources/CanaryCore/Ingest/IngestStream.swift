import Foundation

/// One input stream (a file, or one client connection) read line by line: an optional
/// `#canary` directive, a header row (unless the format says otherwise), then data rows. A `#canary`
/// directive after that starts a new section: what the stream was opened with (format, subject) is
/// in force again, the directive's keys apply, and a header follows, so one stream can carry several
/// formats (what `canaryctl import` writes from a vendor export). A section whose header is refused
/// refuses its own rows only.
///
/// It decides what each line is and hands back records and row errors; it holds no I/O.
public struct IngestStream: Sendable {
    /// What a subject id may be, said where one is refused.
    public static let subjectRule = "a subject is 1 to 128 bytes without spaces, quotes, commas or control characters"

    /// Whether `s` can name a subject in a directive (`subjectRule`).
    public static func isValidSubject(_ s: some StringProtocol) -> Bool {
        let bytes = Array(s.utf8)
        return !bytes.isEmpty && bytes.count <= 128
            && !bytes.contains { $0 < 0x21 || $0 == 0x7f || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ",") }
    }

    /// What a line turned out to be.
    public enum Outcome: Sendable, Equatable {
        case record(Record)
        case rejected(RowError)
        /// A directive, header, comment or blank line.
        case control
        /// The header could not be understood; every following line is refused with this reason.
        case refused(HeaderError)
    }

    public private(set) var parser: RecordParser?
    public private(set) var headerError: HeaderError?
    private var explicitFormat: InputFormat?
    private var subject: String?
    /// What the stream was opened with, in force again at the start of each section.
    private let openedFormat: InputFormat?
    private let openedSubject: String?
    private var zones: ZoneBook
    private var latestAccepted: Double
    private var earliestAccepted: Double
    private let maxPastBehindLatest: Double
    private let limits: ValueLimits
    /// A `tz=` directive that named a subject, not yet applied: the caller checks that it may hold
    /// anything for the subject (consent, limits), then calls `assignZone`, or drops it.
    public private(set) var zoneDirective: (subject: String, zone: TimeZone)?

    /// - Parameters:
    ///   - format: the format when the caller names it; otherwise it is recognised from the header.
    ///   - subject: the subject for inputs without a subject column.
    ///   - latestAccepted: rows stamped after this instant are refused (now + allowance).
    ///   - earliestAccepted: rows stamped before this instant are refused as `too-old` (now - `engine.max_past`).
    ///   - maxPastBehindLatest: without a clock (replay), rows this much older than their subject's latest row are refused.
    ///   - limits: plausible value ranges; values outside are refused as `out-of-range`.
    public init(format: InputFormat? = nil, subject: String? = nil, zones: ZoneBook, latestAccepted: Double = .infinity,
                earliestAccepted: Double = -.infinity, maxPastBehindLatest: Double = .infinity, limits: ValueLimits = ValueLimits()) {
        self.explicitFormat = format
        self.subject = subject
        self.openedFormat = format
        self.openedSubject = subject
        self.zones = zones
        self.latestAccepted = latestAccepted
        self.earliestAccepted = earliestAccepted
        self.maxPastBehindLatest = maxPastBehindLatest
        self.limits = limits
    }

    private func makeParser(_ layout: InputLayout) -> RecordParser {
        var p = RecordParser(layout: layout, zones: zones, latestAccepted: latestAccepted, limits: limits)
        p.earliestAccepted = earliestAccepted
        p.maxPastBehindLatest = maxPastBehindLatest
        return p
    }

    /// Accepted formats for `#canary format=...`.
    public static let directivePrefix = "#canary"

    public mutating func feed(_ line: UnsafeBufferPointer<UInt8>, number: Int) -> Outcome {
        if parser != nil {
            // A blank line (or a lone CR) is never a row: skip it, as before the header.
            if line.isEmpty || (line.count == 1 && line[0] == 13) { return .control }
            // Comment lines may appear anywhere; no row of any format starts with '#'. A directive
            // starts a new section.
            if line[0] == UInt8(ascii: "#") {
                guard Self.isDirective(line) else { return .control }
                startSection()
                return feed(line, number: number)
            }
            switch parser!.parse(line, line: number) {  // mutated in place
            case .success(let r): return .record(r)
            case .failure(let e): return .rejected(e)
            }
        }
        if let headerError {
            guard Self.isDirective(line) else { return .refused(headerError) }
            startSection()
        }
        var n = line.count
        if n > 0 && line[n - 1] == 13 { n -= 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[0..<n]), as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .control }
        if trimmed.hasPrefix(Self.directivePrefix) {
            if let error = applyDirective(trimmed, number: number) { return .rejected(error) }
            return .control
        }
        if trimmed.hasPrefix("#") { return .control }
        // JSON Lines typing needs no header.
        if trimmed.hasPrefix("{") && (explicitFormat == nil || explicitFormat == .typing) {
            parser = makeParser(.typingJSON(defaultSubject: subject))
            return feed(line, number: number)
        }
        do {
            let layout = try InputLayout.detect(header: trimmed, format: explicitFormat, defaultSubject: subject)
            parser = makeParser(layout)
            return .control
        } catch {
            headerError = HeaderError("line \(number): \(error.reason)")
            return .refused(headerError!)
        }
    }

    /// Whether the line is a `#canary` directive. After rows, as a comment, it starts at the line's
    /// first byte (before the first header, leading spaces are allowed, as for every line there).
    private static func isDirective(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if line.first != UInt8(ascii: "#") {
            while i < line.count && (line[i] == 32 || line[i] == 9) { i += 1 }
        }
        let prefix = directivePrefix.utf8
        guard line.count - i >= prefix.count else { return false }
        for (k, byte) in prefix.enumerated() where line[i + k] != byte { return false }
        // `#canary` alone or followed by a space: `#canaryfoo` stays a comment.
        return line.count - i == prefix.count || line[i + prefix.count] == 32 || line[i + prefix.count] == 13
    }

    /// A new section: no header yet; format and subject as the stream was opened (zones set by earlier
    /// directives stay, as they would for the rows of later sections of the same subjects).
    private mutating func startSection() {
        parser = nil
        headerError = nil
        explicitFormat = openedFormat
        subject = openedSubject
    }

    /// `#canary format=<samples|sleep|activity|typing> [subject=ID] [tz=Area/City]`
    private mutating func applyDirective(_ text: String, number: Int) -> RowError? {
        for part in text.dropFirst(Self.directivePrefix.count).split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else {
                return RowError(line: number, field: String(part), kind: .badIdentifier, reason: "directive parts are key=value")
            }
            switch kv[0] {
            case "format":
                guard let f = InputFormat(rawValue: kv[1]) else {
                    return RowError(line: number, field: "format", kind: .badIdentifier,
                                    reason: "unknown format \"\(kv[1].prefix(20))\"; expected samples, sleep, activity or typing")
                }
                explicitFormat = f
            case "subject":
                guard Self.isValidSubject(kv[1]) else {
                    return RowError(line: number, field: "subject", kind: .badIdentifier, reason: Self.subjectRule)
                }
                subject = kv[1]
            case "tz":
                guard let zone = TimeZone(identifier: kv[1]) else {
                    return RowError(line: number, field: "tz", kind: .badIdentifier,
                                    reason: "unknown time zone \"\(kv[1].prefix(40))\"; use an IANA name such as Europe/Oslo")
                }
                if let subject {
                    zoneDirective = (subject, zone)
                } else {
                    zones.defaultZone = zone
                    parser?.zones.defaultZone = zone
                }
            default:
                return RowError(line: number, field: kv[0], kind: .badIdentifier,
                                reason: "unknown directive key; expected format, subject or tz")
            }
        }
        return nil
    }

    /// The `tz=` directive of the line just fed, taken once (nil when it named no subject).
    public mutating func takeZoneDirective() -> (subject: String, zone: TimeZone)? {
        defer { zoneDirective = nil }
        return zoneDirective
    }

    /// Puts a subject's local timestamps on `zone` for the rest of this stream (after `takeZoneDirective`
    /// and the caller's checks). One entry per subject, whatever else the stream names.
    public mutating func assignZone(_ zone: TimeZone, to subject: String) {
        zones.subjects[subject] = zone
        parser?.zones.subjects[subject] = zone
    }

    /// Drops what a directive set for a subject (its consent ended): local timestamps of its rows, were
    /// any still admitted, would be read in the configured zone again.
    public mutating func forgetZone(of subject: String) {
        zones.subjects[subject] = nil
        parser?.zones.subjects[subject] = nil
    }

    /// Drops the names the parser remembered (interned subject ids among them).
    public mutating func forgetIdentifiers() {
        parser?.forgetIdentifiers()
    }

    /// Moves the future-timestamp limit (a long-lived connection's "now" moves on).
    public mutating func updateLatestAccepted(_ instant: Double) {
        latestAccepted = instant
        parser?.latestAccepted = instant
    }

    /// Moves the too-old limit (a long-lived connection's "now" moves on).
    public mutating func updateEarliestAccepted(_ instant: Double) {
        earliestAccepted = instant
        parser?.earliestAccepted = instant
    }

    /// The time zones in force after directives (a `tz=` directive sets the subject's zone).
    public var effectiveZones: ZoneBook { zones }
}
