/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an IMF-fixdate, read defensively. The value
/// comes from a peer: whatever its length, digits or date fields, reading it never traps, and what
/// it yields is a finite, non-negative number of seconds below `maxSeconds` (or nil when unreadable,
/// and the normal backoff applies). `DeliveryPolicy` then clamps it to `backoff_max`.
public enum RetryAfter {
    /// Longer values are not read at all; an IMF-fixdate is 29 bytes.
    public static let maxLength = 64
    /// Delay-seconds saturate here (about 31 years): "very long" is representable, overflow is not.
    public static let maxSeconds: Double = 1_000_000_000

    /// Seconds from `now`, or nil when the header is absent or unreadable. A date in the past is 0.
    public static func seconds(_ header: String?, now: Double) -> Double? {
        guard let header else { return nil }
        var bytes = header.utf8[...]
        // Optional whitespace around a field value (SP and HTAB only).
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        guard !bytes.isEmpty, bytes.count <= maxLength else { return nil }
        let value = Array(bytes)
        if value.allSatisfy(isDigit) {
            // More than 10 digits is past `maxSeconds` whatever they are: saturate without converting.
            guard value.count <= 10 else { return maxSeconds }
            let n = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return min(Double(n), maxSeconds)
        }
        guard let date = httpDate(value), now.isFinite else { return nil }
        return min(max(0, date - now), maxSeconds)
    }

    /// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, as epoch seconds. Every field has its fixed
    /// width and range, so no arithmetic on it can overflow.
    static func httpDate(_ b: [UInt8]) -> Double? {
        guard b.count == 29, b[3] == UInt8(ascii: ","), b[4] == 0x20, b[7] == 0x20, b[11] == 0x20, b[16] == 0x20,
              b[19] == UInt8(ascii: ":"), b[22] == UInt8(ascii: ":"), b[25] == 0x20,
              Array(b[26..<29]) == Array("GMT".utf8),
              dayNames.contains(Array(b[0..<3])),
              let monthIndex = monthNames.firstIndex(of: Array(b[8..<11])),
              let day = number(b, 5, 2), (1...31).contains(day),
              let year = number(b, 12, 4),
              let hour = number(b, 17, 2), hour <= 23,
              let minute = number(b, 20, 2), minute <= 59,
              let second = number(b, 23, 2), second <= 60
        else { return nil }
        return Double(TimestampParser.daysFromCivil(year: year, month: monthIndex + 1, day: day)) * 86_400
            + Double(hour * 3600 + minute * 60 + second)
    }

    private static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map { Array($0.utf8) }
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Exactly `width` ASCII digits at `start` (width ≤ 4, so the value is small).
    private static func number(_ b: [UInt8], _ start: Int, _ width: Int) -> Int? {
        var n = 0
        for c in b[start..<(start + width)] {
            guard isDigit(c) else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }
}
