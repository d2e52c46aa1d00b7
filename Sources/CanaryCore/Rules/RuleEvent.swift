/// What a rule decided for one period; the engine turns these into `Alert`s.
public enum RuleEvent: Sendable, Equatable {
    /// Threshold with persistence: `hits` of the last `window` periods deviated in `direction`.
    case threshold(direction: Direction, hits: Int, window: Int)
    /// CUSUM crossed its decision interval.
    case cusum(direction: Direction, sum: Double)
    /// The named sub-rule (`threshold` or `cusum`) that was alerting is back inside the hysteresis band.
    case resolved(rule: String)
}
