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
        let whole = t.rounded(.down)
        let d = Int((whole / 86_400).rounded(.down))
        let secs = Int(whole) - d * 86_400
        let ms = min(999, Int(((t - whole) * 1000).rounded()))
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
