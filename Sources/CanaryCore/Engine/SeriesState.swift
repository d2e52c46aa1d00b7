/// One evaluated series of one subject (a daily feature, an hourly metric, or a raw metric):
/// its history for the baseline and the state of its rules.
struct SeriesState: Sendable, Codable {
    var history = FeatureHistory()
    var rule = ThresholdRule()
    /// Raw metrics only: the exponentially weighted baseline and an observation counter used as period index.
    var ewma = EWMABaseline()
    var observations = 0
    /// The last value that triggered a rule, for `resolved` explanations.
    var lastAlertCentre: Double?
    /// Raw metrics only: the instant of the newest observation evaluated (the series' high-water mark).
    /// A sample not newer than it is not evaluated again, so resending rows is harmless.
    var lastInstant: Double?
}

/// Everything the engine holds for one subject.
struct SubjectState: Sendable, Codable {
    var clock: ZoneClock
    /// Latest data instant seen for the subject, any stream.
    var watermark = -Double.infinity
    /// Days before this index are closed and evaluated; nil until the first day-bound row arrives.
    var nextDay: Int?
    var days: [Int: DayBucket] = [:]
    /// Hour-aggregated metrics: metric → local hour index → instant → value.
    var hours: [String: [Int: [Double: Double]]] = [:]
    var nextHour: [String: Int] = [:]
    var series: [String: SeriesState] = [:]
    var gaps = PerStream<GapRule>()
    var composites: [String: CompositeRule] = [:]
    /// Streams the subject has ever sent; only these are checked for gaps and features.
    var streams = StreamSet()
    /// Whether any day has been closed yet (until then, earlier rows extend the open range).
    var closedAny = false
    /// Changed since the state was last exported (not part of the saved state itself).
    var unsaved = true
    /// The `samples` metric names the subject has sent, for `maxMetricsPerSubject` (rebuilt from the
    /// state on import, not saved).
    var metricNames: Set<String> = []
    /// Days closed (evaluated) in this process, for tests of the cost of closing (not saved).
    var daysClosed = 0
    /// The admission version (the consent ledger's) under which the subject was last allowed (not saved).
    var admittedUnder = 0
    /// The zone a `#canary subject=ID tz=Zone` directive set (an IANA identifier), kept with the state
    /// so a restart keeps the subject's days on it.
    var assignedZone: String?

    init(clock: ZoneClock) {
        self.clock = clock
    }

    enum CodingKeys: String, CodingKey {
        case clock, watermark, nextDay, days, hours, nextHour, series, gaps, composites, streams, closedAny, assignedZone
    }
}

extension SubjectState {
    /// The metric names the state holds anywhere: hourly and daily buckets and evaluated series.
    func knownMetricNames() -> Set<String> {
        var names = Set(hours.keys).union(nextHour.keys)
        for bucket in days.values { names.formUnion(bucket.samples.keys) }
        for name in series.keys where Feature.builtIn(named: name) == nil { names.insert(name) }
        return names
    }
}
