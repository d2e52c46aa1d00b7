/// Maps the `<Record>` elements of an Apple Health `export.xml` (the Health app's "Export All Health
/// Data") to `ImportEntry`s (`canaryctl import --from apple-health`); the XML itself is read by a
/// streaming parser in the shell, one element at a time.
///
/// A record: `<Record type="HKQuantityTypeIdentifierStepCount" sourceName="Eli's Watch" unit="count"
/// startDate="2026-03-01 07:50:00 +0100" endDate="2026-03-01 07:55:00 +0100" value="123"/>` (dates
/// carry their offset). What is read:
/// - `HKQuantityTypeIdentifierStepCount` (count) → `activity` steps, spread over the minutes the
///   record covers; overlapping sources (phone and watch) are merged per minute by `ImportMerger`.
/// - `HKCategoryTypeIdentifierSleepAnalysis`, value `HKCategoryValueSleepAnalysisInBed`, `…Asleep`,
///   `…AsleepUnspecified`, `…AsleepCore`, `…AsleepDeep`, `…AsleepREM` or `…Awake` → sleep segments,
///   chained into sessions by `ImportMerger`.
/// - `HKQuantityTypeIdentifierHeartRate` (count/min) → `samples` metric `heart_rate`;
///   `HKQuantityTypeIdentifierRestingHeartRate` → `resting_heart_rate`;
///   `HKQuantityTypeIdentifierHeartRateVariabilitySDNN` (ms) → `hrv_sdnn`.
/// Every other record type (energy, distance, workouts, …) is left out.
public struct AppleHealthRecords: Sendable {
    /// Step sources by name: each device counts on its own, merged per minute.
    private var sources: [String: Int] = [:]
    /// Records read, by what they became.
    public private(set) var read = 0

    public init() {}

    static let sleepType = "HKCategoryTypeIdentifierSleepAnalysis"
    static let metrics: [String: (metric: String, units: [String: Double])] = [
        "HKQuantityTypeIdentifierHeartRate": ("heart_rate", ["count/min": 1, "count/s": 60]),
        "HKQuantityTypeIdentifierRestingHeartRate": ("resting_heart_rate", ["count/min": 1, "count/s": 60]),
        "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": ("hrv_sdnn", ["ms": 1, "s": 1000]),
    ]

    /// Whether records of `type` are imported (the others are skipped before their attributes are read).
    public static func reads(type: String) -> Bool {
        type == "HKQuantityTypeIdentifierStepCount" || type == sleepType || metrics[type] != nil
    }

    /// One `<Record>`'s attributes; `place` names it in a rejection (`record 12, line 40`).
    public mutating func record(_ a: [String: String], place at: String, add: (ImportEntry) -> Void,
                                rejected: (ImportRejection) -> Void) {
        guard let type = a["type"], Self.reads(type: type) else { return }
        do throws(ImportRejection) {
            let start = try Self.date(a, "startDate", at: at)
            let end = try Self.date(a, "endDate", at: at)
            guard end >= start else { throw ImportRejection(at, field: "endDate", "the record ends before it starts") }
            if type == Self.sleepType {
                let stage: ImportEntry.SleepStage
                switch a["value"] ?? "" {
                case "HKCategoryValueSleepAnalysisInBed": stage = .inBed
                case "HKCategoryValueSleepAnalysisAwake": stage = .awake
                case let v where v.hasPrefix("HKCategoryValueSleepAnalysisAsleep"): stage = .asleep
                case let v: throw ImportRejection(at, field: "value", "'\(v.prefix(60))' is not a sleep analysis value (InBed, Asleep…, Awake)")
                }
                guard end > start else { return }
                add(.segment(start: start, end: end, stage: stage))
            } else if type == "HKQuantityTypeIdentifierStepCount" {
                let count = try Self.value(a, at: at)
                guard end - start <= ImportEntry.longestStepRecord else {
                    throw ImportRejection(at, field: "endDate", "a step count over more than a day cannot be placed in minutes")
                }
                let source = a["sourceName"] ?? ""
                let id = sources[source] ?? sources.count
                sources[source] = id
                for e in ImportEntry.steps(from: start, to: end, count: count, source: id) { add(e) }
            } else if let m = Self.metrics[type] {
                let unit = a["unit"] ?? ""
                guard let scale = m.units[unit] else {
                    throw ImportRejection(at, field: "unit", "'\(unit.prefix(20))' is not a unit of \(m.metric) read here (\(m.units.keys.sorted().joined(separator: ", ")))")
                }
                add(.sample(at: start, metric: m.metric, value: try Self.value(a, at: at) * scale))
            }
            read += 1
        } catch {
            rejected(error)
        }
    }

    /// `2026-03-01 07:50:00 +0100`.
    static func date(_ a: [String: String], _ key: String, at: String) throws(ImportRejection) -> Double {
        guard var text = a[key] else { throw ImportRejection(at, field: key, "missing") }
        // The offset follows a space; RFC 3339 puts it right after the seconds.
        if text.utf8.count == 25, let space = text.lastIndex(of: " ") { text.remove(at: space) }
        guard case .instant(let t)? = Array(text.utf8).withUnsafeBufferPointer({ TimestampParser.parse($0) }) else {
            throw ImportRejection(at, field: key, "'\(a[key]!.prefix(40))' is not a date such as 2026-03-01 07:50:00 +0100")
        }
        return try ImportEntry.checkPlausible(t, at, field: key)
    }

    static func value(_ a: [String: String], at: String) throws(ImportRejection) -> Double {
        guard let text = a["value"], let v = Double(text), v.isFinite, v >= 0 else {
            throw ImportRejection(at, field: "value", "not a non-negative number")
        }
        return v
    }
}
