/// Labels and weekdays of periods on a subject's calendar (formatted by hand: this is on hot paths).
enum PeriodLabel {
    static func day(_ index: Int) -> String {
        let c = TimestampParser.civil(fromDays: index)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
    }

    static func hour(_ localHour: Int) -> String {
        let d = Int((Double(localHour) / 24).rounded(.down))
        return day(d) + "T" + pad(localHour - d * 24, 2) + ":00"
    }

    /// An instant as RFC 3339 UTC, with milliseconds only when needed.
    static func instant(_ t: Double) -> String {
        let totalMs = Int((t * 1000).rounded())
        let wholeSeconds = Int((Double(totalMs) / 1000).rounded(.down))
        let ms = totalMs - wholeSeconds * 1000
        let d = Int((Double(wholeSeconds) / 86_400).rounded(.down))
        let secs = wholeSeconds - d * 86_400
        let base = day(d) + "T" + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2)
        return ms == 0 ? base + "Z" : base + "." + pad(ms, 3) + "Z"
    }

    /// 0 = Monday ... 6 = Sunday, for a local day index.
    static func weekday(_ index: Int) -> Int {
        ((index + 3) % 7 + 7) % 7
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
