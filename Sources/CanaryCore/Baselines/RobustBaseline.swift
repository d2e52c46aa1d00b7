/// Median/MAD baseline over a trailing window of a feature's past periods, excluding the period under test.
///
/// Clock-time features are unwrapped around their circular mean first, so 23:50 and 00:10 are
/// 20 minutes apart. With weekday adjustment, the centre is the median of the same weekday once
/// enough of those exist in the window.
public struct RobustBaseline: Sendable {
    public var settings: BaselineSettings

    public init(settings: BaselineSettings) {
        self.settings = settings
    }

    /// Evaluates `value` for `period` against `history` (period index → value, older periods only are used).
    /// Returns nil while there is too little history (fewer than `minHistory` days with a value). `weekday` maps a period to its weekday (or nil for non-daily periods).
    public func evaluate(value: Double, period: Int, history: FeatureHistory, circular: Bool,
                         floorAbsolute: Double, floorRelative: Double,
                         window: Int? = nil, minHistory: Int? = nil, periodsPerDay: Int = 1,
                         weekday: ((Int) -> Int)? = nil) -> Deviation? {
        let window = window ?? settings.windowDays
        let minHistory = minHistory ?? settings.minHistoryDays
        let past = history.values(from: period - window, before: period)
        // Minimum history counts days with data, whatever the period: an hourly metric measured a few
        // hours a day is scored after `minHistory` such days, as a daily one is.
        let days = periodsPerDay == 1 ? past.count : Set(past.map { Int((Double($0.period) / Double(periodsPerDay)).rounded(.down)) }).count
        guard days >= max(1, minHistory) else { return nil }
        var values = past.map(\.value)
        var anchor = 0.0
        if circular {
            anchor = RobustStatistics.circularMean(values) ?? values[0]
            values = values.map { anchor + RobustStatistics.circularDifference($0, anchor) }
        }
        guard var centre = RobustStatistics.median(values) else { return nil }
        let mad = RobustStatistics.mad(values, around: centre) ?? 0
        if settings.weekdayAdjust, let weekday {
            let wd = weekday(period)
            let same = zip(past, values).filter { weekday($0.0.period) == wd }.map(\.1)
            if same.count >= settings.weekdayMinSamples, let m = RobustStatistics.median(same) { centre = m }
        }
        let scale = ScaleFloor.apply(Saturating.finite(mad * RobustStatistics.madToSigma), centre: centre,
                                     absolute: floorAbsolute, relative: floorRelative, circular: circular)
        let diff: Double
        if circular {
            diff = RobustStatistics.circularDifference(value, centre)
            centre = RobustStatistics.wrap(centre)
        } else {
            diff = Saturating.finite(value - centre)
        }
        guard scale > 0 else {
            // A flat history with no floor: any change is infinitely surprising; report nothing rather than ±inf.
            return nil
        }
        return Deviation(value: value, centre: centre, scale: scale, z: Saturating.finite(diff / scale))
    }
}
