import Foundation

/// Reads Oura ring data as the Oura API v2 documents it (`cloud.ouraring.com/v2/docs`), which is what
/// the API returns and what export tools save, into `ImportEntry`s (`canaryctl import --from oura`).
///
/// A file holds either one endpoint's response, `{"data": [...], "next_token": null}`, or an object of
/// several, `{"sleep": [...], "daily_activity": {"data": [...]}, ...}`, or a bare array of records.
/// Each record is recognised by its fields:
/// - **sleep** (`bedtime_start`, `bedtime_end`, with offsets; `type` `long_sleep`, `sleep`,
///   `late_nap`; `rest` and `deleted` periods are skipped): a `sleep` session with
///   `total_sleep_duration` and `awake_time` (seconds) as asleep and awake minutes and `efficiency`
///   (1–100); its `average_hrv` (RMSSD, ms) becomes the `samples` metric `hrv_rmssd` and its
///   `lowest_heart_rate` `resting_heart_rate`, both at the bedtime end; its `heart_rate` series
///   (`{"interval":300,"items":[…],"timestamp":…}`, nulls skipped) becomes `heart_rate`.
/// - **daily_activity** (`day`, `steps`, `class_5_min`): the day's `steps` as the metric `daily_steps`
///   at local noon. Oura counts no steps per minute (its minute series is MET, not a count), so the
///   ring gives Canary no `activity` stream; the day's total is judged as a daily metric.
/// - **daily_readiness** (`day`, `score`, `contributors`): `readiness_score`, and `temperature_deviation` (°C);
///   **daily_sleep** (the same shape, its contributors `total_sleep`, `deep_sleep`, …): `sleep_score`.
/// - **heartrate** (`bpm`, `timestamp`, `source`): `heart_rate`.
public struct OuraExport: Sendable {
    private var clock: ZoneClock

    public init(zone: TimeZone) {
        clock = ZoneClock(zone)
    }

    /// What one file held.
    public struct Counts: Sendable, Equatable {
        public var records = 0
        public var skipped = 0
    }

    /// Reads one file; a record that cannot be imported goes to `rejected` naming its place
    /// (`sleep record 3`). Throws when the file is not in any of the layouts above.
    public mutating func read(_ data: Data, into add: (ImportEntry) -> Void,
                              rejected: (ImportRejection) -> Void) throws(ImportLayoutError) -> Counts {
        let json = try ImportJSON.parse(data, expected: "an Oura export is the API v2's JSON")
        var groups: [(name: String, records: [Any])] = []
        if let array = json as? [Any] {
            groups.append(("", array))
        } else if let object = json as? [String: Any], let data = object["data"] as? [Any] {
            groups.append(("", data))
        } else if let object = json as? [String: Any] {
            for key in object.keys.sorted() {
                if let array = object[key] as? [Any] {
                    groups.append((key, array))
                } else if let inner = object[key] as? [String: Any], let data = inner["data"] as? [Any] {
                    groups.append((key, data))
                }
            }
        }
        guard !groups.isEmpty else {
            throw ImportLayoutError("expected Oura API v2 JSON: {\"data\": [...]} of sleep, daily_activity, daily_readiness, daily_sleep or "
                                    + "heartrate records, or an object of such arrays; found \(ImportJSON.shape(json))")
        }
        var counts = Counts()
        var recognised = false
        for group in groups {
            for (i, any) in group.records.enumerated() {
                let at = group.name.isEmpty ? "record \(i + 1)" : "\(group.name) record \(i + 1)"
                guard let r = any as? [String: Any] else {
                    rejected(ImportRejection(at, field: nil, "not a JSON object"))
                    continue
                }
                do throws(ImportRejection) {
                    switch try record(r, at: at, add: add) {
                    case true: counts.records += 1
                    case false: counts.skipped += 1
                    }
                    recognised = true
                } catch {
                    rejected(error)
                    if error.field != nil { recognised = true }
                }
            }
        }
        if !recognised && groups.contains(where: { !$0.records.isEmpty }) {
            throw ImportLayoutError("no record is an Oura sleep (bedtime_start), daily_activity (day, steps), "
                                    + "daily_readiness (day, score) or heartrate (bpm, timestamp) record")
        }
        return counts
    }

    /// Imports one record; false when it is skipped on purpose (a rest or deleted period). Throws a
    /// rejection with no field when the record is of no kind known here.
    private mutating func record(_ r: [String: Any], at: String, add: (ImportEntry) -> Void) throws(ImportRejection) -> Bool {
        if r["bedtime_start"] != nil {
            let type = r["type"] as? String ?? "sleep"
            if type == "rest" || type == "deleted" { return false }
            let start = try instant(r, "bedtime_start", at: at)
            let end = try instant(r, "bedtime_end", at: at)
            guard end > start else { throw ImportRejection(at, field: "bedtime_end", "the period ends before it starts") }
            let asleep = try number(r, "total_sleep_duration", at: at).map { $0 / 60 }
            let awake = try number(r, "awake_time", at: at).map { $0 / 60 }
            // The whole record is read before any of it is added: a rejected record adds nothing.
            var entries: [ImportEntry] = [.session(start: start, end: end, asleepMinutes: asleep, awakeMinutes: awake,
                                                   efficiency: try number(r, "efficiency", at: at))]
            if let hrv = try number(r, "average_hrv", at: at) { entries.append(.sample(at: end, metric: "hrv_rmssd", value: hrv)) }
            if type == "long_sleep", let low = try number(r, "lowest_heart_rate", at: at) {
                entries.append(.sample(at: end, metric: "resting_heart_rate", value: low))
            }
            if let series = r["heart_rate"] as? [String: Any] {
                try self.series(series, metric: "heart_rate", field: "heart_rate", at: at) { entries.append($0) }
            }
            entries.forEach(add)
            return true
        }
        if r["bpm"] != nil {
            guard let bpm = try number(r, "bpm", at: at) else { throw ImportRejection(at, field: "bpm", "missing") }
            add(.sample(at: try instant(r, "timestamp", at: at), metric: "heart_rate", value: bpm))
            return true
        }
        if r["day"] != nil, r["score"] != nil, r["steps"] == nil {
            let noon = try noon(r, at: at)
            // daily_sleep has the same shape; its contributors name the parts of a night.
            let sleepScore = (r["contributors"] as? [String: Any])?["total_sleep"] != nil
            let score = try number(r, "score", at: at)
            let temperature = try signed(r, "temperature_deviation", at: at)
            if let score { add(.sample(at: noon, metric: sleepScore ? "sleep_score" : "readiness_score", value: score)) }
            if let temperature { add(.sample(at: noon, metric: "temperature_deviation", value: temperature)) }
            return true
        }
        if r["day"] != nil, r["steps"] != nil {
            guard let steps = try number(r, "steps", at: at) else { throw ImportRejection(at, field: "steps", "missing") }
            add(.sample(at: try noon(r, at: at), metric: "daily_steps", value: steps))
            return true
        }
        throw ImportRejection(at, field: nil, "not an Oura sleep, daily_activity, daily_readiness or heartrate record (keys: "
                              + r.keys.sorted().prefix(6).joined(separator: ", ") + ")")
    }

    /// The most readings one series of a record may hold (a night of 5-minute readings is about 100).
    static let longestSeries = 10_000

    /// `{"interval": 300, "items": [...], "timestamp": "..."}`: one reading per interval, nulls skipped.
    private mutating func series(_ s: [String: Any], metric: String, field: String, at: String, add: (ImportEntry) -> Void) throws(ImportRejection) {
        guard let items = s["items"] as? [Any] else { return }
        guard let interval = (s["interval"] as? NSNumber)?.doubleValue, interval > 0, interval <= 3600 else {
            throw ImportRejection(at, field: "\(field).interval", "not a number of seconds in (0, 3600]")
        }
        guard items.count <= Self.longestSeries else {
            throw ImportRejection(at, field: "\(field).items", "more than \(Self.longestSeries) readings")
        }
        let start = try instant(s, "timestamp", at: at, field: "\(field).timestamp")
        _ = try ImportEntry.checkPlausible(start + Double(items.count) * interval, at, field: "\(field).items")
        for (i, item) in items.enumerated() {
            guard let v = (item as? NSNumber)?.doubleValue, v.isFinite, v > 0 else { continue }
            add(.sample(at: start + Double(i) * interval, metric: metric, value: v))
        }
    }

    /// An RFC 3339 instant (`2026-03-01T23:14:07+01:00`); a local one is read in the `--tz` zone.
    private mutating func instant(_ r: [String: Any], _ key: String, at: String, field: String? = nil) throws(ImportRejection) -> Double {
        guard let text = r[key] as? String else { throw ImportRejection(at, field: field ?? key, "missing (expected a date-time such as 2026-03-01T23:14:07+01:00)") }
        switch Array(text.utf8).withUnsafeBufferPointer({ TimestampParser.parse($0) }) {
        case .instant(let t): return try ImportEntry.checkPlausible(t, at, field: field ?? key)
        case .local(let wall): return try ImportEntry.checkPlausible(clock.instant(fromLocal: wall), at, field: field ?? key)
        case nil: throw ImportRejection(at, field: field ?? key, "'\(text.prefix(40))' is not a date-time such as 2026-03-01T23:14:07+01:00")
        }
    }

    /// Local noon of the record's `day` (`2026-03-01`), where a daily value is placed.
    private mutating func noon(_ r: [String: Any], at: String) throws(ImportRejection) -> Double {
        guard let text = r["day"] as? String, text.utf8.count == 10,
              case .local(let wall)? = Array((text + " 12:00").utf8).withUnsafeBufferPointer({ TimestampParser.parse($0) }) else {
            throw ImportRejection(at, field: "day", "expected a date such as 2026-03-01")
        }
        return try ImportEntry.checkPlausible(clock.instant(fromLocal: wall), at, field: "day")
    }

    /// A non-negative number; nil when absent or null (Oura leaves out what it could not measure).
    private func number(_ r: [String: Any], _ key: String, at: String) throws(ImportRejection) -> Double? {
        guard let v = try signed(r, key, at: at) else { return nil }
        guard v >= 0 else { throw ImportRejection(at, field: key, "negative") }
        return v
    }

    private func signed(_ r: [String: Any], _ key: String, at: String) throws(ImportRejection) -> Double? {
        switch r[key] {
        case nil, is NSNull: return nil
        case let n as NSNumber:
            guard n.doubleValue.isFinite else { throw ImportRejection(at, field: key, "not a finite number") }
            return n.doubleValue
        default: throw ImportRejection(at, field: key, "not a number")
        }
    }
}
