/// Everything the engine needs to know, as plain values. The daemon reads it from TOML;
/// tests build it directly. Every field has a documented default (see `config/canary.toml`).
public struct EngineConfiguration: Sendable, Equatable {
    public var zones: ZoneBook
    /// A stream's day closes once the stream's own data has moved this far past the day's end, in
    /// seconds: rows of a day may arrive in any order until then.
    public var closeDelaySeconds: Double = 2 * 3600
    /// A stream that went quiet (no row for this long, by the caller's clock) closes the days its data
    /// never moved past once they ended this long ago, in seconds. Long enough for a phone that syncs
    /// once a day; pauses shorter than this never change what is decided.
    public var maxLatenessSeconds: Double = 36 * 3600
    /// Rows stamped further than this into the future are refused, in seconds.
    public var maxFutureSeconds: Double = 24 * 3600
    /// Rows stamped further than this into the past are refused (`too-old`), in seconds: before the
    /// clock in the daemon, before the subject's latest row in a replay. The default matches the
    /// default retention (400 days): an older row could only be evaluated against nothing and deleted.
    public var maxPastSeconds: Double = 400 * 86_400
    public var baseline = BaselineSettings()
    public var sleep = SleepSettings()
    public var activity = ActivitySettings()
    public var typing = TypingSettings()
    /// Rule settings per built-in feature name; features without an entry are computed and scored but never alert.
    public var rules: [String: RuleSettings] = EngineConfiguration.defaultRules
    /// How each `samples` metric is evaluated; metrics without an entry use `defaultMetric`.
    public var metrics: [String: MetricSettings] = [:]
    public var defaultMetric = MetricSettings()
    /// No data on a stream for this long raises a `gap` alert, in seconds; nil disables the gap rule for the stream.
    public var gapSeconds: [Stream: Double] = [.sleep: 72 * 3600, .activity: 72 * 3600, .typing: 96 * 3600, .samples: 48 * 3600]
    public var composites: [CompositeSettings] = [CompositeSettings.defaultWellbeing]
    /// Feature values older than this many days are deleted, even when a baseline window would reach further.
    public var retentionDays = 400
    /// At most this many subjects are held; rows naming another one are refused (`too-many-subjects`).
    public var maxSubjects = 250_000
    /// At most this many `samples` metric names per subject; rows naming another one are refused (`too-many-metrics`).
    public var maxMetricsPerSubject = 256

    public init(zones: ZoneBook = ZoneBook()) {
        self.zones = zones
    }

    public func metricSettings(_ metric: String) -> MetricSettings {
        // Most set-ups configure no metric by name: skip hashing the name on every row then.
        metrics.isEmpty ? defaultMetric : metrics[metric] ?? defaultMetric
    }

    /// Sensible defaults for the features that matter clinically.
    public static let defaultRules: [String: RuleSettings] = [
        "sleep_duration": RuleSettings(direction: .both, floorAbsolute: 20, floorRelative: 0.05),
        "sleep_midpoint": RuleSettings(direction: .both, floorAbsolute: 30),
        "sleep_onset": RuleSettings(direction: .both, floorAbsolute: 30),
        "sleep_efficiency": RuleSettings(direction: .low, floorAbsolute: 0.03),
        "steps": RuleSettings(direction: .low, floorAbsolute: 500, floorRelative: 0.1),
        "active_minutes": RuleSettings(direction: .low, floorAbsolute: 10, floorRelative: 0.1),
        "sedentary_minutes": RuleSettings(direction: .high, floorAbsolute: 30, floorRelative: 0.05),
        // A flatter rest-activity rhythm (lower amplitude: depression, mania, disturbed sleep). No CUSUM:
        // the 7-day windows of consecutive days overlap, so their z-scores are not independent evidence.
        "relative_amplitude": RuleSettings(direction: .low, cusumK: nil, floorAbsolute: 0.02),
        "flight_median": RuleSettings(direction: .high, floorAbsolute: 10, floorRelative: 0.05),
        // Typing far less than usual (withdrawal): counts vary a lot from day to day, so the floor is a
        // fifth of the usual count.
        "keystrokes": RuleSettings(direction: .low, floorAbsolute: 200, floorRelative: 0.2),
        "backspace_rate": RuleSettings(direction: .high, floorAbsolute: 0.01),
        "late_night_share": RuleSettings(direction: .high, floorAbsolute: 0.02),
    ]
}

/// How baselines are formed from a feature's own history.
public struct BaselineSettings: Sendable, Equatable {
    /// Trailing window of periods the baseline is computed from (the period under test is excluded).
    public var windowDays = 28
    /// No deviation alert before this many periods with a value exist in the window.
    public var minHistoryDays = 14
    /// Use the median of the same weekday as centre once enough same-weekday values exist.
    public var weekdayAdjust = false
    public var weekdayMinSamples = 3
    /// Widen the scale by the person's own recent spread of z when it is larger than the robust scale
    /// says (heavy-tailed days), so that rules fire at their nominal rate (`Calibration`).
    public var calibrate = false
    public init() {}
}

/// Direction a rule watches.
public enum Direction: String, Sendable, Codable {
    case low, high, both
}

/// The rules for one feature: threshold with persistence, optional CUSUM, cooldown, hysteresis.
public struct RuleSettings: Sendable, Equatable {
    public var direction: Direction = .both
    /// |robust z| beyond this counts as a deviating period.
    public var threshold = 3.0
    /// Alert when `persistenceK` of the last `persistenceN` periods deviate.
    public var persistenceK = 3
    public var persistenceN = 4
    /// Periods after an alert before the same rule may alert again for the same person.
    public var cooldownPeriods = 7
    /// An alerting rule resolves once |z| is back within this band.
    public var resolveBelow = 1.0
    /// One alert per excursion (with a `resolved` event) when true; every deviating period alerts when false.
    public var episodes = true
    /// CUSUM on z for sustained small shifts: reference value k and decision interval h; nil disables it.
    public var cusumK: Double? = 0.5
    public var cusumH: Double = 6
    /// Each period's z is clipped to ±this before it enters the CUSUM sums.
    public var cusumClip: Double = 3
    /// Scale floor: absolute (in the feature's unit) and relative to |centre|.
    public var floorAbsolute = 0.0
    public var floorRelative = 0.0

    public init(direction: Direction = .both, threshold: Double = 3, persistenceK: Int = 3, persistenceN: Int = 4,
                cooldownPeriods: Int = 7, resolveBelow: Double = 1, episodes: Bool = true,
                cusumK: Double? = 0.5, cusumH: Double = 6, floorAbsolute: Double = 0, floorRelative: Double = 0) {
        self.direction = direction
        self.threshold = threshold
        self.persistenceK = persistenceK
        self.persistenceN = persistenceN
        self.cooldownPeriods = cooldownPeriods
        self.resolveBelow = resolveBelow
        self.episodes = episodes
        self.cusumK = cusumK
        self.cusumH = cusumH
        self.floorAbsolute = floorAbsolute
        self.floorRelative = floorRelative
    }
}

/// How a `samples` metric is turned into evaluated periods.
public struct MetricSettings: Sendable, Equatable {
    /// Per-observation (`raw`), or aggregated per `hour` or `day`.
    public enum Mode: String, Sendable { case raw, hour, day }
    public enum Aggregate: String, Sendable { case mean, sum, median, min, max }
    /// `ewma`: exponentially weighted (raw); `robust`: median/MAD of earlier periods (hour, day);
    /// `rolling`: median/MAD over a trailing time window (raw); `seasonal`: median/MAD of the same hour
    /// of the day or week on earlier days or weeks (raw).
    public enum BaselineKind: String, Sendable { case ewma, robust, rolling, seasonal }

    public var mode: Mode = .day
    public var aggregate: Aggregate = .mean
    /// Raw metrics default to an exponentially weighted baseline; aggregated ones to median/MAD.
    public var baseline: BaselineKind = .robust
    public var alpha = 0.05
    /// Observations before a raw (EWMA) baseline may alert (for `rolling`: time buckets with a value).
    public var warmup = 30
    /// `rolling`: the trailing window, in seconds, held as this many time buckets (the latest value of each).
    public var windowSeconds = 86_400.0
    public var windowSlots = 128
    /// `seasonal`: hours per cycle (24: hour of the day; 168: hour of the week), cycles kept, and cycles
    /// an hour needs before it is scored.
    public var seasonalPeriodHours = 24
    public var seasonalCycles = 28
    public var seasonalMinimum = 7
    /// Judge the anomaly likelihood (the average score of the last `likelihoodShort` observations against
    /// its long-run level over about `likelihoodLong` observations) instead of each observation's z.
    public var likelihood = false
    public var likelihoodShort = 10
    public var likelihoodLong = 1000
    /// Rules for the metric; nil scores it without alerting.
    public var rule: RuleSettings? = RuleSettings()
    /// Minimum observations inside a period for the aggregate to count.
    public var minObservations = 1
    /// Plausible values; a row outside is refused as `out-of-range` (`[metrics.NAME] min/max`).
    public var range: ClosedRange<Double> = ValueLimits.defaultSampleRange

    public init() {}

    /// The rule a metric of `mode` has unless its configuration says otherwise: per observation for raw
    /// metrics (`RuleSettings.rawDefault`), the daily rule's defaults for hourly and daily aggregates.
    public static func defaultRule(for mode: Mode) -> RuleSettings {
        mode == .raw ? .rawDefault : RuleSettings()
    }
}

/// A composite rule: several features' z-scores combined by the person's own covariance (a squared
/// Mahalanobis distance) against a chi-square quantile (`CompositeRule`).
public struct CompositeSettings: Sendable, Equatable {
    public var name: String
    public var features: [String]
    /// Combine by the person's covariance of the features' z-scores; false: the plain sum of squares.
    public var covariance = true
    /// Days of z-scores each feature needs before its covariance is used (the identity until then).
    public var minHistory = 14
    /// Each z enters the statistic (and the covariance) clipped to ± this.
    public var clip = 4.0
    /// Days whose z-scores are combined (summed per feature, divided by √days); 1: the day alone.
    public var span = 1
    /// Tail probability for the chi-square quantile (degrees of freedom = features with a z that period).
    public var alpha = 0.01
    /// Fewest features with a z needed to evaluate.
    public var minFeatures = 2
    public var persistenceK = 2
    public var persistenceN = 3
    public var cooldownPeriods = 7

    public init(name: String, features: [String], alpha: Double = 0.01, minFeatures: Int = 2,
                persistenceK: Int = 2, persistenceN: Int = 3, cooldownPeriods: Int = 7) {
        self.name = name
        self.features = features
        self.alpha = alpha
        self.minFeatures = minFeatures
        self.persistenceK = persistenceK
        self.persistenceN = persistenceN
        self.cooldownPeriods = cooldownPeriods
    }

    public static let defaultWellbeing = CompositeSettings(
        name: "wellbeing",
        features: ["sleep_duration", "sleep_midpoint", "steps", "flight_median", "backspace_rate"])
}

/// Thresholds for sleep features.
public struct SleepSettings: Sendable, Equatable {
    /// A day has sleep features only when a session at least this long (minutes) ended on it.
    public var minMainSleepMinutes = 180.0
    public init() {}
}

/// Thresholds for activity features, in counts (or steps) per minute.
public struct ActivitySettings: Sendable, Equatable {
    /// A minute at or above this count is active.
    public var activeThreshold = 100.0
    /// A worn minute below this count is sedentary (only between the first and last active minute).
    public var sedentaryThreshold = 10.0
    /// A run of zero minutes at least this long is non-wear (interruptions up to `nonWearTolerance` minutes allowed).
    public var nonWearMinutes = 90
    public var nonWearTolerance = 2
    /// ... only when this many minutes before and after the interruption are zeros (Choi et al. 2011), so
    /// that sleep, with a small movement every few minutes, is not read as non-wear.
    public var nonWearWindow = 30
    /// A minute at or below this count reads as still for non-wear: zero for devices that report zero
    /// off the body; a few counts for those with a noise floor.
    public var nonWearFloor = 0.0
    /// A day needs this many worn minutes to have activity features.
    public var minWearMinutes = 600
    /// The largest plausible count of one epoch; a row above it is refused as `out-of-range`.
    /// ActiGraph-style counts stay below about 20,000 a minute, steps below 300.
    public var maxCount = 100_000.0
    /// Estimate the sleep features from the activity of a subject who sends no `sleep` stream (the main
    /// rest period of each night, scored by Cole–Kripke); alerts on them say "estimated from activity".
    public var estimateSleep = true
    /// Cole–Kripke reads a minute's count divided by this: the device profile. 30 for Actiwatch-style
    /// minute counts (pyActigraphy's "mean" setting, the Depresjon recordings), 100 for ActiGraph counts
    /// (as ActiLife applies it), 1 for steps per minute.
    public var sleepCountDivisor = 30.0
    /// Wake runs up to this long (minutes) inside a night's rest period do not end it.
    public var restBridgeMinutes = 30
    /// A night with more missing or non-wear minutes than this in its rest period (or the hour either
    /// side) has no estimated sleep features.
    public var restMaxNonWearMinutes = 30
    /// A rest period longer than this (minutes) is a device off the body or stuck, not a night.
    public var restMaxMinutes = 960
    /// A minute is active for the rhythm features when its count is above this (pyActigraphy's default
    /// binarization; 0 for steps: any step).
    public var rhythmThreshold = 4.0
    /// The rhythm features of a day are taken over this many days ending with it.
    public var rhythmWindowDays = 7
    /// ... when at least this many of those days were worn `minWearMinutes`.
    public var rhythmMinDays = 5
    public init() {}
}

/// Thresholds for typing features.
public struct TypingSettings: Sendable, Equatable {
    /// A pause longer than this (seconds) starts a new typing session.
    public var sessionGapSeconds = 300.0
    /// Flight times above this (ms) are pauses, not typing rhythm.
    public var maxFlightMilliseconds = 3000.0
    /// A day needs this many keystrokes to have typing features.
    public var minKeystrokes = 100
    /// Keystrokes between local midnight and this hour count as late-night typing.
    public var lateNightEndHour = 5
    public init() {}
}

extension RuleSettings {
    /// The per-observation rule for raw metrics: |z| > 4 alerts on every such observation.
    public static let rawDefault = RuleSettings(direction: .both, threshold: 4, persistenceK: 1, persistenceN: 1,
                                                cooldownPeriods: 0, resolveBelow: 1, episodes: false, cusumK: nil)
}
