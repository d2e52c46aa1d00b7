import Foundation

/// Turns one input line into a validated `Record`, or a `RowError` naming the line, field and reason.
///
/// It works on raw bytes so the hot path builds no intermediate strings; only the subject and
/// metric of accepted rows become `String`s (short ones are stored inline, without allocation).
public struct RecordParser: Sendable {
    public let layout: InputLayout
    /// Where local timestamps are resolved.
    public var zones: ZoneBook
    /// Rows stamped later than this instant are refused (the caller passes "now" plus its allowance).
    public var latestAccepted: Double
    /// Rows stamped earlier than this instant are refused as `too-old` (the daemon passes "now" minus `engine.max_past`).
    public var earliestAccepted: Double = -.infinity
    /// Without a clock (replay): a row this much older than its subject's latest accepted row is refused as
    /// `too-old`; infinite to disable. Only then does the parser keep a latest instant per subject.
    public var maxPastBehindLatest: Double = .infinity
    /// Plausible value ranges; a value outside is refused as `out-of-range`.
    public var limits: ValueLimits
    /// One clock per time zone in use, never per subject: a feeder naming new subjects grows nothing here.
    private var clocks: [TimeZone: ZoneClock] = [:]
    /// Clocks held (tests check it does not grow with subjects).
    var clockCount: Int { clocks.count }
    /// The name cache's slot of the current row's subject, or -1 (a default subject, or not cached).
    /// Each subject's latest accepted instant (only with a finite `maxPastBehindLatest`) is the mark of
    /// its name in the cache: no hashing per row.
    private var subjectSlot = -1
    private var fieldStarts: [Int] = []
    private var fieldEnds: [Int] = []
    private var names = IdentifierCache()

    /// Forgets every identifier it remembered (the interned names, each subject's latest row), e.g. once
    /// a subject's consent ended: nothing of that subject stays in this parser's memory.
    public mutating func forgetIdentifiers() {
        names = IdentifierCache()
        subjectSlot = -1
    }

    public init(layout: InputLayout, zones: ZoneBook = ZoneBook(), latestAccepted: Double = .infinity,
                limits: ValueLimits = ValueLimits()) {
        self.layout = layout
        self.zones = zones
        self.latestAccepted = latestAccepted
        self.limits = limits
        fieldStarts = [Int](repeating: 0, count: max(1, layout.columnCount))
        fieldEnds = fieldStarts
    }

    /// Parses one line (without its newline). `line` is the 1-based line number for error messages.
    public mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> Result<Record, RowError> {
        let result = parseRow(bytes, line: line)
        if maxPastBehindLatest.isFinite, case .success(let r) = result { noteAccepted(r) }
        return result
    }

    private mutating func parseRow(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> Result<Record, RowError> {
        var n = bytes.count
        if n > 0 && bytes[n - 1] == 13 { n -= 1 }  // CRLF
        let b = UnsafeBufferPointer(rebasing: bytes[0..<n])
        if layout.format == .typing && n > 0 && b[0] == UInt8(ascii: "{") {
            return parseTypingJSON(b, line: line)
        }
        // Split on commas, honouring simple double quotes around a field.
        // Field boundaries go into preallocated slots; a row with more fields than the header only counts them.
        var count = 0
        var i = 0
        var start = 0
        var quoted = false
        let slots = fieldStarts.count
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if c == UInt8(ascii: ",") && !quoted {
                if count < slots { fieldStarts[count] = start; fieldEnds[count] = i }
                count += 1
                start = i + 1
            }
            i += 1
        }
        if count < slots { fieldStarts[count] = start; fieldEnds[count] = n }
        count += 1
        guard count == layout.columnCount else {
            return .failure(RowError(line: line, field: nil, kind: .wrongColumnCount,
                                     reason: "expected \(layout.columnCount) columns as in the header, found \(count)"))
        }
        do {
            switch layout.format {
            case .samples: return .success(.sample(try sample(b, line: line)))
            case .sleep: return .success(.sleep(try sleep(b, line: line)))
            case .activity: return .success(.activity(try activity(b, line: line)))
            case .typing: return .success(.typing(try typing(b, line: line)))
            }
        } catch {
            return .failure(error)
        }
    }

    // MARK: Formats

    private mutating func sample(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> SampleRecord {
        let subject = try subjectField(b, line: line)
        let ts = try timestamp(b, layout.timestamp, "timestamp", subject: subject, line: line)
        let metric = try identifier(field(b, layout.metric), "metric", line: line)
        let value = try number(b, layout.value, "value", line: line)
        let range = limits.range(forMetric: metric)
        guard range.contains(value) else {
            throw RowError(line: line, field: "value", kind: .outOfRange,
                           reason: "outside the plausible range \(ValueLimits.describe(range)) of metric '\(metric)' (configurable: [metrics.\(metric)] min, max)")
        }
        return SampleRecord(timestamp: ts, subject: subject, metric: metric, value: value)
    }

    private mutating func sleep(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> SleepRecord {
        let subject = try subjectField(b, line: line)
        let start = try timestamp(b, layout.start, "start", subject: subject, line: line)
        let end = try timestamp(b, layout.end, "end", subject: subject, line: line, checkFuture: true)
        guard end > start else {
            throw RowError(line: line, field: "end", kind: .endBeforeStart,
                           reason: end == start ? "session has zero length (end equals start)" : "end is before start")
        }
        guard end - start <= 36 * 3600 else {
            throw RowError(line: line, field: "end", kind: .outOfRange, reason: "session longer than 36 hours")
        }
        let asleep = try optionalNumber(b, layout.asleep, "asleep_min", line: line)
        let awake = try optionalNumber(b, layout.awake, "awake_min", line: line)
        var efficiency = try optionalNumber(b, layout.efficiency, "efficiency", line: line)
        let inBed = (end - start) / 60
        if let asleep, asleep > inBed + 1 {
            throw RowError(line: line, field: "asleep_min", kind: .outOfRange, reason: "asleep minutes exceed the session length")
        }
        if let awake, awake > inBed + 1 {
            throw RowError(line: line, field: "awake_min", kind: .outOfRange, reason: "awake minutes exceed the session length")
        }
        if let e = efficiency {
            // Accept both 0...1 and percent.
            if e > 1 && e <= 100 { efficiency = e / 100 } else if e > 100 {
                throw RowError(line: line, field: "efficiency", kind: .outOfRange, reason: "efficiency must be 0..1 or a percentage")
            }
        }
        return SleepRecord(subject: subject, start: start, end: end, asleepMinutes: asleep, awakeMinutes: awake, efficiency: efficiency)
    }

    private mutating func activity(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> ActivityRecord {
        let subject = try subjectField(b, line: line)
        let ts = try timestamp(b, layout.timestamp, "timestamp", subject: subject, line: line)
        let count = try number(b, layout.count, layout.countName, line: line, nonNegative: true)
        guard count <= limits.activityCount.upperBound else {
            throw RowError(line: line, field: layout.countName, kind: .outOfRange,
                           reason: "above the plausible count of one epoch, \(ValueLimits.format(limits.activityCount.upperBound)) ([activity] max_count)")
        }
        return ActivityRecord(timestamp: ts, subject: subject, count: count)
    }

    private mutating func typing(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> TypingRecord {
        let subject = try subjectField(b, line: line)
        let ts = try timestamp(b, layout.timestamp, "timestamp", subject: subject, line: line)
        let hold = try number(b, layout.hold, "hold_ms", line: line, nonNegative: true)
        let flight = try number(b, layout.flight, "flight_ms", line: line, nonNegative: true)
        let key = try keyClass(field(b, layout.key), line: line)
        try Self.checkTiming(hold: hold, flight: flight, line: line)
        return TypingRecord(timestamp: ts, subject: subject, holdMilliseconds: hold, flightMilliseconds: flight, key: key)
    }

    private mutating func parseTypingJSON(_ b: UnsafeBufferPointer<UInt8>, line: Int) -> Result<Record, RowError> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: b))) as? [String: Any] else {
            return .failure(RowError(line: line, field: nil, kind: .badJSON, reason: "not a JSON object"))
        }
        func text(_ key: String) -> String? {
            if let s = object[key] as? String { return s }
            if let n = object[key] as? NSNumber { return n.stringValue }
            return nil
        }
        do throws(RowError) {
            let subjectText = text("subject") ?? layout.defaultSubject
            guard let subjectText else {
                throw RowError(line: line, field: "subject", kind: .emptyField, reason: "missing")
            }
            let subject = try Self.withBytes(subjectText) { b throws(RowError) in try identifier(b, "subject", line: line) }
            func required(_ key: String) throws(RowError) -> String {
                guard let v = text(key) else { throw RowError(line: line, field: key, kind: .emptyField, reason: "missing") }
                return v
            }
            let tsText = try required("timestamp")
            let holdText = try required("hold_ms")
            let flightText = try required("flight_ms")
            let keyText = try required("key")
            let ts = try Self.withBytes(tsText) { b throws(RowError) in try timestampValue(b, "timestamp", subject: subject, line: line, checkFuture: true) }
            let hold = try Self.withBytes(holdText) { b throws(RowError) in try numberValue(b, "hold_ms", line: line, nonNegative: true) }
            let flight = try Self.withBytes(flightText) { b throws(RowError) in try numberValue(b, "flight_ms", line: line, nonNegative: true) }
            let key = try Self.withBytes(keyText) { b throws(RowError) in try keyClass(b, line: line) }
            try Self.checkTiming(hold: hold, flight: flight, line: line)
            return .success(.typing(TypingRecord(timestamp: ts, subject: subject, holdMilliseconds: hold, flightMilliseconds: flight, key: key)))
        } catch {
            return .failure(error)
        }
    }

    private static func checkTiming(hold: Double, flight: Double, line: Int) throws(RowError) {
        guard ValueLimits.holdMilliseconds.contains(hold) else {
            throw RowError(line: line, field: "hold_ms", kind: .outOfRange,
                           reason: "above \(ValueLimits.format(ValueLimits.holdMilliseconds.upperBound)) ms: a key held that long is stuck, not typing")
        }
        guard ValueLimits.flightMilliseconds.contains(flight) else {
            throw RowError(line: line, field: "flight_ms", kind: .outOfRange,
                           reason: "above the plausible \(ValueLimits.format(ValueLimits.maximumFlightMilliseconds)) ms")
        }
    }

    /// The earliest instant a row of `subject` may have: the caller's bound, and (without a clock) the
    /// subject's latest accepted row minus `maxPastBehindLatest`.
    private mutating func earliest(for subject: String) -> Double {
        guard maxPastBehindLatest.isFinite else { return earliestAccepted }
        return max(earliestAccepted, names.mark(of: subject, slot: subjectSlot) - maxPastBehindLatest)
    }

    private mutating func noteAccepted(_ r: Record) {
        let t = r.timestamp  // a sleep session's end
        names.raiseMark(of: r.subject, slot: subjectSlot, to: t)
    }

    // MARK: Fields

    private func field(_ b: UnsafeBufferPointer<UInt8>, _ index: Int) -> UnsafeBufferPointer<UInt8> {
        var s = fieldStarts[index]
        var e = fieldEnds[index]
        while s < e && (b[s] == 32 || b[s] == 9) { s += 1 }
        while e > s && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        if e - s >= 2 && b[s] == UInt8(ascii: "\"") && b[e - 1] == UInt8(ascii: "\"") { s += 1; e -= 1 }
        return UnsafeBufferPointer(rebasing: b[s..<e])
    }

    private mutating func subjectField(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> String {
        if layout.subject < 0 {
            return layout.defaultSubject ?? ""
        }
        let f = field(b, layout.subject)
        if f.isEmpty, let d = layout.defaultSubject { return d }
        subjectSlot = -1
        guard !f.isEmpty, f.count <= 128 else { return try Self.validateIdentifier(f, "subject", line: line) }
        return try names.string(f, slot: &subjectSlot) { () throws(RowError) -> String in try Self.validateIdentifier(f, "subject", line: line) }
    }

    /// A subject or metric name; names seen before come from the cache without re-validation.
    private mutating func identifier(_ f: UnsafeBufferPointer<UInt8>, _ name: String, line: Int) throws(RowError) -> String {
        guard !f.isEmpty, f.count <= 128 else { return try Self.validateIdentifier(f, name, line: line) }
        return try names.string(f) { () throws(RowError) -> String in try Self.validateIdentifier(f, name, line: line) }
    }

    private static func validateIdentifier(_ f: UnsafeBufferPointer<UInt8>, _ name: String, line: Int) throws(RowError) -> String {
        guard !f.isEmpty else { throw RowError(line: line, field: name, kind: .emptyField, reason: "empty") }
        guard f.count <= 128 else {
            throw RowError(line: line, field: name, kind: .badIdentifier, reason: "longer than 128 bytes")
        }
        for c in f where c < 0x21 || c == 0x7f || c == UInt8(ascii: "\"") || c == UInt8(ascii: ",") {
            throw RowError(line: line, field: name, kind: .badIdentifier,
                           reason: "contains a space, quote or control character")
        }
        guard let s = String(validating: f, as: UTF8.self) else {
            throw RowError(line: line, field: name, kind: .invalidUTF8, reason: "not valid UTF-8")
        }
        return s
    }

    private func number(_ b: UnsafeBufferPointer<UInt8>, _ index: Int, _ name: String, line: Int,
                        nonNegative: Bool = false) throws(RowError) -> Double {
        try numberValue(field(b, index), name, line: line, nonNegative: nonNegative)
    }

    private func optionalNumber(_ b: UnsafeBufferPointer<UInt8>, _ index: Int, _ name: String, line: Int) throws(RowError) -> Double? {
        guard index >= 0 else { return nil }
        let f = field(b, index)
        if f.isEmpty { return nil }
        return try numberValue(f, name, line: line, nonNegative: true)
    }

    private func numberValue(_ f: UnsafeBufferPointer<UInt8>, _ name: String, line: Int, nonNegative: Bool) throws(RowError) -> Double {
        guard !f.isEmpty else { throw RowError(line: line, field: name, kind: .emptyField, reason: "empty") }
        guard let v = NumberParser.double(f) else {
            let lower = String(decoding: f.prefix(12), as: UTF8.self).lowercased()
            if lower.contains("nan") || lower.contains("inf") || NumberParser.isOverflow(f) {
                throw RowError(line: line, field: name, kind: .notFinite, reason: "NaN or infinity is not a measurement")
            }
            throw RowError(line: line, field: name, kind: .notANumber, reason: "not a number: \(RowError.excerpt(f))")
        }
        if nonNegative && v < 0 {
            throw RowError(line: line, field: name, kind: .outOfRange, reason: "must not be negative")
        }
        return v
    }

    private mutating func timestamp(_ b: UnsafeBufferPointer<UInt8>, _ index: Int, _ name: String, subject: String,
                                    line: Int, checkFuture: Bool = true) throws(RowError) -> Double {
        try timestampValue(field(b, index), name, subject: subject, line: line, checkFuture: checkFuture)
    }

    private mutating func timestampValue(_ f: UnsafeBufferPointer<UInt8>, _ name: String, subject: String,
                                         line: Int, checkFuture: Bool) throws(RowError) -> Double {
        guard !f.isEmpty else { throw RowError(line: line, field: name, kind: .emptyField, reason: "empty") }
        let t: Double
        switch TimestampParser.parse(f) {
        case .instant(let v)?:
            t = v
        case .local(let wall)?:
            let zone = zones.zone(for: subject)
            t = clocks[zone, default: ZoneClock(zone)].instant(fromLocal: wall)
        case nil:
            throw RowError(line: line, field: name, kind: .badTimestamp,
                           reason: "not RFC 3339, epoch seconds or a local date-time: \(RowError.excerpt(f))")
        }
        if checkFuture && t > latestAccepted {
            throw RowError(line: line, field: name, kind: .tooFarInFuture, reason: "timestamp is too far in the future")
        }
        if checkFuture && t < earliest(for: subject) {
            let reason = t < earliestAccepted
                ? "timestamp is before \(PeriodLabel.instant(earliestAccepted)), older than engine.max_past allows"
                : "timestamp is more than engine.max_past (\(ValueLimits.format(maxPastBehindLatest / 86_400)) days) before this subject's latest row"
            throw RowError(line: line, field: name, kind: .tooOld, reason: reason)
        }
        return t
    }

    private func keyClass(_ f: UnsafeBufferPointer<UInt8>, line: Int) throws(RowError) -> KeyClass {
        if let k = KeyClass(bytes: f) { return k }
        // One or two visible characters are key content, which Canary never takes.
        let scalars = String(decoding: f, as: UTF8.self).unicodeScalars.count
        if f.isEmpty {
            throw RowError(line: line, field: "key", kind: .emptyField, reason: "empty; expected char, space, backspace, enter or other")
        }
        if scalars <= 2 {
            throw RowError(line: line, field: "key", kind: .keyContent,
                           reason: "looks like key content; Canary accepts only the class: char, space, backspace, enter or other")
        }
        throw RowError(line: line, field: "key", kind: .unknownKeyClass,
                       reason: "unknown key class; expected char, space, backspace, enter or other")
    }

    private static func withBytes<T>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) throws(RowError) -> T) throws(RowError) -> T {
        let bytes = Array(s.utf8)
        let result: Result<T, RowError> = bytes.withUnsafeBufferPointer { b in
            do throws(RowError) { return .success(try body(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
