import Foundation
import Testing
@testable import CanaryCore

@Suite("Engine")
struct EngineTests {
    // MARK: Helpers

    /// The night that ends on day `i` (2026-01-01 + i): from 23:00 the evening before, `hours` long.
    static func night(_ i: Int, hours: Double, subject: String = "p1") -> Record {
        let start = Fixture.day(i) - 3600
        return .sleep(SleepRecord(subject: subject, start: start, end: start + hours * 3600))
    }

    /// 20 nights of 7.5 h, 4 nights of 4 h, then 4 nights of 7.5 h again.
    static func sleepScenario(subject: String = "p1") -> [Record] {
        (0..<28).map { night($0, hours: (20..<24).contains($0) ? 4 : 7.5, subject: subject) }
    }

    static func run(_ records: [Record], configuration: EngineConfiguration = EngineConfiguration(),
                    observations: Bool = false) -> (alerts: [Alert], observations: [Observation], engine: CanaryEngine) {
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: observations)
        for r in records { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        return (sink.alerts, sink.observations, engine)
    }

    static func label(_ i: Int) -> String { PeriodLabel.day(Fixture.dayIndex0 + i) }

    // MARK: Sleep deviation, resolution and idempotency

    @Test func shortSleepRaisesADeviationAndThenResolves() throws {
        let alerts = Self.run(Self.sleepScenario()).alerts.filter { $0.rule == "sleep_duration.threshold" }
        #expect(alerts.map(\.kind) == [.deviation, .resolved])

        let a = try #require(alerts.first)
        // History: 20 x 450 (+ earlier short nights), MAD 0 -> scale floor max(20, 5% of 450) = 22.5.
        // Third short night of four (2026-01-23): z = (240 - 450) / 22.5.
        #expect(a.period == "2026-01-23")
        #expect(a.period == Self.label(22))
        #expect(a.periodStart == Fixture.day(22))
        #expect(a.subject == "p1")
        #expect(a.features == ["sleep_duration"])
        #expect(a.value == 240)
        #expect(a.baseline == 450)
        #expect(a.scale == 22.5)
        #expect(a.z == -210 / 22.5)
        #expect(a.direction == .low)
        #expect(a.severity == .critical)     // |z| >= 2 x threshold
        #expect(a.explanation.contains("3 of the last 4 nights"))
        #expect(a.explanation.hasPrefix("sleep duration 4.0 h, usual 7.5 h"))
        #expect(a.id == Alert.makeID(subject: "p1", rule: "sleep_duration.threshold", period: "2026-01-23", kind: .deviation))

        // First normal night again (2026-01-25) resolves the episode.
        let r = try #require(alerts.last)
        #expect(r.kind == .resolved)
        #expect(r.period == "2026-01-25")
        #expect(r.value == 450)
        #expect(r.z == 0)
        #expect(r.severity == .info)
    }

    @Test func noSleepDurationAlertBeforeEnoughHistory() {
        // The same four short nights, but after only 10 normal ones: no baseline yet (minHistoryDays 14).
        let records = (0..<18).map { Self.night($0, hours: (10..<14).contains($0) ? 4 : 7.5) }
        let alerts = Self.run(records).alerts.filter { $0.features.contains("sleep_duration") }
        #expect(alerts.isEmpty)
    }

    @Test func sameInputGivesTheSameAlertsAndIDs() {
        let first = Self.run(Self.sleepScenario()).alerts
        let second = Self.run(Self.sleepScenario()).alerts
        #expect(!first.isEmpty)
        #expect(first == second)
        #expect(first.map(\.id) == second.map(\.id))
        // Different subjects with the same data get different ids.
        let other = Self.run(Self.sleepScenario(subject: "p2")).alerts
        #expect(other.count == first.count)
        #expect(Set(other.map(\.id)).isDisjoint(with: first.map(\.id)))
    }

    @Test func duplicateSleepSessionsAreIdempotent() {
        let once = Self.run(Self.sleepScenario())
        let twice = Self.run(Self.sleepScenario().flatMap { [$0, $0] }, observations: true)
        #expect(twice.alerts == once.alerts)
        #expect(twice.engine.lateRows == 0)
        // The doubled night is not counted as 8 hours of sleep.
        let durations = twice.observations.filter { $0.metric == "sleep_duration" }.map(\.deviation.value)
        #expect(durations.allSatisfy { $0 == 450 || $0 == 240 })
    }

    @Test func subjectsAreIndependent() {
        // p2 sleeps normally throughout, interleaved with p1's scenario.
        let p1 = Self.sleepScenario()
        let p2 = (0..<28).map { Self.night($0, hours: 7.5, subject: "p2") }
        let mixed = zip(p1, p2).flatMap { [$0, $1] }
        let (alerts, _, engine) = Self.run(mixed)
        #expect(engine.subjectCount == 2)
        #expect(alerts.allSatisfy { $0.subject == "p1" })
        #expect(alerts.filter { $0.rule == "sleep_duration.threshold" }.map(\.period) == ["2026-01-23", "2026-01-25"])
    }

    @Test func lateRowsAreCountedNotEvaluated() {
        var records = Self.sleepScenario()
        records.append(Self.night(3, hours: 2))    // day 3 closed long ago
        let (alerts, _, engine) = Self.run(records)
        #expect(engine.lateRows == 1)
        #expect(alerts == Self.run(Self.sleepScenario()).alerts)
    }

    // MARK: Gaps

    /// Activity epochs for day `i`: 08:00-09:59, 120 steps a minute.
    static func activityDay(_ i: Int, subject: String = "p1") -> [Record] {
        (480..<600).map { .activity(ActivityRecord(timestamp: Fixture.day(i) + Double($0) * 60, subject: subject, count: 120)) }
    }

    @Test func silentStreamOpensAGapAndMissingDaysAreNotZero() throws {
        var configuration = EngineConfiguration()
        configuration.activity.minWearMinutes = 100
        configuration.maxLatenessSeconds = 3 * 3600  // the quiet stream's days close by the clock 3 h after they end
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: true)
        for i in 0..<20 { for r in Self.activityDay(i) { engine.ingest(r, into: &sink) } }
        #expect(sink.alerts.isEmpty)

        // No activity on days 20-23; the daemon's clock moves on to 2026-01-24 03:00.
        engine.advance(to: Fixture.day(23) + 3 * 3600, into: &sink)
        let gap = try #require(sink.alerts.first)
        #expect(sink.alerts.count == 1)
        #expect(gap.kind == .gap)
        #expect(gap.rule == "gap.activity")
        #expect(gap.severity == .notice)
        #expect(gap.period == "2026-01-21T00:00:00Z")   // silent since the end of the last covered day
        #expect(gap.periodStart == Fixture.day(20))
        #expect(gap.value == 72)                        // hours, when the 72 h limit was reached (end of day 22)
        #expect(gap.id == Alert.makeID(subject: "p1", rule: "gap.activity", period: "2026-01-21T00:00:00Z", kind: .gap))

        // Advancing again while still silent does not repeat it.
        engine.advance(to: Fixture.day(24) + 3 * 3600, into: &sink)
        #expect(sink.alerts.count == 1)

        // Data comes back on days 24-27.
        for i in 24..<28 { for r in Self.activityDay(i) { engine.ingest(r, into: &sink) } }
        engine.finish(into: &sink)
        #expect(sink.alerts.count == 2)
        let resolved = try #require(sink.alerts.last)
        #expect(resolved.kind == .resolved)
        #expect(resolved.rule == "gap.activity")
        #expect(resolved.period == "2026-01-21T00:00:00Z")
        #expect(resolved.value == 120)                  // 5 days: day 20 to the end of day 24

        // No activity deviation at all: silent days were missing, not zero steps.
        #expect(!sink.alerts.contains { $0.kind == .deviation })
        let steps = sink.observations.filter { $0.metric == "steps" }
        #expect(!steps.contains { $0.timestamp >= Fixture.day(20) && $0.timestamp < Fixture.day(24) })
        #expect(steps.allSatisfy { $0.deviation.value == 14_400 && $0.deviation.z == 0 })
        #expect(steps.map(\.timestamp) == (14..<20).map(Fixture.day) + (24..<28).map(Fixture.day))
    }

    @Test func theDayAGapClosesIsStillSuppressed() {
        // 20 ordinary days, 4 silent days (charger), then low days: the first low day is the day the
        // watch came back and raises nothing; only a persistent drop afterwards does.
        var configuration = EngineConfiguration()
        configuration.activity.minWearMinutes = 100
        var records: [Record] = []
        for i in Array(0..<20) + Array(24..<28) {
            let count: Double = i < 20 ? 120 : 15
            records += (480..<600).map {
                .activity(ActivityRecord(timestamp: Fixture.day(i) + Double($0) * 60, subject: "p1", count: count))
            }
        }
        let alerts = Self.run(records, configuration: configuration).alerts
        #expect(alerts.contains { $0.kind == .gap && $0.rule == "gap.activity" })
        #expect(!alerts.contains { $0.kind == .deviation && $0.period == Self.label(24) })
        let steps = alerts.filter { $0.rule == "steps.threshold" && $0.kind == .deviation }.map(\.period)
        #expect(steps == [Self.label(27)], "3 of the 4 days after the gap day: 25, 26, 27")
    }

    @Test func missingMinutesInsideADayAreNotSedentary() throws {
        // Each day: 08:00-08:59 and 09:30-10:29 active, nothing at all from 09:00 to 09:29.
        var configuration = EngineConfiguration()
        configuration.activity.minWearMinutes = 100
        var records: [Record] = []
        for i in 0..<15 {
            for minute in Array(480..<540) + Array(570..<630) {
                records.append(.activity(ActivityRecord(timestamp: Fixture.day(i) + Double(minute) * 60, subject: "p1", count: 120)))
            }
        }
        let observations = Self.run(records, configuration: configuration, observations: true).observations
        let day14 = observations.filter { $0.timestamp == Fixture.day(14) }
        func value(_ name: String) -> Double? { day14.first { $0.metric == name }?.deviation.value }
        #expect(value("sedentary_minutes") == 0)    // the 30 silent minutes are missing, not 30 sedentary ones
        #expect(value("active_minutes") == 120)
        #expect(value("steps") == 14_400)
    }

    @Test func zeroStepsOnWornDaysDoAlert() {
        // Contrast: the same days worn but sedentary (10 steps a minute) are real data and do deviate.
        var configuration = EngineConfiguration()
        configuration.activity.minWearMinutes = 100
        var records: [Record] = []
        for i in 0..<24 {
            let count: Double = i < 20 ? 120 : 15
            records += (480..<600).map {
                .activity(ActivityRecord(timestamp: Fixture.day(i) + Double($0) * 60, subject: "p1", count: count))
            }
        }
        let alerts = Self.run(records, configuration: configuration).alerts
        #expect(alerts.contains { $0.rule == "steps.threshold" && $0.kind == .deviation && $0.period == Self.label(22) })
        #expect(!alerts.contains { $0.kind == .gap })
    }

    // MARK: Raw samples

    static func rawConfiguration() -> EngineConfiguration {
        var m = MetricSettings()
        m.mode = .raw
        m.baseline = .ewma
        m.alpha = 0.05
        m.warmup = 30
        m.rule = RuleSettings(direction: .both, threshold: 4, persistenceK: 1, persistenceN: 1, cooldownPeriods: 0,
                              resolveBelow: 1, episodes: false, cusumK: nil)
        var c = EngineConfiguration()
        c.metrics["hr"] = m
        return c
    }

    static func hr(_ i: Int, _ value: Double) -> Record {
        .sample(SampleRecord(timestamp: Fixture.day0 + Double(i) * 60, subject: "p1", metric: "hr", value: value))
    }

    @Test func rawSampleSpikeAfterWarmupAlerts() throws {
        var values = (0..<40).map { 60 + 2 * Double($0 % 2) }   // 60, 62, 60, 62, ...
        values.append(100)
        values.append(61)
        let records = values.enumerated().map { Self.hr($0.offset, $0.element) }
        let alerts = Self.run(records, configuration: Self.rawConfiguration()).alerts

        // The expected z, from the baseline state just before the spike.
        var reference = EWMABaseline()
        for v in values.prefix(40) { _ = reference.observe(v, alpha: 0.05, warmup: 30) }
        let expectedZ = (100 - reference.mean) / reference.variance.squareRoot()

        let a = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(a.kind == .deviation)
        #expect(a.rule == "hr.threshold")
        #expect(a.features == ["hr"])
        #expect(a.period == "2026-01-01T00:40:00Z")
        #expect(a.periodStart == Fixture.day0 + 2400)
        #expect(a.value == 100)
        #expect(a.direction == .high)
        #expect(a.z == expectedZ)
        #expect(expectedZ > 4)
        #expect(a.explanation.contains("this observation"))
    }

    @Test func rawSampleSpikeDuringWarmupIsNotScored() {
        var values = (0..<40).map { 60 + 2 * Double($0 % 2) }
        values[10] = 100                                         // only 10 observations seen: still warming up
        let records = values.enumerated().map { Self.hr($0.offset, $0.element) }
        #expect(Self.run(records, configuration: Self.rawConfiguration()).alerts.isEmpty)
    }

    @Test func rawSpikesAlertEveryTimeWithoutEpisodes() {
        var values = (0..<60).map { 60 + 2 * Double($0 % 2) }
        values[40] = 200
        values[41] = 200
        let records = values.enumerated().map { Self.hr($0.offset, $0.element) }
        let alerts = Self.run(records, configuration: Self.rawConfiguration()).alerts
        #expect(alerts.map(\.period) == ["2026-01-01T00:40:00Z", "2026-01-01T00:41:00Z"])
        #expect(alerts.allSatisfy { $0.kind == .deviation })
    }

    // MARK: Hourly metrics

    @Test func hourlyMetricIsAggregatedAndScored() throws {
        var m = MetricSettings()
        m.mode = .hour
        m.aggregate = .mean
        m.rule = RuleSettings(threshold: 3, persistenceK: 1, persistenceN: 1, cusumK: nil, floorAbsolute: 0.1)
        var c = EngineConfiguration()
        c.metrics["temp"] = m
        c.baseline.minHistoryDays = 2            // history on 2 days (of any number of hours each)
        var records: [Record] = []
        for hour in 0..<32 {
            // Six readings an hour: 36.4 and 36.6 alternating (mean 36.5); hour 30 runs at 39.
            for k in 0..<6 {
                let v = hour == 30 ? 39.0 : (k % 2 == 0 ? 36.4 : 36.6)
                records.append(.sample(SampleRecord(timestamp: Fixture.day0 + Double(hour * 3600 + k * 600), subject: "p1",
                                                    metric: "temp", value: v)))
            }
        }
        let (alerts, observations, _) = Self.run(records, configuration: c, observations: true)
        let a = try #require(alerts.first)
        #expect(alerts.map(\.rule) == ["temp.threshold", "temp.threshold"])
        #expect(a.kind == .deviation)
        #expect(a.period == "2026-01-02T06:00+00:00")
        #expect(a.periodStart == Fixture.day0 + 30 * 3600)
        #expect(a.value == 39)
        #expect(abs((a.baseline ?? 0) - 36.5) < 1e-9)
        #expect(a.scale == 0.1)
        #expect(abs((a.z ?? 0) - 25) < 1e-6)
        #expect(alerts.last?.kind == .resolved)
        #expect(alerts.last?.period == "2026-01-02T07:00+00:00")
        // Hours 25...31 are scored: from hour 25 on, the history holds hours of two days.
        #expect(observations.map(\.timestamp) == (25..<32).map { Fixture.day0 + Double($0 * 3600) })
    }

    @Test func aSparseHourlyMetricIsScoredAfterTheMinimumDays() throws {
        // Eight readings a day (09:00-16:00), 20 days: min history is 14 days, not 14 x 24 hours.
        var m = MetricSettings()
        m.mode = .hour
        var c = EngineConfiguration()
        c.metrics["hrv"] = m
        var records: [Record] = []
        for day in 0..<20 {
            for hour in 9..<17 {
                records.append(.sample(SampleRecord(timestamp: Fixture.day(day) + Double(hour * 3600), subject: "p1",
                                                    metric: "hrv", value: 50 + Double((day + hour) % 5))))
            }
        }
        let observations = Self.run(records, configuration: c, observations: true).observations
        // From day 13's second reading on, the history holds readings of 14 days (0...13).
        #expect(observations.count == 7 + 6 * 8)
        #expect(observations.first?.timestamp == Fixture.day(13) + 10 * 3600)
    }

    @Test func exportChangesGivesOnlyTheSubjectsChangedSinceTheLastExport() throws {
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink(wantsObservations: false)
        let row = { (s: String, i: Int) in Record.sample(SampleRecord(timestamp: Fixture.day0 + Double(i) * 60, subject: s, metric: "hr", value: 60)) }
        engine.ingest(row("a", 0), into: &sink)
        engine.ingest(row("b", 0), into: &sink)
        #expect(try engine.exportChanges().keys.sorted() == ["a", "b"])
        #expect(try engine.exportChanges().isEmpty)
        engine.ingest(row("b", 1), into: &sink)
        #expect(try engine.exportChanges().keys.sorted() == ["b"])
        engine.markUnsaved(["b"])  // its save failed
        #expect(try engine.exportChanges().keys.sorted() == ["b"])
        // A restored engine starts with nothing to save; the export is the same state.
        var restored = CanaryEngine(configuration: EngineConfiguration())
        try restored.importState(engine.exportState())
        #expect(try restored.exportChanges().isEmpty)
        #expect(try restored.exportState().keys.sorted() == ["a", "b"])
    }

    @Test func featureValuesOlderThanTheRetentionAreDeleted() throws {
        // 40 days of a daily metric: the baseline window (28 days before the newest) keeps 30 values; a 10-day retention the newest 10.
        let records: [Record] = (0..<40).map { day in
            .sample(SampleRecord(timestamp: Fixture.day(day) + 12 * 3600, subject: "p1", metric: "w", value: 70 + Double(day % 3)))
        }
        let kept = { (c: EngineConfiguration) in
            Self.run(records, configuration: c).engine.subjects["p1"]?.series["w"]?.history.entries.map(\.period) ?? []
        }
        let windowed = kept(EngineConfiguration())
        #expect(windowed.count == 30)
        var c = EngineConfiguration()
        c.retentionDays = 10
        let retained = kept(c)
        #expect(retained.count == 10)
        #expect(retained.last == windowed.last, "the newest values are the ones kept")
    }

    // MARK: Time zones in the engine

    @Test func nightAcrossSpringForwardInOslo() throws {
        // 23:00 -> 07:00 local every night in Oslo, 2026-03-10 ... 2026-03-29 (the night clocks go forward).
        let c = EngineConfiguration(zones: ZoneBook(defaultZone: Fixture.oslo))
        var clock = ZoneClock(Fixture.oslo)
        let march29 = 20_541
        let records: [Record] = (march29 - 19...march29).map { day in
            let start = clock.instant(fromLocal: Double(day) * 86_400 - 3600)
            let end = clock.instant(fromLocal: Double(day) * 86_400 + 7 * 3600)
            return .sleep(SleepRecord(subject: "p1", start: start, end: end))
        }
        let (_, observations, _) = Self.run(records, configuration: c, observations: true)
        let last = observations.filter { $0.timestamp == 1_774_738_800 }   // 2026-03-29 00:00 CET = 03-28T23:00Z
        func value(_ name: String) -> Double? { last.first { $0.metric == name }?.deviation.value }
        #expect(value("sleep_duration") == 420)      // the clock lost an hour: 7 h of real time, not 8
        #expect(value("sleep_onset") == 1380)
        // Halfway in real time: 22:00Z + 3.5 h = 01:30Z, which is 03:30 CEST.
        #expect(value("sleep_midpoint") == 210)
        let before = observations.filter { $0.metric == "sleep_duration" && $0.timestamp < 1_774_738_800 }
        #expect(!before.isEmpty && before.allSatisfy { $0.deviation.value == 480 })
    }

    @Test func periodLabelsAndWeekdays() {
        #expect(PeriodLabel.day(Fixture.dayIndex0) == "2026-01-01")
        #expect(PeriodLabel.day(0) == "1970-01-01")
        #expect(PeriodLabel.hour(Fixture.dayIndex0 * 24 + 30) == "2026-01-02T06:00")
        #expect(PeriodLabel.instant(Fixture.day0 + 2400) == "2026-01-01T00:40:00Z")
        #expect(PeriodLabel.instant(Fixture.day0 + 0.25) == "2026-01-01T00:00:00.250Z")
        #expect(PeriodLabel.weekday(Fixture.dayIndex0) == 3)   // 2026-01-01 is a Thursday (0 = Monday)
        #expect(PeriodLabel.weekday(0) == 3)                    // so was 1970-01-01
        #expect(PeriodLabel.weekday(Fixture.dayIndex0 + 4) == 0)
        #expect(PeriodLabel.weekday(-1) == 2)
    }

    // MARK: Scores

    @Test func deviationScoreIsMonotoneBoundedAndDistinct() {
        var previous = -1.0
        for step in 0...2000 {
            let z = Double(step) * 0.1
            let s = Deviation.score(z: z)
            #expect(s >= 0 && s <= 1)
            #expect(s > previous || (s == previous && s == 1), "z \(z)")
            #expect(Deviation.score(z: -z) == s)
            previous = s
        }
        let s10 = Deviation.score(z: 10), s20 = Deviation.score(z: 20), s100 = Deviation.score(z: 100)
        #expect(s10 < s20)
        #expect(s20 < s100)
        #expect(s100 < 1)
        #expect(s10 == 1000.0 / 1027.0)
    }

    // MARK: Alerts

    @Test func alertIDsAreStableHex() {
        let id = Alert.makeID(subject: "p1", rule: "sleep_duration.threshold", period: "2026-01-23", kind: .deviation)
        #expect(id.count == 32)
        #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(id == Alert.makeID(subject: "p1", rule: "sleep_duration.threshold", period: "2026-01-23", kind: .deviation))
        #expect(id != Alert.makeID(subject: "p1", rule: "sleep_duration.threshold", period: "2026-01-23", kind: .resolved))
        #expect(id != Alert.makeID(subject: "p1", rule: "sleep_duration.threshold", period: "2026-01-24", kind: .deviation))
        // Field boundaries matter: ("ab", "c") is not ("a", "bc").
        #expect(Alert.makeID(subject: "ab", rule: "c", period: "x", kind: .gap)
            != Alert.makeID(subject: "a", rule: "bc", period: "x", kind: .gap))
    }

    @Test func alertJSONIsOneStableLine() throws {
        let a = Alert(kind: .deviation, severity: .warning, subject: "p1", rule: "steps.threshold", features: ["steps"],
                      value: 1200, baseline: 8000.5, scale: nil, z: -3.25, direction: .low,
                      period: "2026-01-23", periodStart: 1_769_126_400, explanation: "steps \"low\"\n")
        let json = AlertJSON.encode(a)
        #expect(json == #"{"id":""# + a.id + #"","kind":"deviation","severity":"warning","subject":"p1","rule":"steps.threshold","features":["steps"],"value":1200,"baseline":8000.5,"scale":null,"z":-3.25,"direction":"low","period":"2026-01-23","period_start":1769126400,"explanation":"steps \"low\"\n"}"#)
        #expect(!json.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["explanation"] as? String == "steps \"low\"\n")
        #expect(AlertJSON.number(.nan) == "null")
        #expect(AlertJSON.number(-0.5) == "-0.5")
        #expect(AlertJSON.quote("\u{1}") == "\"\\u0001\"")
    }

    @Test(arguments: [
        (450.0, FeatureUnit.minutes, "7.5 h"), (45, .minutes, "45 min"), (1430, .clock, "23:50"), (1439.7, .clock, "00:00"),
        (-30, .clock, "23:30"), (0.25, .fraction, "25.0%"), (14_400, .count, "14400"), (182.4, .milliseconds, "182 ms"),
    ])
    func explanationFormats(value: Double, unit: FeatureUnit, expected: String) {
        #expect(Explanation.format(value, unit: unit) == expected)
    }

    @Test func severityOrder() {
        #expect(Severity.info < .notice && Severity.notice < .warning && Severity.warning < .critical)
    }
}

/// `takeChanges(of:)`: the changes of some subjects, the others kept for later.
@Suite struct TakeChangesOfTests {
    @Test func onlyTheWantedSubjectsCountAsSaved() {
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink(wantsObservations: false)
        for s in ["a", "b", "c"] {
            engine.ingest(.sample(SampleRecord(timestamp: 1_767_225_600, subject: s, metric: "hr", value: 60)), into: &sink)
        }
        let some = engine.takeChanges(of: ["b", "b", "nobody"])
        #expect(Set(some.keys) == ["b"])
        #expect(engine.takeChanges(of: ["b"]).isEmpty, "b counts as saved")
        #expect(Set(engine.takeChanges().keys) == ["a", "c"])
    }
}
