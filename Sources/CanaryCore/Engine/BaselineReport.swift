/// What a clinician or an operator asks first when an alert arrives: for each of a person's features,
/// the baseline the next period will be judged against (centre and scale), the last values with the z
/// each was judged with, the state of the feature's rules and how much data the window holds.
///
/// Computed from the engine's state as it is, by the same baseline code that scores periods; changes
/// nothing (`CanaryEngine.baselineReport`).
public struct BaselineReport: Sendable, Codable, Equatable {
    /// One judged value.
    public struct Value: Sendable, Codable, Equatable {
        /// The day (`2026-03-05`) or hour it belongs to.
        public var period: String
        public var value: Double
        /// The z it was judged with (the last few periods only; nil before, or while history was too short).
        public var z: Double?
    }

    /// The state of a feature's threshold and CUSUM rules.
    public struct RuleState: Sendable, Codable, Equatable {
        public var direction: String
        public var threshold: Double
        /// An alert when `persistenceK` of the last `persistenceN` periods deviate.
        public var persistenceK: Int
        public var persistenceN: Int
        /// Periods among the last n that deviated low and high.
        public var deviatingLow: Int
        public var deviatingHigh: Int
        /// The CUSUM sums against their decision interval h; nil when the rule has no CUSUM.
        public var cusumLow: Double?
        public var cusumHigh: Double?
        public var cusumH: Double?
        /// An excursion alerted on and not yet resolved ("threshold low", "cusum high").
        public var open: [String]
        /// Periods before each rule may alert again (0: it may).
        public var thresholdCooldown: Int
        public var cusumCooldown: Int
    }

    /// One feature (or `samples` metric) of the person.
    public struct Series: Sendable, Codable, Equatable {
        public var name: String
        public var label: String
        public var unit: FeatureUnit
        public var stream: Stream
        /// "day", "hour" or "raw" (every observation).
        public var kind: String
        /// How the baseline is made: "robust" (median/MAD of the window), or for raw metrics "ewma",
        /// "rolling" or "seasonal", with " + likelihood" when the anomaly-likelihood layer judges.
        public var baseline: String
        /// Sleep features estimated from activity (no `sleep` stream).
        public var estimated: Bool
        /// The baseline the next period is judged against; nil while history is too short.
        public var centre: Double?
        public var scale: Double?
        /// Periods with a value in the window, of the window's length (raw: observations seen).
        public var coverage: Int
        public var window: Int
        public var minimumHistory: Int
        /// The period the next value will be, the label of the first one not yet judged.
        public var next: String?
        /// The last values, oldest first (raw metrics keep no values, only their baseline).
        public var last: [Value]
        public var rule: RuleState?
    }

    /// One input stream of the person.
    public struct StreamState: Sendable, Codable, Equatable {
        public var stream: Stream
        /// The first day not yet closed (`2026-03-05`).
        public var openFrom: String?
        /// The newest data instant (epoch seconds).
        public var latest: Double?
        public var gapOpen: Bool
    }

    public var subject: String
    public var streams: [StreamState]
    public var series: [Series]
}

extension CanaryEngine {
    /// The report of `subject`'s baselines (`feature`: that one only), with the last `last` values of
    /// each; nil when the engine holds nothing for the subject.
    public func baselineReport(subject: String, feature: String? = nil, last: Int = 7) -> BaselineReport? {
        guard var state = subjects[subject] else { return nil }
        return BaselineReport.make(subject: subject, state: &state, configuration: configuration, feature: feature, last: last)
    }
}

extension BaselineReport {
    static func make(subject: String, state: inout SubjectState, configuration c: EngineConfiguration,
                     feature only: String?, last: Int) -> BaselineReport {
        var streams: [StreamState] = []
        for stream in state.streams.sorted() {
            let p = state.progress[stream]
            streams.append(StreamState(stream: stream, openFrom: p?.nextDay.map(PeriodLabel.day),
                                       latest: p.flatMap { $0.watermark.isFinite ? $0.watermark : nil },
                                       gapOpen: state.gaps[stream]?.isOpen ?? false))
        }
        var series: [Series] = []
        for name in state.series.keys.sorted() where only == nil || only == name {
            series.append(make(name: name, series: state.series[name]!, state: &state, configuration: c, last: last))
        }
        return BaselineReport(subject: subject, streams: streams, series: series)
    }

    private static func make(name: String, series s: SeriesState, state: inout SubjectState,
                             configuration c: EngineConfiguration, last: Int) -> Series {
        let builtIn = Feature.builtIn(named: name)
        let feature = builtIn ?? Feature.metric(name)
        let metric = builtIn == nil ? c.metricSettings(name) : nil
        let estimated = feature.stream == .sleep && !state.streams.contains(.sleep)
        let ruleSettings = metric.map(\.rule) ?? c.rules[name]
        let b = c.baseline
        if let metric, metric.mode == .raw {
            var how = metric.baseline == .robust ? "ewma" : metric.baseline.rawValue
            if metric.likelihood { how += " + likelihood" }
            // The exponentially weighted baseline is shown; the rolling and seasonal ones (and the
            // likelihood layer) judge from buffers that have no single centre to show.
            var centre: Double?, scale: Double?
            if how == "ewma" {
                let sd = s.ewma.variance > 0 ? s.ewma.variance.squareRoot() : 0
                let floored = ScaleFloor.apply(sd, centre: s.ewma.mean, absolute: ruleSettings?.floorAbsolute ?? 0,
                                               relative: ruleSettings?.floorRelative ?? 0, circular: false)
                if s.ewma.count >= metric.warmup && floored > 0 { (centre, scale) = (s.ewma.mean, floored) }
            }
            return Series(name: name, label: feature.label, unit: feature.unit, stream: feature.stream, kind: "raw",
                          baseline: how, estimated: false, centre: centre, scale: scale,
                          coverage: s.observations, window: metric.warmup, minimumHistory: metric.warmup,
                          next: nil, last: [], rule: ruleSettings.map { rule(s.rule, $0, next: s.observations + 1) })
        }
        let hourly = metric?.mode == .hour
        let window = hourly ? b.windowDays * 24 : b.windowDays
        // Estimated sleep and the rhythm features close with the activity stream's days.
        let closing: Stream = feature.stream == .sleep && estimated ? .activity : feature.stream
        let lastPeriod = s.history.entries.last.map { $0.period + 1 }
        let next = hourly ? (state.nextHour[name] ?? lastPeriod) : (state.progress[closing]?.nextDay ?? lastPeriod)
        let judge = judgement(series: s, feature: feature, rule: ruleSettings, configuration: c, hourly: hourly)
        func label(_ period: Int) -> String {
            hourly ? HourIndex.label(period, clock: &state.clock) : PeriodLabel.day(period)
        }
        // The centre and scale do not depend on the value judged: any value shows them (calibrated as the
        // engine would, on a copy of the z history).
        var current = next.flatMap { judge(0, $0) }
        if b.calibrate, let d = current, let next {
            var zs = s.zHistory
            current = Calibration.apply(d, period: next, window: window, minHistory: b.minHistoryDays, history: &zs)
        }
        let judgedZ = Dictionary(s.judged.entries.map { ($0.period, $0.value) }, uniquingKeysWith: { $1 })
        let values = s.history.entries.suffix(max(0, last)).map { e in
            Value(period: label(e.period), value: e.value, z: judgedZ[e.period])
        }
        let coverage = next.map { s.history.values(from: $0 - window, before: $0).count } ?? 0
        return Series(name: name, label: estimated ? feature.estimated.label : feature.label, unit: feature.unit,
                      stream: feature.stream, kind: hourly ? "hour" : "day", baseline: "robust", estimated: estimated,
                      centre: current?.centre, scale: current?.scale, coverage: coverage, window: window,
                      minimumHistory: b.minHistoryDays, next: next.map(label), last: values,
                      rule: ruleSettings.map { rule(s.rule, $0, next: next ?? 0) })
    }

    /// How the engine judges a value of this series at a period, from the history before that period.
    static func judgement(series s: SeriesState, feature: Feature, rule ruleSettings: RuleSettings?, configuration c: EngineConfiguration,
                          hourly: Bool) -> (Double, Int) -> Deviation? {
        let b = c.baseline
        let window = hourly ? b.windowDays * 24 : b.windowDays
        let baseline = RobustBaseline(settings: b)
        let weekday: ((Int) -> Int)? = hourly ? nil : { PeriodLabel.weekday($0) }
        return { value, period in
            baseline.evaluate(value: value, period: period, history: s.history, circular: feature.isCircular,
                              floorAbsolute: ruleSettings?.floorAbsolute ?? feature.defaultFloor,
                              floorRelative: ruleSettings?.floorRelative ?? 0,
                              window: window, minHistory: b.minHistoryDays, periodsPerDay: hourly ? 24 : 1, weekday: weekday)
        }
    }

    private static func rule(_ r: ThresholdRule, _ s: RuleSettings, next: Int) -> RuleState {
        var open: [String] = []
        if let d = r.thresholdActive { open.append("threshold \(d.rawValue)") }
        if let d = r.cusumActive { open.append("cusum \(d.rawValue)") }
        let hits = r.deviating(before: next, window: s.persistenceN)
        return RuleState(direction: s.direction.rawValue, threshold: s.threshold,
                         persistenceK: s.persistenceK, persistenceN: s.persistenceN, deviatingLow: hits.low, deviatingHigh: hits.high,
                         cusumLow: s.cusumK == nil ? nil : r.cusumLow, cusumHigh: s.cusumK == nil ? nil : r.cusumHigh,
                         cusumH: s.cusumK == nil ? nil : s.cusumH, open: open,
                         thresholdCooldown: max(0, r.thresholdCooldownUntil == .min ? 0 : r.thresholdCooldownUntil - next),
                         cusumCooldown: max(0, r.cusumCooldownUntil == .min ? 0 : r.cusumCooldownUntil - next))
    }
}

extension ThresholdRule {
    /// Periods that deviated low and high among the `window` periods before `next`.
    func deviating(before next: Int, window: Int) -> (low: Int, high: Int) {
        (lowHitPeriods.filter { $0 >= next - window }.count, highHitPeriods.filter { $0 >= next - window }.count)
    }
}
