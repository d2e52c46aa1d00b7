/// The per-person state of a composite rule: several features' z-scores combined into one statistic.
///
/// The statistic is the squared Mahalanobis distance of the day's z-scores from zero under the
/// person's own covariance of those z-scores (a Hotelling-type statistic), compared with the
/// chi-square quantile at `alpha` for as many degrees of freedom as features had a z that day. Features
/// that move together on ordinary days (steps, active and sedentary minutes) then count about once,
/// not once each, and small moves of several independent features together are flagged before any
/// single one crosses its own line.
///
/// Each z enters clipped to ±`clip` (4 by default): one extreme feature (a device fault, a day off)
/// cannot carry the statistic alone. With a `span` of several days, each feature's clipped z-scores of
/// the last `span` days are summed and divided by √(days), so a shift held for days counts more than
/// one odd day.
///
/// The covariance is taken over the person's last `window` days of z-scores (each clipped, so a
/// past episode cannot dominate it; centred on zero, the baseline's centre), its diagonal is never below
/// 1 (the composite is never more sensitive than the sum of squared z's), and its off-diagonal terms are
/// shrunk toward zero by p/n (p features, n days of history). Until every feature of the day has
/// `minHistory` days of z-scores, or when `covariance` is off, the covariance is the identity and the
/// statistic the plain sum of squared z.
public struct CompositeRule: Sendable, Equatable, Codable {
    private var hits: [Int] = []
    public private(set) var active = false
    public private(set) var cooldownUntil = Int.min
    /// The z-scores of the listed features on earlier periods, oldest first, in the order of `features`.
    private var history: [Entry] = []
    /// The features the history was recorded for: a configuration that lists others (a reload) starts
    /// the history afresh rather than reading one feature's z-scores as another's.
    private var features: [String] = []

    struct Entry: Sendable, Equatable, Codable {
        var period: Int
        var zs: [Double?]
    }

    public init() {}

    private enum CodingKeys: String, CodingKey { case hits, active, cooldownUntil, history, features }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hits = try c.decodeIfPresent([Int].self, forKey: .hits) ?? []
        active = try c.decodeIfPresent(Bool.self, forKey: .active) ?? false
        cooldownUntil = try c.decodeIfPresent(Int.self, forKey: .cooldownUntil) ?? Int.min
        history = try c.decodeIfPresent([Entry].self, forKey: .history) ?? []
        features = try c.decodeIfPresent([String].self, forKey: .features) ?? []
    }

    /// The decision for one period.
    public enum Event: Sendable, Equatable {
        case alert(statistic: Double, bound: Double, hits: Int, window: Int)
        case resolved(statistic: Double)
    }

    /// `zs` holds the z of each of the settings' features, in their order, nil where a feature had none
    /// this period. `window` is how many periods back the covariance reaches.
    public mutating func evaluate(period: Int, zs: [Double?], settings s: CompositeSettings, window: Int = 28)
        -> (statistic: Double, bound: Double, event: Event?)? {
        if features != s.features {
            features = s.features
            history = []
        }
        let present = zs.indices.filter { zs[$0] != nil }
        defer {
            history.append(Entry(period: period, zs: zs))
            history.removeAll { $0.period <= period - window }
        }
        guard present.count >= max(1, s.minFeatures) else { return nil }
        let values = present.map { combined($0, today: zs[$0]!, period: period, settings: s) }
        let statistic = Saturating.finite(s.covariance ? distance(values, features: present, settings: s) : values.reduce(0) { $0 + $1 * $1 })
        let bound = ChiSquare.upperQuantile(alpha: s.alpha, df: present.count)
        let n = max(1, s.persistenceN)
        let k = min(max(1, s.persistenceK), n)
        if statistic > bound { hits.append(period) }
        hits.removeAll { $0 <= period - n }
        if active {
            // Hysteresis: resolved once the statistic is back below the distribution's median.
            if statistic < ChiSquare.upperQuantile(alpha: 0.5, df: present.count) {
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

    /// Feature `i`'s value in the statistic: its clipped z today, or over a span of days the sum of its
    /// clipped z-scores over the days it has one, divided by the square root of their number (a mean
    /// scaled so that, for days independent of each other, it has the spread of one day's z).
    func combined(_ i: Int, today z: Double, period: Int, settings s: CompositeSettings) -> Double {
        let clip = s.clip
        var sum = min(max(z, -clip), clip)
        var days = 1
        if s.span > 1 {
            for e in history.reversed() {
                guard e.period > period - s.span else { break }
                if i < e.zs.count, let past = e.zs[i] {
                    sum += min(max(past, -clip), clip)
                    days += 1
                }
            }
        }
        return days == 1 ? sum : sum / Double(days).squareRoot()
    }

    /// Days of history behind the covariance of `features` (the fewest any of them has).
    func historyDays(_ features: [Int]) -> Int {
        features.map { i in history.filter { i < $0.zs.count && $0.zs[i] != nil }.count }.min() ?? 0
    }

    /// z' Σ⁻¹ z with Σ the shrunk covariance of the person's clipped z-scores of `features`.
    func distance(_ z: [Double], features: [Int], settings s: CompositeSettings) -> Double {
        let p = features.count
        let days = historyDays(features)
        guard days >= max(1, s.minHistory) else { return z.reduce(0) { $0 + $1 * $1 } }
        var sigma = [Double](repeating: 0, count: p * p)
        let shrink = min(1, Double(p) / Double(days))
        for a in 0..<p {
            for b in a..<p {
                var sum = 0.0
                var count = 0
                for e in history {
                    guard let x = e.zs[features[a]], let y = e.zs[features[b]] else { continue }
                    sum += min(max(x, -s.clip), s.clip) * min(max(y, -s.clip), s.clip)
                    count += 1
                }
                let v = count > 0 ? sum / Double(count) : 0
                if a == b {
                    sigma[a * p + a] = max(1, v)
                } else {
                    sigma[a * p + b] = (1 - shrink) * v
                    sigma[b * p + a] = (1 - shrink) * v
                }
            }
        }
        if let q = Self.quadraticForm(sigma, z) { return q }
        // Not positive definite (pairwise-complete days can make it so): the diagonal alone.
        return (0..<p).reduce(0) { $0 + z[$1] * z[$1] / sigma[$1 * p + $1] }
    }

    /// z' Σ⁻¹ z by Cholesky (Σ = L Lᵀ, then |L⁻¹ z|²); nil when Σ is not positive definite.
    static func quadraticForm(_ sigma: [Double], _ z: [Double]) -> Double? {
        let p = z.count
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var sum = sigma[i * p + j]
                for k in 0..<j { sum -= l[i * p + k] * l[j * p + k] }
                if i == j {
                    guard sum > 1e-9 else { return nil }
                    l[i * p + i] = sum.squareRoot()
                } else {
                    l[i * p + j] = sum / l[j * p + j]
                }
            }
        }
        // Forward substitution: L y = z; the form is |y|².
        var y = [Double](repeating: 0, count: p)
        var total = 0.0
        for i in 0..<p {
            var sum = z[i]
            for k in 0..<i { sum -= l[i * p + k] * y[k] }
            y[i] = sum / l[i * p + i]
            total += y[i] * y[i]
        }
        return total
    }
}
