/// Median, MAD and circular helpers shared by features and baselines.
public enum RobustStatistics {
    /// Consistency constant that makes the MAD estimate the standard deviation for normal data.
    public static let madToSigma = 1.482_602_218_505_602

    /// The median of `values` (mean of the middle two for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        var v = values
        return medianInPlace(&v)
    }

    static func medianInPlace(_ v: inout [Double]) -> Double {
        v.sort()
        let n = v.count
        guard n % 2 == 0 else { return v[n / 2] }
        let mid = (v[n / 2 - 1] + v[n / 2]) / 2
        // Halve first when the sum of the middle two overflows.
        return mid.isFinite ? mid : Saturating.finite(v[n / 2 - 1] / 2 + v[n / 2] / 2)
    }

    /// Median absolute deviation around `centre` (unscaled).
    public static func mad(_ values: [Double], around centre: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        var d = values.map { Saturating.finite(abs($0 - centre)) }
        return medianInPlace(&d)
    }

    /// Signed shortest difference `a - b` on a circle of `period` (for clock times in minutes: 1440).
    public static func circularDifference(_ a: Double, _ b: Double, period: Double = 1440) -> Double {
        var d = (a - b).truncatingRemainder(dividingBy: period)
        if d > period / 2 { d -= period }
        if d <= -period / 2 { d += period }
        return d
    }

    /// The circular mean of clock times; nil when they cancel out (no preferred time).
    public static func circularMean(_ values: [Double], period: Double = 1440) -> Double? {
        guard !values.isEmpty else { return nil }
        var s = 0.0, c = 0.0
        for v in values {
            let a = v / period * 2 * Double.pi
            s += sin(a); c += cos(a)
        }
        guard abs(s) > 1e-12 || abs(c) > 1e-12 else { return nil }
        return wrap(atan2(s, c) / (2 * Double.pi) * period, period: period)
    }

    /// Wraps a clock time into [0, period).
    public static func wrap(_ v: Double, period: Double = 1440) -> Double {
        let r = v.truncatingRemainder(dividingBy: period)
        let w = r < 0 ? r + period : r
        return w >= period ? 0 : w  // -1e-17 + 1440 rounds to 1440
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
