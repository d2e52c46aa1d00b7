/// The engine's decision logic over one subject's state, holding only the configuration, so the
/// engine can hand it a subject's state in place (no copy of the state per row).
final class EngineEvaluator: Sendable {
    let configuration: EngineConfiguration

    init(configuration: EngineConfiguration) {
        self.configuration = configuration
    }

    /// The input has ended (a replay): every stream closes its days up to and including the day of the
    /// subject's last row, and up to `latest` (the newest row of the whole input) minus the close delay.
    func finish<S: EngineSink>(subject: String, state: inout SubjectState, latest: Double, into sink: inout S) {
        guard state.watermark.isFinite else { return }
        let endOfLastDay = state.clock.startOfDay(state.clock.day(of: state.watermark) + 1)
        let horizon = max(endOfLastDay, latest - configuration.closeDelaySeconds)
        for stream in Stream.allCases where state.progress[stream] != nil {
            closeStream(stream, horizon: horizon, subject: subject, state: &state, into: &sink)
        }
    }

    /// The caller's clock: a stream that has had no row for `maxLateness` closes the days its data
    /// never moved past once they ended `maxLateness` ago (when `inputEnded`, every stream is quiet and
    /// days close once they ended `closeDelay` ago). Returns whether anything changed.
    func advance<S: EngineSink>(subject: String, state: inout SubjectState, now: Double, inputEnded: Bool,
                                into sink: inout S) -> Bool {
        let lateness = inputEnded ? configuration.closeDelaySeconds : configuration.maxLatenessSeconds
        let before = (state.progress, state.nextHour, state.gaps)
        for stream in Stream.allCases {
            guard let p = state.progress[stream] else { continue }
            let quiet = inputEnded || (p.lastArrival ?? -.infinity) <= now - configuration.maxLatenessSeconds
            if quiet {
                closeStream(stream, horizon: now - lateness, subject: subject, state: &state, into: &sink)
            }
        }
        checkRawGaps(subject: subject, state: &state, now: now, into: &sink)
        return before.0 != state.progress || before.1 != state.nextHour || before.2 != state.gaps
    }

    /// Takes one record into the subject's state (in place); returns why it was refused, if it was
    /// (nothing of it is kept then). Late and duplicate rows are counted in `tally`. `arrival` is the
    /// caller's clock (nil in a replay), kept per stream for the quiet-stream timeout.
    func ingest<S: EngineSink>(_ record: Record, subject: String, state: inout SubjectState, into sink: inout S,
                               tally: inout RowTally, arrival: Double? = nil,
                               admission version: Int = 0, allows: (String) -> Bool = { _ in true }) -> IngestRefusal? {
        if state.admittedUnder != version {
            // Asked once per subject per version of the answer; the caller drops the subject's state on a "no".
            guard allows(subject) else { return nil }
            state.admittedUnder = version
        }
        let t = record.timestamp
        let stream: Stream
        switch record {
        case .sample(let r):
            stream = .samples
            let m = configuration.metricSettings(r.metric)
            // The raw path finds the metric's series with one lookup; a new metric is checked against the bound there.
            if m.mode != .raw, let refusal = admitMetric(r.metric, state: &state) { return refusal }
            state.unsaved = true
            state.streams.insert(.samples)
            switch m.mode {
            case .raw:
                if let refusal = evaluateRaw(r, settings: m, subject: subject, state: &state, into: &sink, tally: &tally) {
                    return refusal
                }
            case .hour:
                let hour = HourIndex.of(t, clock: &state.clock)
                if let next = state.nextHour[r.metric], hour < next {
                    tally.late &+= 1
                    tally.oldestOpen = tally.oldestOpen ?? HourIndex.label(next, clock: &state.clock)
                } else {
                    // The first value of an instant counts; a repeat is a duplicate, not a second observation.
                    if !Self.insertFirst(r.value, at: t, into: &state.hours[r.metric, default: [:]][hour, default: [:]]) {
                        tally.duplicate &+= 1
                    }
                    if state.nextHour[r.metric] == nil { state.nextHour[r.metric] = hour }
                }
            case .day:
                addToDay(.samples, t, state: &state, tally: &tally) { Self.insertFirst(r.value, at: t, into: &$0.samples[r.metric, default: [:]]) }
            }
        case .sleep(let r):
            stream = .sleep
            state.unsaved = true
            state.streams.insert(.sleep)
            addToDay(.sleep, r.end, state: &state, tally: &tally) { $0.sleep.insert(r).inserted }
        case .activity(let r):
            stream = .activity
            state.unsaved = true
            state.streams.insert(.activity)
            addToDay(.activity, t, state: &state, tally: &tally) { $0.activity.insertFirst(r.count, at: r.timestamp) }
        case .typing(let r):
            stream = .typing
            state.unsaved = true
            state.streams.insert(.typing)
            addToDay(.typing, t, state: &state, tally: &tally) { $0.typing.insert(r).inserted }
        }
        if t > state.watermark { state.watermark = t }
        let advanced = state.progress.update(stream) { p -> Bool in
            if p == nil { p = StreamProgress() }
            if let arrival { p!.lastArrival = arrival }
            guard t > p!.watermark else { return false }
            p!.watermark = t
            return true
        }
        // The stream's own data says how far its days are over.
        if advanced {
            closeStream(stream, horizon: t - configuration.closeDelaySeconds, subject: subject, state: &state, into: &sink)
        }
        return nil
    }

    /// A metric name the subject has not sent before counts against `maxMetricsPerSubject`.
    func admitMetric(_ metric: String, state: inout SubjectState) -> IngestRefusal? {
        guard !state.metricNames.contains(metric) else { return nil }
        guard state.metricNames.count < configuration.maxMetricsPerSubject else {
            return .tooManyMetrics(limit: configuration.maxMetricsPerSubject)
        }
        state.metricNames.insert(metric)
        return nil
    }

    /// Keeps the first value of an instant: a repeat (a resend, an overlapping upload) changes nothing.
    /// False when the instant was already there.
    static func insertFirst(_ value: Double, at t: Double, into values: inout [Double: Double]) -> Bool {
        // One hash lookup: the default is evaluated, and stored, only when the instant is not there yet.
        var inserted = false
        keep(&values[t, default: { inserted = true; return value }()])
        return inserted
    }

    /// A mutating access that changes nothing (it makes `subscript(_:default:)` store its default).
    @inline(__always) private static func keep(_ value: inout Double) {}

    /// Places a row in its day of `stream` (`add` returns false for a row the day already holds: a duplicate).
    func addToDay(_ stream: Stream, _ t: Double, state: inout SubjectState, tally: inout RowTally, _ add: (inout DayBucket) -> Bool) {
        let day = state.clock.day(of: t)
        // Where the row goes: its day is open (nil), or the stream has closed it (the oldest day still open).
        let closedFrom = state.progress.update(stream) { p -> Int? in
            if p == nil { p = StreamProgress() }
            guard let next = p!.nextDay else {
                p!.nextDay = day
                return nil
            }
            guard day < next else { return nil }
            // Before the stream has closed anything, an earlier row just moves its start back.
            guard p!.closedAny else {
                p!.nextDay = day
                return nil
            }
            return next
        }
        if let next = closedFrom {
            tally.late &+= 1
            tally.oldestOpen = tally.oldestOpen ?? PeriodLabel.day(next)
            return
        }
        if !add(&state.days[day, default: DayBucket()]) { tally.duplicate &+= 1 }
    }

    // MARK: Raw metrics

    func evaluateRaw<S: EngineSink>(_ r: SampleRecord, settings m: MetricSettings, subject: String,
                                           state: inout SubjectState, into sink: inout S, tally: inout RowTally) -> IngestRefusal? {
        // One lookup of the metric's series per row; a metric without one is new (checked against the bound).
        var index = state.series.index(forKey: r.metric)
        if let i = index {
            // Idempotent per (subject, metric, instant): a resent or repeated sample is not observed twice.
            if state.series.values[i].holds(instant: r.timestamp) {
                tally.duplicate &+= 1
                return nil
            }
        } else {
            if let refusal = admitMetric(r.metric, state: &state) { return refusal }
            state.series[r.metric] = SeriesState()
            index = state.series.index(forKey: r.metric)
        }
        if state.gaps[.samples] == nil {
            state.gaps[.samples] = GapRule(firstSeen: r.timestamp)
        } else if state.gaps[.samples]!.isOpen, case .closed(let since)? = state.gaps[.samples]!.covered(until: r.timestamp) {
            sink.emit(gapResolved(subject: subject, stream: .samples, since: since, at: r.timestamp))
        } else {
            state.gaps[.samples]!.noteCovered(until: r.timestamp)
        }
        // Mutate the series in place: copying it out would copy its buffers on every row.
        let localHour = m.baseline == .seasonal ? Int((state.clock.local(r.timestamp) / 3600).rounded(.down)) : 0
        evaluateRaw(r, settings: m, subject: subject, localHour: localHour, series: &state.series.values[index!], into: &sink)
        return nil
    }

    func evaluateRaw<S: EngineSink>(_ r: SampleRecord, settings m: MetricSettings, subject: String, localHour: Int = 0,
                                           series: inout SeriesState, into sink: inout S) {
        let rule = m.rule
        series.observations += 1
        series.lastInstant = r.timestamp
        let floorAbsolute = rule?.floorAbsolute ?? 0
        let floorRelative = rule?.floorRelative ?? 0
        var deviation: Deviation?
        switch m.baseline {
        case .ewma, .robust:
            deviation = series.ewma.observe(r.value, alpha: m.alpha, warmup: m.warmup,
                                            floorAbsolute: floorAbsolute, floorRelative: floorRelative)
        case .rolling:
            var rolling = series.rolling.take() ?? RollingBaseline()
            deviation = rolling.observe(r.value, at: r.timestamp, window: m.windowSeconds, slots: m.windowSlots,
                                        minimum: min(m.warmup, m.windowSlots), floorAbsolute: floorAbsolute, floorRelative: floorRelative)
            series.rolling = rolling
        case .seasonal:
            var seasonal = series.seasonal.take() ?? SeasonalBaseline()
            deviation = seasonal.observe(r.value, localHour: localHour, period: m.seasonalPeriodHours, cycles: m.seasonalCycles,
                                         minimum: m.seasonalMinimum, warmup: m.warmup, floorAbsolute: floorAbsolute, floorRelative: floorRelative)
            series.seasonal = seasonal
        }
        if m.likelihood, let raw = deviation {
            var layer = series.likelihood.take() ?? AnomalyLikelihood()
            deviation = layer.observe(raw, short: m.likelihoodShort, long: m.likelihoodLong, warmup: 10 * m.likelihoodShort)
            series.likelihood = layer
        }
        guard let d = deviation else { return }
        if sink.wantsObservations {
            sink.observe(Observation(timestamp: r.timestamp, subject: subject, metric: r.metric, deviation: d))
        }
        guard let rule else { return }
        let events = series.rule.evaluate(period: series.observations, z: d.z, settings: rule)
        if !events.isEmpty {
            var feature = Feature.metric(r.metric)
            if m.likelihood {
                // The value judged is the recent average anomaly score, not the metric itself.
                feature = Feature(name: r.metric, stream: .samples, unit: .ratio,
                                  label: "\(feature.label) anomaly level (mean score of the last \(m.likelihoodShort))")
            }
            emit(events, feature: feature, deviation: d, rule: rule, kind: .instant,
                 period: PeriodLabel.instant(r.timestamp), periodStart: r.timestamp,
                 subject: subject, series: &series, into: &sink)
        }
    }

    func checkRawGaps<S: EngineSink>(subject: String, state: inout SubjectState, now: Double, into sink: inout S) {
        guard let limit = configuration.gapSeconds[.samples], var gap = state.gaps[.samples],
              configuration.metrics.values.contains(where: { $0.mode == .raw }) || configuration.defaultMetric.mode == .raw
        else { return }
        if case .opened(let since, let silent)? = gap.check(now: now, limit: limit) {
            sink.emit(gapOpened(subject: subject, stream: .samples, since: since, silent: silent, at: now))
        }
        state.gaps[.samples] = gap
    }

    // MARK: Closing periods

    /// Closes the days (and, for `samples`, the hours) of one stream that end at or before `horizon`,
    /// then lets the composite rules decide the days every stream has closed.
    func closeStream<S: EngineSink>(_ stream: Stream, horizon: Double, subject: String, state: inout SubjectState,
                                    into sink: inout S) {
        if let next = state.progress[stream]?.nextDay {
            let limit = state.clock.day(of: horizon)
            if next < limit {
                closeDays(next..<limit, stream: stream, subject: subject, state: &state, into: &sink)
                state.progress[stream]!.nextDay = limit
                state.progress[stream]!.closedAny = true
                decideComposites(subject: subject, state: &state, into: &sink)
            }
        }
        if stream == .samples && !state.nextHour.isEmpty {
            let limitHour = HourIndex.of(horizon, clock: &state.clock)
            for metric in state.nextHour.keys.sorted() {
                guard let next = state.nextHour[metric], next < limitHour else { continue }
                let buckets = state.hours[metric] ?? [:]
                for hour in buckets.keys.sorted() where hour < limitHour {
                    closeHour(hour, metric: metric, values: buckets[hour]!, subject: subject, state: &state, into: &sink)
                    state.hours[metric]![hour] = nil
                }
                state.nextHour[metric] = limitHour
            }
        }
    }

    /// Closes the days of `range` of one stream in order, at a cost proportional to the days with
    /// data, not to calendar days (a row from long ago, or a stream silent for a year, must not make
    /// the engine walk every day in between). A day without data changes nothing unless it is the
    /// first of a silent run (a gap rule may be created) or the day the stream's gap opens; only those
    /// are closed, so alerts and state are exactly those of closing every day.
    func closeDays<S: EngineSink>(_ range: Range<Int>, stream: Stream, subject: String, state: inout SubjectState,
                                  into sink: inout S) {
        // An empty day has features only when a configuration asks for none (no minimum wear or keystrokes):
        // then every day counts, and each is closed.
        let emptyDaysScored = (stream == .activity && configuration.activity.minWearMinutes <= 0)
            || (stream == .typing && configuration.typing.minKeystrokes <= 0)
        if emptyDaysScored {
            for day in range { closeDay(day, stream: stream, subject: subject, state: &state, into: &sink) }
            return
        }
        let withData = state.days.compactMap { range.contains($0.key) && $0.value.has(stream) ? $0.key : nil }.sorted()
        var nextData = 0
        var day = range.lowerBound
        while day < range.upperBound {
            closeDay(day, stream: stream, subject: subject, state: &state, into: &sink)
            while nextData < withData.count && withData[nextData] <= day { nextData += 1 }
            var next = nextData < withData.count ? withData[nextData] : range.upperBound
            if let opens = firstGapOpening(stream, after: day, before: next, state: &state) { next = opens }
            day = next
        }
    }

    /// The earliest day after `day` and before `limit` on which an empty day could open the stream's gap
    /// (a day or so early is harmless: closing an empty day that opens nothing changes nothing).
    private func firstGapOpening(_ stream: Stream, after day: Int, before limit: Int, state: inout SubjectState) -> Int? {
        // The samples stream is checked on an empty day only when metrics are aggregated per day by default.
        if stream == .samples && configuration.defaultMetric.mode != .day { return nil }
        guard let seconds = configuration.gapSeconds[stream], let gap = state.gaps[stream], !gap.isOpen else { return nil }
        // Opens on the first day whose end is at least `seconds` after the last covered instant.
        let due = gap.lastCovered + seconds
        guard due <= state.clock.startOfDay(limit) else { return nil }
        let candidate = max(day + 1, state.clock.day(of: due) - 1)
        return candidate < limit ? candidate : nil
    }

    func closeHour<S: EngineSink>(_ hour: Int, metric: String, values: [Double: Double], subject: String,
                                          state: inout SubjectState, into sink: inout S) {
        let m = configuration.metricSettings(metric)
        guard values.count >= m.minObservations, let value = Aggregation.apply(m.aggregate, CanonicalOrder.values(values)) else { return }
        let start = HourIndex.start(hour, clock: &state.clock)
        var series = state.series[metric] ?? SeriesState()
        let b = configuration.baseline
        _ = evaluatePeriod(value: value, period: hour, kind: .hour, feature: Feature.metric(metric), rule: m.rule,
                           window: b.windowDays * 24, minHistory: b.minHistoryDays, periodsPerDay: 24,
                           label: HourIndex.label(hour, clock: &state.clock), start: start, subject: subject,
                           series: &series, suppressed: state.gaps[.samples]?.isOpen ?? false, into: &sink)
        series.history.trim(before: hour - min(b.windowDays * 24 + 1, configuration.retentionDays * 24 - 1))
        state.series[metric] = series
        if var gap = state.gaps[.samples] {
            if case .closed(let since)? = gap.covered(until: start + 3600) {
                sink.emit(gapResolved(subject: subject, stream: .samples, since: since, at: start + 3600))
            }
            state.gaps[.samples] = gap
        } else {
            state.gaps[.samples] = GapRule(firstSeen: start)
        }
    }

    /// Closes one day of one stream: derives the stream's features from its rows of the day, checks the
    /// stream's gap, scores and rules the features, and keeps their z-scores for the composite rules.
    func closeDay<S: EngineSink>(_ day: Int, stream: Stream, subject: String, state: inout SubjectState, into sink: inout S) {
        state.daysClosed += 1
        var bucket = DayBucket()
        if let i = state.days.index(forKey: day) {
            bucket = state.days.values[i]
            state.days.values[i].clear(stream)
            if state.days.values[i].isEmpty { state.days.remove(at: i) }
        }
        let start = state.clock.startOfDay(day)
        let end = state.clock.startOfDay(day + 1)
        var clock = state.clock
        let label = PeriodLabel.day(day)

        var values: [String: Double]?
        // Features another stream's rows estimate (sleep from activity), and whether the stream's own data
        // covered the day (for its gap rule; nil: it did when it has any feature).
        var estimated: Set<String> = []
        var covered: Bool?
        switch stream {
        case .sleep:
            values = SleepFeatures.compute(sessions: CanonicalOrder.sessions(bucket.sleep), settings: configuration.sleep) { clock.minuteOfDay($0) }
        case .activity:
            let activity = activityDay(bucket.activity, day: day, start: start, end: end, clock: &clock,
                                       carry: &state.activityCarry, estimateSleep: !state.streams.contains(.sleep))
            values = activity.values
            estimated = activity.estimated
            covered = activity.covered
        case .typing:
            values = TypingFeatures.compute(events: CanonicalOrder.keystrokes(bucket.typing), settings: configuration.typing) { clock.minuteOfDay($0) }
        case .samples:
            var metricValues: [String: Double] = [:]
            for (metric, samples) in bucket.samples {
                let m = configuration.metricSettings(metric)
                if samples.count >= m.minObservations, let v = Aggregation.apply(m.aggregate, CanonicalOrder.values(samples)) {
                    metricValues[metric] = v
                }
            }
            if configuration.metricsAggregatedDaily(seen: bucket.samples.keys) { values = metricValues }
        }
        state.clock = clock

        // A stream whose gap was open when this day began stays suppressed for the whole day, the day
        // its data come back included: that day is usually partial (the watch was charging until noon).
        let suppressedAtStart = state.gaps[stream]?.isOpen ?? false
        // Then the gap: no usable data today may open it; data closes it.
        if let values {
            let covered = covered ?? !values.isEmpty
            var gap = state.gaps[stream] ?? GapRule(firstSeen: start)
            if covered {
                if case .closed(let since)? = gap.covered(until: end) {
                    sink.emit(gapResolved(subject: subject, stream: stream, since: since, at: end))
                }
            } else if let limit = configuration.gapSeconds[stream],
                      case .opened(let since, let silent)? = gap.check(now: end, limit: limit) {
                sink.emit(gapOpened(subject: subject, stream: stream, since: since, silent: silent, at: end))
            }
            state.gaps[stream] = gap
        }
        guard let values, !values.isEmpty else { return }

        var zs: [String: Double] = [:]
        let b = configuration.baseline
        let suppressed = suppressedAtStart || (state.gaps[stream]?.isOpen ?? false)
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            var feature = stream == .samples ? Feature.metric(name) : (Feature.builtIn(named: name) ?? Feature.metric(name))
            if estimated.contains(name) { feature = feature.estimated }
            let rule = stream == .samples ? configuration.metricSettings(name).rule : configuration.rules[name]
            var series = state.series[name] ?? SeriesState()
            if let d = evaluatePeriod(value: value, period: day, kind: .day, feature: feature, rule: rule,
                                      window: b.windowDays, minHistory: b.minHistoryDays,
                                      label: label, start: start, subject: subject,
                                      series: &series, suppressed: suppressed, into: &sink), !suppressed {
                zs[name] = d.z
            }
            series.history.trim(before: day - min(b.windowDays + 1, configuration.retentionDays - 1))
            state.series[name] = series
        }
        // Kept for the composite rules until every stream has closed the day; a stream that closes a day
        // the composites already decided (it started sending after the others had moved on) is too late for them.
        let wanted = zs.filter { z in configuration.composites.contains { $0.features.contains(z.key) } }
        if !wanted.isEmpty && day >= (state.compositeNext ?? Int.min) {
            state.compositeDays[day, default: [:]].merge(wanted) { $1 }
        }
    }

    /// Runs the composite rules over the days every day-bound stream of the subject has closed, in order.
    /// A day no stream gave a z for changes no composite, so only days with z-scores are visited.
    func decideComposites<S: EngineSink>(subject: String, state: inout SubjectState, into sink: inout S) {
        var limit = Int.max
        for stream in Stream.allCases {
            if let next = state.progress[stream]?.nextDay { limit = min(limit, next) }
        }
        guard limit != Int.max, limit > (state.compositeNext ?? Int.min) else { return }
        state.compositeNext = limit
        guard !state.compositeDays.isEmpty else { return }
        for day in state.compositeDays.keys.filter({ $0 < limit }).sorted() {
            let zs = state.compositeDays.removeValue(forKey: day)!
            let label = PeriodLabel.day(day)
            let start = state.clock.startOfDay(day)
            for composite in configuration.composites {
                var rule = state.composites[composite.name] ?? CompositeRule()
                if let result = rule.evaluate(period: day, zs: composite.features.map { zs[$0] }, settings: composite,
                                              window: configuration.baseline.windowDays),
                   let event = result.event {
                    sink.emit(compositeAlert(event, composite: composite, zs: zs, subject: subject, label: label, start: start))
                }
                state.composites[composite.name] = rule
            }
        }
    }

    /// What one closed day of activity yields: its features, the sleep features estimated from the night
    /// that ended on it, and the rhythm features of the days up to it.
    struct ActivityDay {
        var values: [String: Double]
        var estimated: Set<String>
        /// The day was worn long enough to have its own activity features.
        var covered: Bool
    }

    func activityDay(_ epochs: MinuteEpochs, day dayIndex: Int, start: Double, end: Double, clock: inout ZoneClock,
                     carry: inout ActivityCarry, estimateSleep: Bool) -> ActivityDay {
        let length = max(1, Int(((end - start) / 60).rounded()))
        var minutes = [Double?](repeating: nil, count: length)
        // In time order: several epochs in one minute (sub-minute epochs) add up in that order, so the sum
        // is the same to the last bit whatever order they arrived in.
        for (t, count) in epochs.epochs {
            let i = Int(((t - start) / 60).rounded(.down))
            guard i >= 0 && i < length else { continue }
            minutes[i] = (minutes[i] ?? 0) + count
        }
        let settings = configuration.activity
        let nonWear = NonWear.mark(minutes, settings: settings)
        let result = ActivityFeatures.compute(minutes: minutes, nonWear: nonWear, settings: settings) { i in
            clock.minuteOfDay(start + Double(i) * 60)
        }
        var day = ActivityDay(values: result.values, estimated: [], covered: !result.values.isEmpty)
        guard minutes.contains(where: { $0 != nil }) else { return day }
        if estimateSleep {
            let night = nightValues(minutes, day: dayIndex, start: start, carry: carry, clock: &clock)
            for (name, value) in night {
                day.values[name] = value
                day.estimated.insert(name)
            }
        }
        carry.eveningDay = dayIndex
        carry.evening = minutes.suffix(ActivityCarry.eveningMinutes).map { $0.map(Float.init) ?? .nan }
        for (name, value) in rhythmValues(minutes, nonWear: nonWear, day: dayIndex, start: start,
                                          worn: result.wornMinutes >= settings.minWearMinutes, carry: &carry, clock: &clock) {
            day.values[name] = value
        }
        return day
    }

    /// The sleep features of the night that ended on `day`, estimated from minute activity: the window from
    /// noon of the day before (the evening the carry holds) to the end of `day`, scored by Cole–Kripke; the
    /// night's rest period is the main one that ends between 18:00 the day before and 18:00 on `day`.
    func nightValues(_ minutes: [Double?], day: Int, start: Double, carry: ActivityCarry, clock: inout ZoneClock) -> [String: Double] {
        let settings = configuration.activity
        let lead = ActivityCarry.eveningMinutes
        var counts: [Double?] = carry.eveningDay == day - 1 && carry.evening.count == lead
            ? carry.evening.map { $0.isNaN ? nil : Double($0) }
            : [Double?](repeating: nil, count: lead)
        counts += minutes
        for (i, off) in NonWear.mark(counts, settings: settings).enumerated() where off { counts[i] = nil }
        let sleep = ColeKripke.score(counts, divisor: settings.sleepCountDivisor)
        let ends = (lead - 6 * 60 + 1)...min(counts.count, lead + 18 * 60)
        let rules = RestPeriod.Settings(bridge: settings.restBridgeMinutes,
                                        minimumDuration: Int(configuration.sleep.minMainSleepMinutes.rounded(.up)),
                                        maxNonWear: settings.restMaxNonWearMinutes, maximumDuration: settings.restMaxMinutes)
        guard let rest = RestPeriod.find(counts: counts, sleep: sleep, ends: ends, settings: rules) else { return [:] }
        let origin = start - Double(lead) * 60
        let onset = origin + Double(rest.onset) * 60
        let offset = origin + Double(rest.offset) * 60
        return [
            Feature.sleepDuration.name: Double(rest.sleepMinutes),
            Feature.timeInBed.name: Double(rest.duration),
            Feature.sleepEfficiency.name: rest.efficiency,
            Feature.wakeAfterSleepOnset.name: Double(rest.wakeMinutes),
            Feature.sleepOnset.name: clock.minuteOfDay(onset),
            Feature.wakeTime.name: clock.minuteOfDay(offset),
            Feature.sleepMidpoint.name: clock.minuteOfDay((onset + offset) / 2),
        ]
    }

    /// Keeps `day`'s minutes in the rhythm window and, when the day was worn and enough of the window's
    /// days were, returns the rhythm features over the window (`RhythmFeatures`).
    func rhythmValues(_ minutes: [Double?], nonWear: [Bool], day: Int, start: Double, worn: Bool, carry: inout ActivityCarry,
                      clock: inout ZoneClock) -> [String: Double] {
        let settings = configuration.activity
        var bits = MinuteBits()
        bits.worn = worn
        for (i, count) in minutes.enumerated() {
            guard let count, !nonWear[i] else { continue }
            // A day of 1440 minutes starts at local midnight; on a DST day the clock says which minute it is.
            let slot = minutes.count == 1440 ? i : Int(clock.minuteOfDay(start + Double(i) * 60).rounded(.down)) % 1440
            bits.set(slot, active: count > settings.rhythmThreshold)
        }
        let first = day - settings.rhythmWindowDays + 1
        carry.rhythm[day] = bits
        for old in carry.rhythm.keys where old < first { carry.rhythm[old] = nil }
        guard worn, carry.rhythm.values.filter(\.worn).count >= settings.rhythmMinDays else { return [:] }
        var series = [RhythmFeatures.Minute](repeating: nil, count: settings.rhythmWindowDays * 1440)
        series.withUnsafeMutableBufferPointer { series in
            for (k, d) in (first...day).enumerated() {
                guard let b = carry.rhythm[d] else { continue }
                for m in 0..<1440 { series[k * 1440 + m] = b.minute(m) }
            }
        }
        let r = RhythmFeatures.compute(series)
        var values: [String: Double] = [:]
        values[Feature.interdailyStability.name] = r.interdailyStability
        values[Feature.intradailyVariability.name] = r.intradailyVariability
        values[Feature.relativeAmplitude.name] = r.relativeAmplitude
        values[Feature.l5.name] = r.l5
        values[Feature.m10.name] = r.m10
        values[Feature.l5Onset.name] = r.l5Start.map(Double.init)
        values[Feature.m10Onset.name] = r.m10Start.map(Double.init)
        return values
    }

    // MARK: Scoring and rules

    /// Scores one period's value against the series' history, records it, and runs the rules.
    func evaluatePeriod<S: EngineSink>(value: Double, period: Int, kind: PeriodKind, feature: Feature,
                                               rule: RuleSettings?, window: Int, minHistory: Int, periodsPerDay: Int = 1,
                                               label: String, start: Double, subject: String,
                                               series: inout SeriesState, suppressed: Bool,
                                               into sink: inout S) -> Deviation? {
        let baseline = RobustBaseline(settings: configuration.baseline)
        let weekday: ((Int) -> Int)? = kind == .day ? { PeriodLabel.weekday($0) } : nil
        let deviation = baseline.evaluate(value: value, period: period, history: series.history,
                                          circular: feature.isCircular,
                                          floorAbsolute: rule?.floorAbsolute ?? feature.defaultFloor, floorRelative: rule?.floorRelative ?? 0,
                                          window: window, minHistory: minHistory, periodsPerDay: periodsPerDay,
                                          weekday: weekday)
        series.history.record(period: period, value: value)
        guard var d = deviation else { return nil }
        if configuration.baseline.calibrate {
            d = Calibration.apply(d, period: period, window: window, minHistory: minHistory, history: &series.zHistory)
        }
        series.recordJudgement(d, period: period, daily: kind == .day)
        if sink.wantsObservations {
            sink.observe(Observation(timestamp: start, subject: subject, metric: feature.name, deviation: d))
        }
        if let rule, !suppressed {
            let events = series.rule.evaluate(period: period, z: d.z, settings: rule)
            emit(events, feature: feature, deviation: d, rule: rule, kind: kind, period: label, periodStart: start,
                 subject: subject, series: &series, into: &sink)
        }
        return d
    }

    func emit<S: EngineSink>(_ events: [RuleEvent], feature: Feature, deviation d: Deviation, rule: RuleSettings,
                                     kind: PeriodKind, period: String, periodStart: Double, subject: String,
                                     series: inout SeriesState, into sink: inout S) {
        for event in events {
            switch event {
            case .threshold(let direction, let hits, let window):
                let noun = Explanation.periodNoun(kind, stream: feature.stream, count: window)
                let detail = window == 1 ? "this \(Explanation.periodNoun(kind, stream: feature.stream, count: 1))"
                    : "\(hits) of the last \(window) \(noun)"
                sink.emit(Alert(kind: .deviation, severity: abs(d.z) >= 2 * rule.threshold ? .critical : .warning,
                                subject: subject, rule: "\(feature.name).threshold", features: [feature.name],
                                value: d.value, baseline: d.centre, scale: d.scale, z: d.z, direction: direction,
                                period: period, periodStart: periodStart,
                                explanation: Explanation.deviation(feature: feature, deviation: d, detail: detail)))
            case .cusum(let direction, let sum):
                let detail = "sustained \(direction == .low ? "decrease" : "increase") (CUSUM \(String(format: "%.1f", sum)) over \(String(format: "%.1f", rule.cusumH)))"
                sink.emit(Alert(kind: .deviation, severity: .warning,
                                subject: subject, rule: "\(feature.name).cusum", features: [feature.name],
                                value: d.value, baseline: d.centre, scale: d.scale, z: d.z, direction: direction,
                                period: period, periodStart: periodStart,
                                explanation: Explanation.deviation(feature: feature, deviation: d, detail: detail)))
            case .resolved(let sub):
                sink.emit(Alert(kind: .resolved, severity: .info,
                                subject: subject, rule: "\(feature.name).\(sub)", features: [feature.name],
                                value: d.value, baseline: d.centre, scale: d.scale, z: d.z, direction: nil,
                                period: period, periodStart: periodStart,
                                explanation: "\(feature.label) back to \(Explanation.format(d.value, unit: feature.unit)), usual "
                                    + "\(Explanation.format(d.centre, unit: feature.unit)) ± \(Explanation.formatScale(d.scale, unit: feature.unit))"))
            }
        }
    }

    func compositeAlert(_ event: CompositeRule.Event, composite: CompositeSettings, zs: [String: Double],
                                subject: String, label: String, start: Double) -> Alert {
        let parts = composite.features.compactMap { name -> String? in
            guard let z = zs[name] else { return nil }
            let label = Feature.builtIn(named: name)?.label ?? name
            return "\(label) z \(String(format: "%+.1f", z))"
        }
        let present = composite.features.filter { zs[$0] != nil }
        switch event {
        case .alert(let statistic, let bound, let hits, let window):
            let how = composite.covariance ? "distance by the person's own covariance" : "sum of squares"
            let combined = String(format: "combined %.1f over %.1f (", statistic, bound) + how + ", chi-square, \(present.count) features)"
            let explanation: String = "several features moved together: \(parts.joined(separator: ", ")); \(combined), \(hits) of the last \(window) days"
            return Alert(kind: .composite, severity: .warning, subject: subject, rule: "composite.\(composite.name)",
                         features: present, value: statistic, baseline: bound, scale: nil, z: nil, direction: nil,
                         period: label, periodStart: start, explanation: explanation)
        case .resolved(let statistic):
            return Alert(kind: .resolved, severity: .info, subject: subject, rule: "composite.\(composite.name)",
                         features: present, value: statistic, baseline: nil, scale: nil, z: nil, direction: nil,
                         period: label, periodStart: start,
                         explanation: "features back near usual together: " + parts.joined(separator: ", "))
        }
    }

    func gapOpened(subject: String, stream: Stream, since: Double, silent: Double, at: Double) -> Alert {
        Alert(kind: .gap, severity: .notice, subject: subject, rule: "gap.\(stream.rawValue)", features: [],
              value: silent / 3600, baseline: nil, scale: nil, z: nil, direction: nil,
              period: PeriodLabel.instant(since), periodStart: since,
              explanation: "no usable \(stream.rawValue) data for \(String(format: "%.1f", silent / 86_400)) days"
                + " (since \(PeriodLabel.instant(since)))")
    }

    func gapResolved(subject: String, stream: Stream, since: Double, at: Double) -> Alert {
        Alert(kind: .resolved, severity: .info, subject: subject, rule: "gap.\(stream.rawValue)", features: [],
              value: (at - since) / 3600, baseline: nil, scale: nil, z: nil, direction: nil,
              period: PeriodLabel.instant(since), periodStart: since,
              explanation: "\(stream.rawValue) data is back after \(String(format: "%.1f", (at - since) / 86_400)) days")
    }
}

extension EngineConfiguration {
    /// True when at least one of the metrics seen is aggregated per day.
    func metricsAggregatedDaily(seen: Dictionary<String, [Double: Double]>.Keys) -> Bool {
        seen.contains { metricSettings($0).mode == .day } || (defaultMetric.mode == .day)
    }
}

/// Rows an ingest call found late (their period already closed) or duplicate (already held; a raw sample not newer
/// than its series' latest): counted by the engine as it goes, never summed over subjects.
struct RowTally: Sendable {
    var late = 0
    var duplicate = 0
    /// For a late row: the subject's oldest period still open (a local date, or an hour for hourly metrics).
    var oldestOpen: String?
}
