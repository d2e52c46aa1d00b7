import Foundation

/// Reads an ActiLife CSV export of an ActiGraph device (`canaryctl import --from actigraph-csv`), one
/// line at a time, into Canary's `activity` rows (vertical-axis counts, `Axis1`, per epoch).
///
/// The layout, as ActiLife writes it: a header block of ten lines,
///
///     ------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.4 Firmware v3.2.1 date format M/d/yyyy at 30 Hz  Filter Normal -----------
///     Serial Number: MOS2E22180349
///     Start Time 00:00:00
///     Start Date 3/28/2026
///     Epoch Period (hh:mm:ss) 00:01:00
///     Download Time 09:12:44
///     Download Date 4/2/2026
///     Current Memory Address: 0
///     Current Battery Voltage: 4.14     Mode = 61
///     --------------------------------------------------
///
/// then either a column header (`Date,Time,Axis1,Axis2,Axis3,Steps,...`) and rows with the epoch's
/// date and time, or, exported without column headers, rows of counts only (`Axis1,Axis2,Axis3,...`),
/// whose epochs follow from the start and the epoch period. Times are the device's clock: set once
/// at initialisation, it does not follow daylight saving, so every epoch is converted with the zone's
/// offset at the start of the recording (a recording across a DST change stays one epoch per period,
/// with no hour missing or doubled). Counts of the other axes, steps and lux are not used.
public struct ActiGraphCSV: Sendable {
    /// One epoch: its instant (epoch seconds, UTC) and its count.
    public struct Epoch: Sendable, Equatable {
        public var instant: Double
        public var count: Double
    }

    /// What one line came to.
    public enum Event: Sendable, Equatable {
        case epoch(Epoch)
        /// A line that is not an epoch (part of the header): nothing to write.
        case none
        case rejected(RowError)
    }

    /// Why the file cannot be read as an ActiLife export at all (it is not one, or its header is changed).
    public struct LayoutError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    private let zone: TimeZone
    private var dateFormat: String?
    private var startTime: (Int, Int, Int)?
    private var startDate: (year: Int, month: Int, day: Int)?
    private var epochSeconds: Double?
    private var headerDone = false
    private var columns: (date: Int, time: Int, count: Int, total: Int)?
    /// Without column headers: the index of the next epoch.
    private var index = 0
    /// The zone's offset at the start of the recording (device time is that wall clock).
    private var offset: Double = 0
    private var start: Double = 0

    public init(zone: TimeZone) {
        self.zone = zone
    }

    /// One line (without its newline); `number` is 1-based. Throws when the header is not ActiLife's.
    public mutating func feed(_ line: Substring, number: Int) throws(LayoutError) -> Event {
        let text = line.hasSuffix("\r") ? line.dropLast() : line
        if number == 1 {
            guard text.hasPrefix("------------ Data File Created By ActiGraph") else {
                throw LayoutError(line: 1, reason: "expected an ActiLife CSV export, whose first line starts with "
                                  + "'------------ Data File Created By ActiGraph'; found '\(text.prefix(60))'")
            }
            if let r = text.range(of: "date format ") {
                dateFormat = text[r.upperBound...].split(separator: " ").first.map(String.init)
            }
            return .none
        }
        if !headerDone {
            try header(text, number: number)
            return .none
        }
        if columns == nil && index == 0 && text.lowercased().hasPrefix("date,time,") {
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let date = names.firstIndex(of: "date"), let time = names.firstIndex(of: "time"),
                  let count = names.firstIndex(of: "axis1") ?? names.firstIndex(of: "activity") else {
                throw LayoutError(line: number, reason: "the column header has no Date, Time and Axis1 columns: '\(text.prefix(80))'")
            }
            columns = (date, time, count, names.count)
            return .none
        }
        if text.isEmpty { return .none }
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        if let c = columns {
            guard fields.count == c.total else {
                return .rejected(RowError(line: number, field: nil, kind: .wrongColumnCount,
                                          reason: "expected \(c.total) fields as the column header names, found \(fields.count)"))
            }
            guard let count = Self.count(fields[c.count]) else {
                return .rejected(RowError(line: number, field: "Axis1", kind: .notANumber, reason: "the count is not a non-negative number"))
            }
            guard let day = Self.date(fields[c.date], format: dateFormat ?? "M/d/yyyy"), let time = Self.time(fields[c.time]) else {
                return .rejected(RowError(line: number, field: "Date", kind: .badTimestamp,
                                          reason: "expected the date as \(dateFormat ?? "M/d/yyyy") and the time as HH:mm:ss"))
            }
            let wall = Double(TimestampParser.daysFromCivil(year: day.year, month: day.month, day: day.day)) * 86_400
                + Double(time.0 * 3600 + time.1 * 60 + time.2)
            return .epoch(Epoch(instant: wall - offset, count: count))
        }
        // A rejected row still takes its epoch's slot: the rows after it keep their times.
        defer { index += 1 }
        guard let count = Self.count(fields[0]) else {
            return .rejected(RowError(line: number, field: "Axis1", kind: .notANumber, reason: "the count is not a non-negative number"))
        }
        return .epoch(Epoch(instant: start + Double(index) * (epochSeconds ?? 60), count: count))
    }

    private mutating func header(_ text: Substring, number: Int) throws(LayoutError) {
        if text.hasPrefix("Start Time ") {
            guard let t = Self.time(text.dropFirst("Start Time ".count)) else {
                throw LayoutError(line: number, reason: "the start time is not HH:mm:ss: '\(text)'")
            }
            startTime = t
        } else if text.hasPrefix("Start Date ") {
            guard let d = Self.date(text.dropFirst("Start Date ".count), format: dateFormat ?? "M/d/yyyy") else {
                throw LayoutError(line: number, reason: "the start date is not in the file's date format \(dateFormat ?? "M/d/yyyy"): '\(text)'")
            }
            startDate = d
        } else if text.hasPrefix("Epoch Period (hh:mm:ss) ") {
            guard let t = Self.time(text.dropFirst("Epoch Period (hh:mm:ss) ".count)), t.0 * 3600 + t.1 * 60 + t.2 > 0 else {
                throw LayoutError(line: number, reason: "the epoch period is not hh:mm:ss: '\(text)'")
            }
            epochSeconds = Double(t.0 * 3600 + t.1 * 60 + t.2)
        } else if text.hasPrefix("-----") {
            guard let startTime, let startDate, epochSeconds != nil else {
                throw LayoutError(line: number, reason: "the header block ended without 'Start Time', 'Start Date' and 'Epoch Period (hh:mm:ss)'")
            }
            let wall = Double(TimestampParser.daysFromCivil(year: startDate.year, month: startDate.month, day: startDate.day)) * 86_400
                + Double(startTime.0 * 3600 + startTime.1 * 60 + startTime.2)
            var clock = ZoneClock(zone)
            start = clock.instant(fromLocal: wall)
            offset = wall - start
            headerDone = true
        } else if number > 12 {
            throw LayoutError(line: number, reason: "the header block did not end with a line of dashes by line 12")
        }
    }

    private static func count(_ field: Substring) -> Double? {
        guard let v = Double(field.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0 else { return nil }
        return v
    }

    /// `HH:mm:ss`.
    static func time(_ field: Substring) -> (Int, Int, Int)? {
        let parts = field.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard parts.count == 3, let h = Int(parts[0]), let m = Int(parts[1]), let s = Int(parts[2]),
              (0..<24).contains(h), (0..<60).contains(m), (0..<60).contains(s) else { return nil }
        return (h, m, s)
    }

    /// A date in ActiLife's `date format` (`M/d/yyyy`, `d/M/yyyy`, `dd/MM/yyyy`, `yyyy-MM-dd`, ...).
    static func date(_ field: Substring, format: String) -> (year: Int, month: Int, day: Int)? {
        let separators = CharacterSet(charactersIn: "/.-")
        let names = format.components(separatedBy: separators)
        let values = field.trimmingCharacters(in: .whitespaces).components(separatedBy: separators)
        guard names.count == 3, values.count == 3 else { return nil }
        var y: Int?, m: Int?, d: Int?
        for (name, value) in zip(names, values) {
            guard let n = Int(value) else { return nil }
            switch name.first {
            case "y": y = n
            case "M": m = n
            case "d": d = n
            default: return nil
            }
        }
        guard let y, let m, let d, (1...12).contains(m), (1...TimestampParser.daysIn(month: m, year: y)).contains(d) else { return nil }
        return (y, m, d)
    }
}

extension ActiGraphCSV {
    /// `2026-03-28T00:01:00Z` (whole seconds; milliseconds when the instant, rounded to the
    /// millisecond, has a fraction). Written digit by digit: an import writes one per row. For years
    /// 0 to 9999 (the importers refuse times outside `ImportEntry.plausibleInstants`).
    public static func isoUTC(_ t: Double) -> String {
        let ms = (t * 1000).rounded()
        let whole = (ms / 1000).rounded(.down)
        let millis = Int(ms - whole * 1000)
        let days = Int((whole / 86_400).rounded(.down))
        let secs = Int(whole) - days * 86_400
        let (y, m, d) = TimestampParser.civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 32) { b in
            var i = 0
            func put(_ v: Int, _ width: Int) {
                var v = v
                for k in stride(from: width - 1, through: 0, by: -1) {
                    b[i + k] = UInt8(48 + v % 10)
                    v /= 10
                }
                i += width
            }
            func put(_ c: Unicode.Scalar) {
                b[i] = UInt8(ascii: c)
                i += 1
            }
            put(y, 4); put("-"); put(m, 2); put("-"); put(d, 2); put("T")
            put(secs / 3600, 2); put(":"); put(secs / 60 % 60, 2); put(":"); put(secs % 60, 2)
            if millis > 0 {
                put(".")
                put(millis, 3)
            }
            put("Z")
            return i
        }
    }
}
