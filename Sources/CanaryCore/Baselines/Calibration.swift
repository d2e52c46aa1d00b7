/// Calibrates a robust z by the person's own recent spread of z.
///
/// The median/MAD scale describes the bulk of a person's days; real days have heavier tails (a day off,
/// a night out, a watch left on the charger half the day), so on ordinary days the robust z of many
/// features spreads 1.5-2 times wider than a standard normal and every rule tuned for N(0, 1) fires
/// several times more often than its threshold says. Calibration divides z by the root mean square of
/// the feature's past z-scores over the baseline window (each clipped to ±4, so an earlier episode
/// cannot inflate it), never by less than 1: a person whose days vary more needs a larger move to be
/// flagged, and the scale reported grows by the same factor, so value, usual and z stay consistent.
enum Calibration {
    static let clip = 4.0

    /// `d` calibrated by the z-scores of the periods before `period` in `history`, which then records
    /// `d`'s own (uncalibrated) z.
    static func apply(_ d: Deviation, period: Int, window: Int, minHistory: Int, history: inout FeatureHistory) -> Deviation {
        let past = history.values(from: period - window, before: period)
        history.record(period: period, value: d.z)
        history.trim(before: period - window)
        guard past.count >= max(1, minHistory) else { return d }
        let meanSquare = past.reduce(0.0) { sum, e in
            let z = min(max(e.value, -clip), clip)
            return sum + z * z
        } / Double(past.count)
        let spread = meanSquare.squareRoot()
        guard spread > 1 else { return d }
        return Deviation(value: d.value, centre: d.centre, scale: d.scale * spread, z: d.z / spread)
    }
}
