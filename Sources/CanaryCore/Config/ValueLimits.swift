/// The plausible range of every input value. A row outside it is refused as `out-of-range`, so
/// that no value a peer sends can drive a day's sum, a mean, a median or a variance to infinity
/// (which the saved state could not hold).
///
/// The bounds are wide enough for any measurement in a sensible unit and narrow enough that
/// everything derived from them stays finite in double precision: squares of differences of two
/// values of 1e12 are 4e24, and sums of them would need more than 1e290 rows to overflow.
public struct ValueLimits: Sendable, Equatable {
    /// The largest magnitude a configured bound (`[metrics.NAME] min/max`, `floor_abs`) may have.
    public static let maximumMagnitude = 1e12
    /// The default range of a `samples` value: beyond any physiological or behavioural measurement
    /// in a sensible unit (heart rate, steps, grams, seconds), far inside the safe range.
    public static let defaultSampleRange: ClosedRange<Double> = -1e9...1e9
    /// The largest `[activity] max_count` may be set to.
    public static let maximumActivityCount = 1e6
    /// A key held longer than a minute is a stuck key, not typing.
    public static let holdMilliseconds: ClosedRange<Double> = 0...60_000
    /// Flight times up to 1e9 ms (about 11.6 days, a long pause before a session's first key).
    public static let maximumFlightMilliseconds = 1e9
    public static let flightMilliseconds: ClosedRange<Double> = 0...maximumFlightMilliseconds

    /// Range of a `samples` metric without its own entry.
    public var samples: ClosedRange<Double>
    /// Ranges of metrics configured by name.
    public var metrics: [String: ClosedRange<Double>]
    /// Range of one activity epoch's count.
    public var activityCount: ClosedRange<Double>

    public init(samples: ClosedRange<Double> = defaultSampleRange, metrics: [String: ClosedRange<Double>] = [:],
                activityCount: ClosedRange<Double> = 0...ActivitySettings().maxCount) {
        self.samples = samples
        self.metrics = metrics
        self.activityCount = activityCount
    }

    /// The range of a `samples` metric (hashing its name only when some metric has its own range).
    public func range(forMetric metric: String) -> ClosedRange<Double> {
        metrics.isEmpty ? samples : metrics[metric] ?? samples
    }

    /// How a range reads in an error message.
    static func describe(_ range: ClosedRange<Double>) -> String {
        "\(format(range.lowerBound)) to \(format(range.upperBound))"
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

extension EngineConfiguration {
    /// The input value ranges this configuration sets, for the parsers.
    public var valueLimits: ValueLimits {
        let named = metrics.filter { $0.value.range != defaultMetric.range }.mapValues(\.range)
        return ValueLimits(samples: defaultMetric.range, metrics: named, activityCount: 0...activity.maxCount)
    }
}
