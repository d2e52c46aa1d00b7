/// Reads the timestamp forms Canary accepts: Unix epoch seconds (integer or fractional),
/// RFC 3339 with an offset (`2024-03-05T07:30:00+01:00`, `...Z`), and a local date-time without
/// an offset (`2024-03-05 07:30:00`), which the caller resolves in the subject's time zone.
enum TimestampParser {
    /// A parsed timestamp: either an instant, or a wall-clock time that still needs a zone.
    enum Parsed: Equatable {
        case instant(Double)
        case local(Double)
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Parsed? {
        let n = b.count
        guard n > 0 else { return nil }
        // Epoch seconds: digits with an optional fraction, and plausibly sized (1973-03-03 .. 2286-11-20),
        // so that a date such as 20260305 or a bare year is not read as a moment in 1970.
        if n < 5 || b[4] != UInt8(ascii: "-") {
            guard let v = NumberParser.double(b), v >= 100_000_000, v < 10_000_000_000 else { return nil }
            return .instant(v)
        }
        guard n >= 16 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= n else { return nil }
            var v = 0
            for i in start..<(start + count) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59 else { return nil }
        var i = 16
        var seconds = 0.0
        if i < n && b[i] == UInt8(ascii: ":") {
            guard let s = digits(i + 1, 2), s <= 60 else { return nil }
            seconds = Double(min(s, 59))
            i += 3
            if i < n && (b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",")) {
                i += 1
                var scale = 0.1
                let start = i
                while i < n, b[i] >= 48, b[i] <= 57 {
                    seconds += Double(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        let wall = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
            + Double(hour * 3600 + minute * 60) + seconds
        if i == n { return .local(wall) }
        let c = b[i]
        if (c == UInt8(ascii: "Z") || c == UInt8(ascii: "z")) && i + 1 == n { return .instant(wall) }
        guard c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else { return nil }
        guard let oh = digits(i + 1, 2), oh <= 23 else { return nil }
        var om = 0
        if i + 3 == n {
            om = 0
        } else if i + 6 == n, b[i + 3] == UInt8(ascii: ":"), let m = digits(i + 4, 2), m <= 59 {
            om = m
        } else if i + 5 == n, let m = digits(i + 3, 2), m <= 59 {
            om = m
        } else {
            return nil
        }
        let offset = Double(oh * 3600 + om * 60) * (c == UInt8(ascii: "-") ? -1 : 1)
        return .instant(wall - offset)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (inverse of `daysFromCivil`).
    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
