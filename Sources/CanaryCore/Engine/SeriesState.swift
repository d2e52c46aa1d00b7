/// One evaluated series of one subject (a daily feature, an hourly metric, or a raw metric):
/// its history for the baseline and the state of its rules.
struct SeriesState: Sendable, Codable {
    var history = FeatureHistory()
    /// The robust z of each past period, for the calibration of the scale (`Calibration`).
    var zHistory = FeatureHistory()
    /// The z each period was judged with (after calibration), for the baseline report and the HTML
    /// report: the history before an older period has been trimmed by then, so it cannot be judged again.
    /// Daily series keep it for every day `history` still holds (about the baseline window, 2 × 29 entries
    /// more per series); hourly series for the last `judgedKept` hours only, which is all they show.
    var judged = FeatureHistory()
    /// The centre and scale those periods were judged against, for the report (`CanaryEngine.reportData`).
    var judgedCentre = FeatureHistory()
    var judgedScale = FeatureHistory()
    static let judgedKept = 7

    /// Records what `period` was judged against and drops what is older than the history it explains.
    mutating func recordJudgement(_ d: Deviation, period: Int, daily: Bool) {
        judged.record(period: period, value: d.z)
        judgedCentre.record(period: period, value: d.centre)
        judgedScale.record(period: period, value: d.scale)
        if daily, let first = history.entries.first?.period {
            judged.trim(before: first)
            judgedCentre.trim(before: first)
            judgedScale.trim(before: first)
        } else {
            judged.keepLast(Self.judgedKept)
            judgedCentre.keepLast(Self.judgedKept)
            judgedScale.keepLast(Self.judgedKept)
        }
    }
    var rule = ThresholdRule()
    /// Raw metrics only: the exponentially weighted baseline and an observation counter used as period index.
    var ewma = EWMABaseline()
    var observations = 0
    /// The last value that triggered a rule, for `resolved` explanations.
    var lastAlertCentre: Double?
    /// Raw metrics only: the instant of the newest observation evaluated (the series' high-water mark).
    /// A sample not newer than it is not evaluated again, so resending rows is harmless.
    var lastInstant: Double?
    /// Raw metrics with a `rolling` or `seasonal` baseline, or with the anomaly-likelihood layer.
    var rolling: RollingBaseline?
    var seasonal: SeasonalBaseline?
    var likelihood: AnomalyLikelihood?

    init() {}

    /// Whether a raw sample at `t` is not newer than the newest one evaluated (a resend). Mutating only
    /// so that a call through a dictionary's values reads in place: the getter would copy the whole
    /// series (a retain and release of each of its buffers) on every row.
    mutating func holds(instant t: Double) -> Bool {
        guard let last = lastInstant else { return false }
        return t <= last
    }

    private enum CodingKeys: String, CodingKey {
        case history, zHistory, rule, ewma, observations, lastAlertCentre, lastInstant, rolling, seasonal, likelihood, judged
        case judgedCentre, judgedScale
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        history = try c.decodeIfPresent(FeatureHistory.self, forKey: .history) ?? FeatureHistory()
        // Saved before calibration existed: it starts from here.
        zHistory = try c.decodeIfPresent(FeatureHistory.self, forKey: .zHistory) ?? FeatureHistory()
        judged = try c.decodeIfPresent(FeatureHistory.self, forKey: .judged) ?? FeatureHistory()
        judgedCentre = try c.decodeIfPresent(FeatureHistory.self, forKey: .judgedCentre) ?? FeatureHistory()
        judgedScale = try c.decodeIfPresent(FeatureHistory.self, forKey: .judgedScale) ?? FeatureHistory()
        rule = try c.decodeIfPresent(ThresholdRule.self, forKey: .rule) ?? ThresholdRule()
        ewma = try c.decodeIfPresent(EWMABaseline.self, forKey: .ewma) ?? EWMABaseline()
        observations = try c.decodeIfPresent(Int.self, forKey: .observations) ?? 0
        lastAlertCentre = try c.decodeIfPresent(Double.self, forKey: .lastAlertCentre)
        lastInstant = try c.decodeIfPresent(Double.self, forKey: .lastInstant)
        rolling = try c.decodeIfPresent(RollingBaseline.self, forKey: .rolling)
        seasonal = try c.decodeIfPresent(SeasonalBaseline.self, forKey: .seasonal)
        likelihood = try c.decodeIfPresent(AnomalyLikelihood.self, forKey: .likelihood)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(history, forKey: .history)
        if !zHistory.entries.isEmpty { try c.encode(zHistory, forKey: .zHistory) }
        if !judged.entries.isEmpty { try c.encode(judged, forKey: .judged) }
        if !judgedCentre.entries.isEmpty { try c.encode(judgedCentre, forKey: .judgedCentre) }
        if !judgedScale.entries.isEmpty { try c.encode(judgedScale, forKey: .judgedScale) }
        try c.encode(rule, forKey: .rule)
        try c.encode(ewma, forKey: .ewma)
        try c.encode(observations, forKey: .observations)
        try c.encodeIfPresent(lastAlertCentre, forKey: .lastAlertCentre)
        try c.encodeIfPresent(lastInstant, forKey: .lastInstant)
        try c.encodeIfPresent(rolling, forKey: .rolling)
        try c.encodeIfPresent(seasonal, forKey: .seasonal)
        try c.encodeIfPresent(likelihood, forKey: .likelihood)
    }
}

/// Event-time progress of one of a subject's input streams: which of its days are closed, how far its
/// own data has come, and when it last received a row (the caller's clock, for the quiet-stream timeout).
struct StreamProgress: Sendable, Codable, Equatable {
    /// Days before this index are closed and evaluated for the stream; nil until its first day-bound row.
    var nextDay: Int?
    /// Whether the stream has closed any day yet (until then, earlier rows extend its open range back,
    /// so an export listed newest first loses nothing).
    var closedAny = false
    /// The newest data instant of the stream.
    var watermark = -Double.infinity
    /// Wall-clock instant of the stream's latest row, as the caller gave it; nil when the caller gives
    /// none (a replay), which counts as quiet.
    var lastArrival: Double?

    init(nextDay: Int? = nil, closedAny: Bool = false, watermark: Double = -.infinity, lastArrival: Double? = nil) {
        self.nextDay = nextDay
        self.closedAny = closedAny
        self.watermark = watermark
        self.lastArrival = lastArrival
    }

    private enum CodingKeys: String, CodingKey { case nextDay, closedAny, watermark, lastArrival }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nextDay = try c.decodeIfPresent(Int.self, forKey: .nextDay)
        closedAny = try c.decodeIfPresent(Bool.self, forKey: .closedAny) ?? false
        watermark = try c.decodeIfPresent(Double.self, forKey: .watermark) ?? -.infinity
        lastArrival = try c.decodeIfPresent(Double.self, forKey: .lastArrival)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(nextDay, forKey: .nextDay)
        try c.encode(closedAny, forKey: .closedAny)
        // No data yet is no key; any other value is written as it is (one JSON cannot hold fails the save).
        if watermark != -.infinity { try c.encode(watermark, forKey: .watermark) }
        try c.encodeIfPresent(lastArrival, forKey: .lastArrival)
    }
}

/// Everything the engine holds for one subject.
struct SubjectState: Sendable {
    var clock: ZoneClock
    /// Latest data instant seen for the subject, any stream.
    var watermark = -Double.infinity
    /// Each stream's own progress: its days close as its own data moves on, whatever the others do.
    var progress = PerStream<StreamProgress>()
    var days: [Int: DayBucket] = [:]
    /// Hour-aggregated metrics: metric → hour index (`HourIndex`) → instant → value.
    var hours: [String: [Int: [Double: Double]]] = [:]
    var nextHour: [String: Int] = [:]
    var series: [String: SeriesState] = [:]
    var gaps = PerStream<GapRule>()
    var composites: [String: CompositeRule] = [:]
    /// Per day not yet decided by the composite rules: the z of each feature a stream closed it with.
    /// A day is decided once every day-bound stream the subject uses has closed it.
    var compositeDays: [Int: [String: Double]] = [:]
    /// Composite rules have decided every day before this one.
    var compositeNext: Int?
    /// The activity stream's evening and rhythm window, for the rest and rhythm features.
    var activityCarry = ActivityCarry()
    /// Streams the subject has ever sent; only these are checked for gaps and features.
    var streams = StreamSet()
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
}

extension SubjectState: Codable {
    enum CodingKeys: String, CodingKey {
        case clock, watermark, progress, days, hours, nextHour, series, gaps, composites, compositeDays, compositeNext
        case activityCarry
        case streams, assignedZone
        /// Saved by versions that closed a subject's streams together: read once, then written as `progress`.
        case nextDay, closedAny
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clock = try c.decode(ZoneClock.self, forKey: .clock)
        watermark = try c.decodeIfPresent(Double.self, forKey: .watermark) ?? -.infinity
        days = try c.decodeIfPresent([Int: DayBucket].self, forKey: .days) ?? [:]
        hours = try c.decodeIfPresent([String: [Int: [Double: Double]]].self, forKey: .hours) ?? [:]
        nextHour = try c.decodeIfPresent([String: Int].self, forKey: .nextHour) ?? [:]
        series = try c.decodeIfPresent([String: SeriesState].self, forKey: .series) ?? [:]
        gaps = try c.decodeIfPresent(PerStream<GapRule>.self, forKey: .gaps) ?? PerStream()
        composites = try c.decodeIfPresent([String: CompositeRule].self, forKey: .composites) ?? [:]
        compositeDays = try c.decodeIfPresent([Int: [String: Double]].self, forKey: .compositeDays) ?? [:]
        streams = try c.decodeIfPresent(StreamSet.self, forKey: .streams) ?? StreamSet()
        assignedZone = try c.decodeIfPresent(String.self, forKey: .assignedZone)
        activityCarry = try c.decodeIfPresent(ActivityCarry.self, forKey: .activityCarry) ?? ActivityCarry()
        if let saved = try c.decodeIfPresent(PerStream<StreamProgress>.self, forKey: .progress) {
            progress = saved
            compositeNext = try c.decodeIfPresent(Int.self, forKey: .compositeNext)
        } else if let next = try c.decodeIfPresent(Int.self, forKey: .nextDay) {
            // One shared position for every stream, as the earlier versions kept it.
            let closedAny = try c.decodeIfPresent(Bool.self, forKey: .closedAny) ?? false
            for stream in streams.sorted() {
                progress[stream] = StreamProgress(nextDay: next, closedAny: closedAny, watermark: watermark)
            }
            compositeNext = next
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clock, forKey: .clock)
        // No data yet is no key; any other value is written as it is (one JSON cannot hold fails the save).
        if watermark != -.infinity { try c.encode(watermark, forKey: .watermark) }
        try c.encode(progress, forKey: .progress)
        try c.encode(days, forKey: .days)
        try c.encode(hours, forKey: .hours)
        try c.encode(nextHour, forKey: .nextHour)
        try c.encode(series, forKey: .series)
        try c.encode(gaps, forKey: .gaps)
        try c.encode(composites, forKey: .composites)
        try c.encode(compositeDays, forKey: .compositeDays)
        try c.encodeIfPresent(compositeNext, forKey: .compositeNext)
        try c.encode(streams, forKey: .streams)
        try c.encodeIfPresent(assignedZone, forKey: .assignedZone)
        if activityCarry != ActivityCarry() { try c.encode(activityCarry, forKey: .activityCarry) }
    }
}

extension SubjectState {
    /// `daysClosed`, read in place: called on `subjects.values[i]` it goes through the dictionary's
    /// modify accessor, where reading the property through the getter would copy the whole state first
    /// (on every row: a quarter of socket ingest's throughput).
    mutating func closedSoFar() -> Int { daysClosed }

    /// Whether the state changed since it was last taken for saving; it counts as saved from now on.
    mutating func takeUnsaved() -> Bool {
        defer { unsaved = false }
        return unsaved
    }

    /// The metric names the state holds anywhere: hourly and daily buckets and evaluated series.
    func knownMetricNames() -> Set<String> {
        var names = Set(hours.keys).union(nextHour.keys)
        for bucket in days.values { names.formUnion(bucket.samples.keys) }
        for name in series.keys where Feature.builtIn(named: name) == nil { names.insert(name) }
        return names
    }
}
