/// Turns the observations of one period into one value, as configured per metric.
enum Aggregation {
    static func apply(_ kind: MetricSettings.Aggregate, _ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        switch kind {
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .sum: return values.reduce(0, +)
        case .median: return RobustStatistics.median(values)
        case .min: return values.min()
        case .max: return values.max()
        }
    }
}
