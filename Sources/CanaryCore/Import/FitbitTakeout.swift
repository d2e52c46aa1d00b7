import Foundation

/// Reads the JSON files of a Fitbit account export (Google Takeout: `Takeout/Fitbit/Global Export
/// Data/`, the same files as Fitbit's own "export your account archive") into `ImportEntry`s
/// (`canaryctl import --from fitbit-takeout`).
///
/// The files it reads, each a JSON array, found by name (the date is the file's first day):
/// - `sleep-YYYY-MM-DD.json`: sleep logs, naps included: `{"logId":…, "startTime":"2026-03-01T23:12:30.000",
///   "endTime":"2026-03-02T07:05:30.000", "minutesAsleep":420, "minutesAwake":53, "efficiency":93,
///   "mainSleep":true, "levels":{…}}` → `sleep` sessions (asleep and awake minutes, efficiency).
/// - `steps-YYYY-MM-DD.json`: `{"dateTime":"03/01/26 07:31:00","value":"12"}` per minute → `activity`.
/// - `heart_rate-YYYY-MM-DD.json`: `{"dateTime":"03/01/26 07:31:05","value":{"bpm":67,"confidence":2}}`
///   every few seconds → `samples` metric `heart_rate`.
/// - `resting_heart_rate-YYYY-MM-DD.json`: `{"dateTime":"03/01/26 00:00:00","value":{"date":"03/01/26",
///   "value":61.2,"error":5.4}}` daily → `samples` metric `resting_heart_rate` at local noon (a day
///   Fitbit could not estimate has value 0 and is left out).
///
/// Clocks: sleep logs are in the wearer's local time (the device's, without an offset), read in the
/// `--tz` zone. The minute series (`steps`, `heart_rate`) are written in UTC in the account export, as
/// their users report (Fitbit documents neither); `seriesClock` reads them as local time instead.
/// `ImportMerger.ClockCheck` tells which fits: with the clocks read right, the logged sleep sessions
/// line up with the step-free hours.
public struct FitbitTakeout: Sendable {
    /// The files of the export canaryctl reads.
    public enum FileKind: String, Sendable, CaseIterable {
        case sleep
        case steps
        case heartRate = "heart_rate"
        case restingHeartRate = "resting_heart_rate"
    }

    /// How the minute series' `dateTime` is read.
    public enum SeriesClock: String, Sendable, CaseIterable {
        case utc
        case local
    }

    private var clock: ZoneClock
    private let seriesClock: SeriesClock

    public init(zone: TimeZone, seriesClock: SeriesClock = .utc) {
        clock = ZoneClock(zone)
        self.seriesClock = seriesClock
    }

    /// The kind of an export file by its name (`steps-2026-03-01.json`), nil for the files not read.
    public static func kind(ofFileNamed name: String) -> FileKind? {
        guard name.hasSuffix(".json") else { return nil }
        let stem = name.dropLast(5)
        // The date is the last 10 characters, after a dash.
        guard stem.count > 11, stem[stem.index(stem.endIndex, offsetBy: -11)] == "-" else { return nil }
        let prefix = String(stem.dropLast(11))
        return FileKind(rawValue: prefix)
    }

    /// Reads one file's bytes; each record that cannot be imported is passed to `rejected` naming its
    /// index in the array. Throws when the file is not the JSON array its kind has (nothing of it counts then).
    public mutating func read(_ data: Data, kind: FileKind, into add: (ImportEntry) -> Void,
                              rejected: (ImportRejection) -> Void) throws(ImportLayoutError) -> Int {
        let json = try ImportJSON.parse(data, expected: "\(kind.rawValue) files of a Fitbit export are JSON arrays")
        guard let records = json as? [Any] else {
            throw ImportLayoutError("expected a JSON array of \(kind.rawValue) records, as Fitbit's export writes them; found \(ImportJSON.shape(json))")
        }
        // Rejections wait until a record is read: a file none of whose records reads is a changed
        // layout, said once, not a rejection per record.
        var read = 0
        var held: [ImportRejection] = []
        func reject(_ r: ImportRejection) {
            if read == 0 { held.append(r) } else { rejected(r) }
        }
        for (i, any) in records.enumerated() {
            let at = "record \(i + 1)"
            guard let r = any as? [String: Any] else {
                reject(ImportRejection(at, field: nil, "not a JSON object"))
                continue
            }
            do throws(ImportRejection) {
                try record(r, kind: kind, at: at, add: add)
                if read == 0 { held.forEach(rejected) }
                read += 1
            } catch {
                reject(error)
            }
        }
        if read == 0, let first = held.first {
            throw ImportLayoutError("none of its \(held.count) records reads as a \(kind.rawValue) record of Fitbit's export (\(first))")
        }
        return read
    }

    private mutating func record(_ r: [String: Any], kind: FileKind, at: String, add: (ImportEntry) -> Void) throws(ImportRejection) {
        switch kind {
        case .sleep:
            let start = try localTime(r, "startTime", at: at)
            let end = try localTime(r, "endTime", at: at)
            guard end > start else { throw ImportRejection(at, field: "endTime", "the session ends before it starts") }
            add(.session(start: start, end: end, asleepMinutes: try number(r, "minutesAsleep", at: at, optional: true),
                         awakeMinutes: try number(r, "minutesAwake", at: at, optional: true),
                         efficiency: try number(r, "efficiency", at: at, optional: true)))
        case .steps:
            let t = try seriesTime(r, at: at)
            guard let count = try number(r, "value", at: at, optional: false) else { return }
            let minute = (t / 60).rounded(.down) * 60
            add(.minuteSteps(minute: minute, source: 0, count: count, recordStart: minute, recordEnd: minute + 60))
        case .heartRate:
            let t = try seriesTime(r, at: at)
            guard let value = r["value"] as? [String: Any], let bpm = try number(value, "bpm", at: at, optional: false) else {
                throw ImportRejection(at, field: "value", "expected {\"bpm\": …}")
            }
            add(.sample(at: t, metric: "heart_rate", value: bpm))
        case .restingHeartRate:
            guard let value = r["value"] as? [String: Any], let v = try number(value, "value", at: at, optional: true) else {
                throw ImportRejection(at, field: "value", "expected {\"date\": …, \"value\": …}")
            }
            guard v > 0 else { return }
            let day = try seriesDate(r, at: at)
            add(.sample(at: clock.instant(fromLocal: Double(day) * 86_400 + 12 * 3600), metric: "resting_heart_rate", value: v))
        }
    }

    /// `2026-03-01T23:12:30.000`: the wearer's local time.
    private mutating func localTime(_ r: [String: Any], _ key: String, at: String) throws(ImportRejection) -> Double {
        guard let text = r[key] as? String else { throw ImportRejection(at, field: key, "missing (expected a local date-time such as 2026-03-01T23:12:30.000)") }
        switch Array(text.utf8).withUnsafeBufferPointer({ TimestampParser.parse($0) }) {
        case .local(let wall): return try ImportEntry.checkPlausible(clock.instant(fromLocal: wall), at, field: key)
        case .instant(let t): return try ImportEntry.checkPlausible(t, at, field: key)
        case nil: throw ImportRejection(at, field: key, "'\(text.prefix(40))' is not a date-time such as 2026-03-01T23:12:30.000")
        }
    }

    /// `03/01/26 07:31:05` (month/day/two-digit year), in UTC or local time as `seriesClock` says.
    private mutating func seriesTime(_ r: [String: Any], at: String) throws(ImportRejection) -> Double {
        guard let text = r["dateTime"] as? String, let wall = Self.seriesWall(text) else {
            throw ImportRejection(at, field: "dateTime", "expected MM/dd/yy HH:mm:ss, as Fitbit's export writes it")
        }
        return seriesClock == .utc ? wall : clock.instant(fromLocal: wall)
    }

    private func seriesDate(_ r: [String: Any], at: String) throws(ImportRejection) -> Int {
        guard let text = r["dateTime"] as? String, let wall = Self.seriesWall(text) else {
            throw ImportRejection(at, field: "dateTime", "expected MM/dd/yy HH:mm:ss, as Fitbit's export writes it")
        }
        return Int((wall / 86_400).rounded(.down))
    }

    /// Wall-clock seconds (as if UTC) of `MM/dd/yy HH:mm:ss`.
    static func seriesWall(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let d = parts[0].split(separator: "/")
        guard d.count == 3, let month = Int(d[0]), let day = Int(d[1]), let yy = Int(d[2]), d[2].count == 2,
              (1...12).contains(month), day >= 1, day <= TimestampParser.daysIn(month: month, year: 2000 + yy),
              let t = ActiGraphCSV.time(parts[1]) else { return nil }
        return Double(TimestampParser.daysFromCivil(year: 2000 + yy, month: month, day: day)) * 86_400 + Double(t.0 * 3600 + t.1 * 60 + t.2)
    }

    /// A number, or a string holding one (Fitbit writes step counts as strings); nil when absent and optional.
    private func number(_ r: [String: Any], _ key: String, at: String, optional: Bool) throws(ImportRejection) -> Double? {
        let v: Double?
        switch r[key] {
        case let n as NSNumber: v = n.doubleValue
        case let s as String: v = Double(s)
        case nil, is NSNull:
            if optional { return nil }
            throw ImportRejection(at, field: key, "missing")
        default: v = nil
        }
        guard let v, v.isFinite, v >= 0 else { throw ImportRejection(at, field: key, "not a non-negative number") }
        return v
    }
}
