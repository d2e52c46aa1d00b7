import Foundation

/// Chi-square distribution functions for the composite rule (regularised incomplete gamma, then bisection).
public enum ChiSquare {
    /// P(X <= x) for X ~ chi-square with `df` degrees of freedom.
    public static func cdf(_ x: Double, df: Int) -> Double {
        guard x > 0 else { return 0 }
        return regularizedLowerGamma(Double(df) / 2, x / 2)
    }

    /// The value exceeded with probability `alpha` (the 1 - alpha quantile).
    public static func upperQuantile(alpha: Double, df: Int) -> Double {
        let p = 1 - alpha
        var lo = 0.0
        var hi = max(1.0, Double(df))
        while cdf(hi, df: df) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-10 * max(1, hi) { break }
        }
        return (lo + hi) / 2
    }

    /// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error below 1e-13).
    static func logGamma(_ x: Double) -> Double {
        let c: [Double] = [0.999_999_999_999_809_93, 676.520_368_121_885_1, -1259.139_216_722_402_8,
                           771.323_428_777_653_13, -176.615_029_162_140_59, 12.507_343_278_686_905,
                           -0.138_571_095_265_720_12, 9.984_369_578_019_571_6e-6, 1.505_632_735_149_311_6e-7]
        if x < 0.5 { return log(Double.pi / abs(sin(Double.pi * x))) - logGamma(1 - x) }
        let y = x - 1
        var a = c[0]
        let t = y + 7.5
        for i in 1..<9 { a += c[i] / (y + Double(i)) }
        return 0.5 * log(2 * Double.pi) + (y + 0.5) * log(t) - t + log(a)
    }

    /// P(a, x), by series for x < a + 1 and continued fraction otherwise (Numerical Recipes).
    static func regularizedLowerGamma(_ a: Double, _ x: Double) -> Double {
        let lnGammaA = logGamma(a)
        if x < a + 1 {
            var sum = 1 / a
            var term = sum
            var ap = a
            for _ in 0..<1000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return sum * exp(-x + a * log(x) - lnGammaA)
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1..<1000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return 1 - exp(-x + a * log(x) - lnGammaA) * h
    }
}
