/// Exponentially weighted mean and variance for raw high-rate samples (West's incremental form).
///
/// The z-score of an observation is taken against the baseline *before* the observation updates it,
/// and only once `warmup` observations have been seen.
public struct EWMABaseline: Sendable, Equatable, Codable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    public private(set) var variance = 0.0

    public init() {}

    /// Scores `x` against the current state (nil during warm-up or with zero scale), then folds it in.
    public mutating func observe(_ x: Double, alpha: Double, warmup: Int,
                                 floorAbsolute: Double = 0, floorRelative: Double = 0) -> Deviation? {
        guard count > 0 else {
            count = 1
            mean = x
            variance = 0
            return nil
        }
        var result: Deviation?
        if count >= warmup {
            let sd = variance > 0 ? variance.squareRoot() : 0
            let scale = ScaleFloor.apply(sd, centre: mean, absolute: floorAbsolute, relative: floorRelative, circular: false)
            if scale > 0 {
                result = Deviation(value: x, centre: mean, scale: scale, z: Saturating.finite(Saturating.finite(x - mean) / scale))
            }
        }
        // Every step saturates, so extreme values leave a finite (if extreme) baseline, never inf or NaN.
        let d = Saturating.finite(x - mean)
        let inc = alpha * d
        count += 1
        mean = Saturating.finite(mean + inc)
        variance = Saturating.finite((1 - alpha) * Saturating.finite(variance + Saturating.finite(d * inc)))
        return result
    }
}
