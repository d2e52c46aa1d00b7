/// Arithmetic that stays finite: a result beyond the largest double becomes the largest double of
/// its sign (and NaN, which finite operands cannot produce once every step saturates, becomes 0).
///
/// Input values are bounded (`ValueLimits`), so on real data this never changes a result; it
/// keeps every aggregate, baseline and z-score finite whatever arrives, so the saved state (JSON,
/// which holds no infinity) can always be written.
enum Saturating {
    @inline(__always)
    static func finite(_ x: Double) -> Double {
        if x.isFinite { return x }
        if x.isNaN { return 0 }
        return x > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude
    }
}
