import Foundation

/// Reads an Actiware CSV export of a Philips Respironics Actiwatch (`canaryctl import --from
/// actiwatch`), one line at a time, into Canary's `activity` rows.
///
/// The layout: a first line naming Actiware (`"Actiware Export File"`), header sections of quoted
/// `"Key:","Value"` lines and statistics, then the epoch-by-epoch section, whose column header starts
/// with `"Line","Date","Time"` and names `"Activity"` (Actiware adds `"Off-Wrist Status"`, `"Marker"`,
/// light, `"Sleep/Wake"` and `"Interval Status"` columns, in an order that varies by version: they are
/// found by name). One row per epoch: `"1","3/1/2026","12:00:00 PM",...` (12- or 24-hour times).
/// Epochs marked off-wrist, or whose activity is `NaN` or empty, are left out: non-wear stays missing
/// data, never zero activity. Times are the device's clock, converted with the zone's offset at the
/// first epoch (the clock does not follow daylight saving).
public struct ActiwatchCSV: EpochExport {
    private let zone: TimeZone
    private var sawName = false
    private var columns: (date: Int, time: Int, activity: Int, offWrist: Int?, total: Int)?
    private var offset: Double?

    public init(zone: TimeZone) {
        self.zone = zone
    }

    public mutating func feed(_ line: Substring, number: Int) throws(ActiGraphCSV.LayoutError) -> ActiGraphCSV.Event {
        let text = line.hasSuffix("\r") ? line.dropLast() : line
        if number == 1 {
            guard text.contains("Actiware") else {
                throw ActiGraphCSV.LayoutError(line: 1, reason: "expected an Actiware CSV export, whose first line names Actiware "
                                               + "(\"Actiware Export File\"); found '\(text.prefix(60))'")
            }
            sawName = true
            return .none
        }
        let cells = Self.cells(text)
        guard let c = columns else {
            if cells.first == "Line", cells.count > 3, cells[1] == "Date", cells[2] == "Time" {
                guard let activity = cells.firstIndex(of: "Activity") else {
                    throw ActiGraphCSV.LayoutError(line: number, reason: "the epoch-by-epoch column header has no \"Activity\" column")
                }
                columns = (1, 2, activity, cells.firstIndex(of: "Off-Wrist Status"), cells.count)
            }
            return .none
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return .none }
        guard cells.count == c.total else {
            return .rejected(RowError(line: number, field: nil, kind: .wrongColumnCount,
                                      reason: "expected \(c.total) fields as the epoch-by-epoch column header names, found \(cells.count)"))
        }
        guard let day = ActiGraphCSV.date(Substring(cells[c.date]), format: "M/d/yyyy"), let time = Self.time(cells[c.time]) else {
            return .rejected(RowError(line: number, field: "Date", kind: .badTimestamp,
                                      reason: "expected the date as M/d/yyyy and the time as h:mm:ss AM/PM or HH:mm:ss"))
        }
        if let w = c.offWrist, cells[w] == "1" { return .none }
        let value = cells[c.activity]
        if value.isEmpty || value.lowercased() == "nan" { return .none }
        guard let count = Double(value), count.isFinite, count >= 0 else {
            return .rejected(RowError(line: number, field: "Activity", kind: .notANumber, reason: "the activity is not a non-negative number"))
        }
        let wall = Double(TimestampParser.daysFromCivil(year: day.year, month: day.month, day: day.day)) * 86_400 + time
        if offset == nil {
            var clock = ZoneClock(zone)
            offset = wall - clock.instant(fromLocal: wall)
        }
        return .epoch(ActiGraphCSV.Epoch(instant: wall - offset!, count: count))
    }

    /// The end of the input: an export without its epoch-by-epoch section is not Actiware's layout.
    public func finish(lines: Int) throws(ActiGraphCSV.LayoutError) {
        if sawName && columns == nil {
            throw ActiGraphCSV.LayoutError(line: lines, reason: "no epoch-by-epoch section: expected a column header \"Line\",\"Date\",\"Time\",...,\"Activity\"")
        }
    }

    /// The cells of a CSV line, quotes removed (Actiware quotes every cell; none holds a comma).
    static func cells(_ text: Substring) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }

    /// Seconds after midnight of `h:mm:ss AM/PM` or `HH:mm:ss`.
    static func time(_ text: String) -> Double? {
        var t = text.uppercased()
        var pm: Bool?
        if t.hasSuffix(" AM") || t.hasSuffix(" PM") {
            pm = t.hasSuffix(" PM")
            t = String(t.dropLast(3))
        }
        guard let hms = ActiGraphCSV.time(Substring(t)) else { return nil }
        var h = hms.0
        if let pm {
            guard (1...12).contains(h) else { return nil }
            h = h % 12 + (pm ? 12 : 0)
        }
        return Double(h * 3600 + hms.1 * 60 + hms.2)
    }
}

/// A vendor's epoch export read line by line (`ActiGraphCSV`, `ActiwatchCSV`).
public protocol EpochExport {
    mutating func feed(_ line: Substring, number: Int) throws(ActiGraphCSV.LayoutError) -> ActiGraphCSV.Event
    /// Called after the last line: throws when the input ended before the layout was complete.
    func finish(lines: Int) throws(ActiGraphCSV.LayoutError)
}

extension ActiGraphCSV: EpochExport {
    public func finish(lines: Int) throws(ActiGraphCSV.LayoutError) {}
}
