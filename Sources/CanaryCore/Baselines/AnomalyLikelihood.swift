import Foundation

/// How unusual the recent anomaly level of a raw metric is, against its own long-run distribution
/// (Numenta's anomaly likelihood, Ahmad et al. 2017, in bounded memory).
///
/// Each observation's anomaly score is `Deviation.score(z)` (0 … 1). The layer averages the last
/// `short` scores and compares that average with the long-run mean and spread of such averages,
/// tracked as exponentially weighted moments with a time constant of `long` observations. The result
/// is a deviation of the short-term average (value, usual mean, spread, z), so the metric's rule judges
/// it as any other: a single spike in a noisy stream moves the average a little, a stretch of unusual
/// values moves it a lot. The likelihood (1 − the normal tail probability) is `1 − Q(z)`.
public struct AnomalyLikelihood: Sendable, Equatable, Codable {
    private var recent: [Double] = []
    private var mean = 0.0
    private var variance = 0.0
    private var seen = 0

    public init() {}

    /// Folds one deviation in; returns the short-term average's deviation once `warmup` averages have
    /// been folded in (the engine asks for ten times `short`).
    public mutating func observe(_ d: Deviation, short: Int, long: Int, warmup: Int) -> Deviation? {
        recent.append(d.score)
        if recent.count > max(1, short) { recent.removeFirst(recent.count - max(1, short)) }
        guard recent.count == max(1, short) else { return nil }
        let average = recent.reduce(0, +) / Double(recent.count)
        var result: Deviation?
        if seen >= warmup {
            // The exponentially weighted variance starts at zero: corrected for that start (as Adam's
            // moments are), and never below 0.01 of the score's range, so a perfectly regular stream does
            // not make the tiniest change infinitely unlikely.
            let alpha = 1 / Double(max(1, long))
            let corrected = variance / max(1e-12, 1 - pow(1 - alpha, Double(seen)))
            let sd = max(corrected.squareRoot(), 0.01)
            result = Deviation(value: average, centre: mean, scale: sd, z: (average - mean) / sd)
        }
        let alpha = 1 / Double(max(1, long))
        if seen == 0 {
            mean = average
        } else {
            let delta = average - mean
            mean += alpha * delta
            variance = (1 - alpha) * (variance + alpha * delta * delta)
        }
        seen += 1
        return result
    }

    /// 1 − the upper normal tail probability of `z`: 0.5 at the usual level, 0.9999 at z ≈ 3.72.
    public static func likelihood(z: Double) -> Double {
        1 - 0.5 * erfc(z / 2.0.squareRoot())
    }
}
