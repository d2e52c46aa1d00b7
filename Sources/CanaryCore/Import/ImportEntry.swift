import Foundation

/// One thing a vendor export says, before it becomes canonical rows (`canaryctl import` of the
/// multi-stream profiles: `fitbit-takeout`, `oura`, `apple-health`).
///
/// Entries are spooled as they are read, in whatever order the export holds them, and merged day
/// by day by `ImportMerger`: sleep stage segments into sessions, overlapping step counts of several
/// devices into one count per minute, duplicates dropped.
public enum ImportEntry: Sendable, Equatable {
    /// A whole sleep session as the vendor summarised it (Fitbit's sleep log, Oura's sleep period).
    case session(start: Double, end: Double, asleepMinutes: Double?, awakeMinutes: Double?, efficiency: Double?)
    /// A piece of a night (Apple Health's sleep analysis records), merged with its neighbours into sessions.
    case segment(start: Double, end: Double, stage: SleepStage)
    /// Steps counted by one source in one minute: the share of the record [recordStart, recordEnd)
    /// that falls in it (records longer than a minute are spread over their minutes in proportion to
    /// the overlap, by `ImportEntry.steps(from:to:count:source:)`). The record's bounds tell one record
    /// read twice (a repeated file, an export holding the same sample twice) from two records.
    case minuteSteps(minute: Double, source: Int, count: Double, recordStart: Double, recordEnd: Double)
    /// One reading of a `samples` metric.
    case sample(at: Double, metric: String, value: Double)

    /// What a sleep segment says the person was doing.
    public enum SleepStage: String, Sendable, Equatable {
        case inBed = "in-bed"
        case asleep
        case awake
    }

    /// The instant that places the entry on a local day: a session's end (a night belongs to the day
    /// you wake up), a segment's start (its session is placed by its end when merged), a minute, a reading.
    public var instant: Double {
        switch self {
        case .session(_, let end, _, _, _): end
        case .segment(let start, _, _): start
        case .minuteSteps(let minute, _, _, _, _): minute
        case .sample(let at, _, _): at
        }
    }

    /// The longest step record spread over minutes: a day (a longer one is refused, not spread over
    /// a month of minutes).
    public static let longestStepRecord = 86_400.0

    /// A step count over [start, end) spread over the minutes it covers, in proportion to the overlap
    /// (a count with no duration goes to its minute). At most `longestStepRecord` long.
    public static func steps(from start: Double, to end: Double, count: Double, source: Int) -> [ImportEntry] {
        let first = (start / 60).rounded(.down) * 60
        guard end > start else { return [.minuteSteps(minute: first, source: source, count: count, recordStart: start, recordEnd: end)] }
        precondition(end - start <= longestStepRecord, "a step record longer than a day is refused before it is spread")
        var out: [ImportEntry] = []
        var m = first
        while m < end {
            let overlap = min(end, m + 60) - max(start, m)
            if overlap > 0 {
                out.append(.minuteSteps(minute: m, source: source, count: count * overlap / (end - start), recordStart: start, recordEnd: end))
            }
            m += 60
        }
        return out
    }

    /// The instants an export's times may take: 1900-01-01 to 2200-01-01. Outside, a time is a
    /// device's reset clock or a hostile file, refused with a reason (the canonical rows and the
    /// calendar arithmetic stay within four-digit years).
    public static let plausibleInstants: Range<Double> = -2_208_988_800 ..< 7_258_118_400

    /// Refuses an instant outside `plausibleInstants`, naming `field` at `place`.
    public static func checkPlausible(_ t: Double, _ place: String, field: String) throws(ImportRejection) -> Double {
        guard plausibleInstants.contains(t) else {
            throw ImportRejection(place, field: field, "the time is outside 1900..2200")
        }
        return t
    }
}

extension ImportEntry {
    /// The entry as one spool line (no newline), read back by `init(spoolLine:)`: numbers at full precision.
    public var spoolLine: String {
        func n(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        switch self {
        case .session(let s, let e, let a, let w, let f): return "S,\(s),\(e),\(n(a)),\(n(w)),\(n(f))"
        case .segment(let s, let e, let stage): return "G,\(s),\(e),\(stage.rawValue)"
        case .minuteSteps(let m, let source, let c, let rs, let re): return "A,\(m),\(source),\(c),\(rs),\(re)"
        case .sample(let t, let metric, let v): return "M,\(t),\(metric),\(v)"
        }
    }

    /// Reads a spool line back; nil when it is not one `spoolLine` writes.
    public init?(spoolLine line: Substring) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        func d(_ i: Int) -> Double? { i < f.count ? Double(f[i]) : nil }
        func o(_ i: Int) -> Double?? { i < f.count ? (f[i].isEmpty ? .some(nil) : Double(f[i]).map { .some($0) }) : nil }
        switch f.first {
        case "S":
            guard f.count == 6, let s = d(1), let e = d(2), let a = o(3), let w = o(4), let x = o(5) else { return nil }
            self = .session(start: s, end: e, asleepMinutes: a, awakeMinutes: w, efficiency: x)
        case "G":
            guard f.count == 4, let s = d(1), let e = d(2), let stage = SleepStage(rawValue: String(f[3])) else { return nil }
            self = .segment(start: s, end: e, stage: stage)
        case "A":
            guard f.count == 6, let m = d(1), let source = Int(f[2]), let c = d(3), let rs = d(4), let re = d(5) else { return nil }
            self = .minuteSteps(minute: m, source: source, count: c, recordStart: rs, recordEnd: re)
        case "M":
            guard f.count == 4, let t = d(1), let v = d(3), !f[2].isEmpty else { return nil }
            self = .sample(at: t, metric: String(f[2]), value: v)
        default:
            return nil
        }
    }
}

/// A record of a vendor export that was not imported, and why: where it is (a line, or a record of a
/// JSON array), the field, and a reason a person can act on.
public struct ImportRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let location: String
    public let field: String?
    public let reason: String

    public init(_ location: String, field: String?, _ reason: String) {
        self.location = location
        self.field = field
        self.reason = reason
    }

    public var description: String {
        field.map { "\(location): field '\($0)': \(reason)" } ?? "\(location): \(reason)"
    }
}

/// Why a file of an export cannot be read in the profile's layout at all (it names what was expected).
public struct ImportLayoutError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The JSON of the vendor profiles (`FitbitTakeout`, `OuraExport`): parsed whole, one file at a time.
enum ImportJSON {
    /// The file's JSON; a file that is not JSON is a layout error saying what `expected`.
    static func parse(_ data: Data, expected: String) throws(ImportLayoutError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ImportLayoutError("not JSON (\(expected)): \(error.localizedDescription)")
        }
    }

    /// What a JSON value is, for an error.
    static func shape(_ json: Any) -> String {
        switch json {
        case let o as [String: Any]: "an object with keys \(o.keys.sorted().prefix(5).joined(separator: ", "))"
        case is [Any]: "an array"
        case is String: "a string"
        default: "a \(type(of: json))"
        }
    }
}
