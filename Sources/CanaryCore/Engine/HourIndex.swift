/// Hour periods of hourly metrics, counted by the instant, labelled by the local wall clock.
///
/// A local hour starts where the local time is a whole hour. Offsets differ from UTC by whole hours
/// in most zones and by a fixed fraction in the rest (+05:30, +05:45), so the number of whole hours
/// since the epoch, shifted by that fraction, numbers local hours without ever merging two: on the
/// day clocks go back, the repeated hour is two periods with two labels (`…T02:00+02:00` and
/// `…T02:00+01:00`), not one period holding two hours of data.
enum HourIndex {
    /// The hour period holding `instant`.
    static func of(_ instant: Double, clock: inout ZoneClock) -> Int {
        Int(((instant + fraction(clock.offset(at: instant))) / 3600).rounded(.down))
    }

    /// The instant the hour period starts.
    static func start(_ hour: Int, clock: inout ZoneClock) -> Double {
        let guess = Double(hour) * 3600
        return guess - fraction(clock.offset(at: guess))
    }

    /// `2026-10-25T02:00+01:00`: the local start of the hour, with its offset from UTC.
    static func label(_ hour: Int, clock: inout ZoneClock) -> String {
        let start = start(hour, clock: &clock)
        let offset = clock.offset(at: start)
        let local = Int(((start + Double(offset)) / 3600).rounded(.down))
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return PeriodLabel.hour(local) + sign + pad(minutes / 60) + ":" + pad(minutes % 60)
    }

    private static func fraction(_ offset: Int) -> Double {
        Double(((offset % 3600) + 3600) % 3600)
    }

    private static func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
