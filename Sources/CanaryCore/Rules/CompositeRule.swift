/// The per-person state of a composite rule: several features' z-scores combined into one statistic.
///
/// The statistic is the sum of squared z over the features that have a z that period; it is
/// compared with the chi-square quantile at `alpha` for that many degrees of freedom, so small
/// moves in several features together are flagged before any single one crosses its own line.
public struct CompositeRule: Sendable, Equatable, Codable {
    private var hits: [Int] = []
    public private(set) var active = false
    public private(set) var cooldownUntil = Int.min

    public init() {}

    /// The decision for one period.
    public enum Event: Sendable, Equatable {
        case alert(statistic: Double, bound: Double, hits: Int, window: Int)
        case resolved(statistic: Double)
    }

    /// `zs` holds the z of each listed feature that had one this period.
    public mutating func evaluate(period: Int, zs: [Double], settings s: CompositeSettings) -> (statistic: Double, bound: Double, event: Event?)? {
        guard zs.count >= max(1, s.minFeatures) else { return nil }
        let statistic = Saturating.finite(zs.reduce(0) { $0 + $1 * $1 })
        let bound = ChiSquare.upperQuantile(alpha: s.alpha, df: zs.count)
        let n = max(1, s.persistenceN)
        let k = min(max(1, s.persistenceK), n)
        if statistic > bound { hits.append(period) }
        hits.removeAll { $0 <= period - n }
        if active {
            // Hysteresis: resolved once the statistic is back below the distribution's median.
            if statistic < ChiSquare.upperQuantile(alpha: 0.5, df: zs.count) {
                active = false
                return (statistic, bound, .resolved(statistic: statistic))
            }
            return (statistic, bound, nil)
        }
        if period >= cooldownUntil && hits.count >= k && hits.last == period {
            active = true
            cooldownUntil = period + max(1, s.cooldownPeriods)
            return (statistic, bound, .alert(statistic: statistic, bound: bound, hits: hits.count, window: n))
        }
        return (statistic, bound, nil)
    }
}
