/// Turns the observations of one period into one value, as configured per metric.
enum Aggregation {
    static func apply(_ kind: MetricSettings.Aggregate, _ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        switch kind {
        case .mean:
            let n = Double(values.count)
            let sum = values.reduce(0, +)
            if sum.isFinite { return sum / n }
            // The sum overflowed: add the values already divided by n, which cannot.
            return Saturating.finite(values.reduce(0) { $0 + $1 / n })
        case .sum: return Saturating.finite(values.reduce(0, +))
        case .median: return RobustStatistics.median(values)
        case .min: return values.min()
        case .max: return values.max()
        }
    }

    /// A period's observations (instant → value) in time order: a mean or sum added up in a
    /// dictionary's order would differ in its last bits from run to run, and so would alerts.
    static func inTimeOrder(_ observations: [Double: Double]) -> [Double] {
        observations.sorted { $0.key < $1.key }.map(\.value)
    }
}
