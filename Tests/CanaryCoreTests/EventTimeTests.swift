import Foundation
import Testing
@testable import CanaryCore

/// Event time per subject and stream: order within the close delay, newest-first exports, overlapping
/// uploads, streams arriving at different times, the quiet-stream timeout, composites waiting for every
/// stream, hourly metrics on a fall-back day, and states saved by the earlier layout.
@Suite struct EventTimeTests {
    /// 20 usual days of activity (08:00-09:59, 120 a minute), 4 low ones (20 a minute), 4 usual ones.
    static func activityScenario(subject: String = "p1") -> [Record] {
        (0..<28).flatMap { i in
            (480..<600).map { m in
                Record.activity(ActivityRecord(timestamp: Fixture.day(i) + Double(m) * 60, subject: subject,
                                               count: (20..<24).contains(i) ? 20 : 120))
            }
        }
    }

    static var activityConfiguration: EngineConfiguration {
        var c = EngineConfiguration()
        c.activity.minWearMinutes = 100
        return c
    }

    static func keys(_ alerts: [Alert]) -> [String] {
        alerts.map { "\($0.kind) \($0.rule) \($0.period) \(String(describing: $0.value))" }.sorted()
    }

    @Test func aSleepExportListedNewestFirstDecidesWhatTheOrderedOneDoes() {
        let ordered = EngineTests.run(EngineTests.sleepScenario()).alerts
        let (alerts, _, engine) = EngineTests.run(EngineTests.sleepScenario().reversed())
        #expect(!ordered.isEmpty)
        #expect(Self.keys(alerts) == Self.keys(ordered))
        #expect(engine.lateRows == 0)
    }

    @Test func rowsShuffledWithinTheCloseDelayDecideWhatOrderedRowsDo() {
        let ordered = EngineTests.run(Self.activityScenario(), configuration: Self.activityConfiguration).alerts
        #expect(!ordered.isEmpty)
        var g = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            // Each row moved by up to the close delay (2 h): every row still arrives before its day closes.
            let shuffled = Self.activityScenario()
                .map { ($0, $0.timestamp + Double.random(in: 0..<7200, using: &g)) }
                .sorted { $0.1 < $1.1 }.map(\.0)
            let (alerts, _, engine) = EngineTests.run(shuffled, configuration: Self.activityConfiguration)
            #expect(Self.keys(alerts) == Self.keys(ordered))
            #expect(engine.lateRows == 0)
        }
    }

    @Test func overlappingUploadsCountOnceAndAreReportedAsDuplicates() {
        let rows = Self.activityScenario()
        let ordered = EngineTests.run(rows, configuration: Self.activityConfiguration).alerts
        // Two uploads of one day each overlap the next by an hour; the sleep export is sent twice.
        var overlapping: [Record] = []
        for day in 0..<28 {
            let dayRows = rows.filter { Int(($0.timestamp - Fixture.day0) / 86_400) == day }
            overlapping += dayRows
            overlapping += dayRows.suffix(60)  // the last hour again
        }
        let (alerts, _, engine) = EngineTests.run(overlapping, configuration: Self.activityConfiguration)
        #expect(Self.keys(alerts) == Self.keys(ordered))
        #expect(engine.duplicateRows == 28 * 60)
        #expect(engine.lateRows == 0)

        let nights = EngineTests.sleepScenario()
        let (twice, _, sleepEngine) = EngineTests.run(nights + nights.suffix(3))
        #expect(Self.keys(twice) == Self.keys(EngineTests.run(nights).alerts))
        // The last three nights again: the last one's day is open (a duplicate), the two before are closed (late).
        #expect(sleepEngine.duplicateRows + sleepEngine.lateRows == 3)
        #expect(sleepEngine.duplicateRows >= 1)
    }

    @Test func aStreamSentAfterAnotherHasMovedOnIsNotLate() {
        // One person's sleep and activity from two uploaders: all of the sleep first, then all of the activity.
        let sleep = EngineTests.sleepScenario()
        let activity = Self.activityScenario()
        let merged = (sleep + activity).sorted { $0.timestamp < $1.timestamp }
        let reference = EngineTests.run(merged, configuration: Self.activityConfiguration)
        let (alerts, _, engine) = EngineTests.run(sleep + activity, configuration: Self.activityConfiguration)
        #expect(engine.lateRows == 0)
        #expect(Self.keys(alerts.filter { $0.kind != .composite }) == Self.keys(reference.alerts.filter { $0.kind != .composite }))
        #expect(alerts.contains { $0.rule == "steps.threshold" } && alerts.contains { $0.rule == "sleep_duration.threshold" })
    }

    @Test func aCompositeWaitsUntilEveryStreamOfTheSubjectHasClosedTheDay() {
        var c = Self.activityConfiguration
        c.composites = [CompositeSettings(name: "both", features: ["sleep_duration", "steps"], persistenceK: 1, persistenceN: 1)]
        // Both streams deviate on days 20-23.
        let sleep = EngineTests.sleepScenario()
        let activity = Self.activityScenario()
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink()
        // Activity has started (day 0) but lags: sleep runs through day 27 first.
        for r in activity.prefix(120) { engine.ingest(r, into: &sink) }
        for r in sleep { engine.ingest(r, into: &sink) }
        #expect(sink.alerts.contains { $0.rule == "sleep_duration.threshold" }, "sleep's own rules decide as its days close")
        #expect(!sink.alerts.contains { $0.kind == .composite }, "no composite while activity has not closed the days")
        for r in activity.dropFirst(120) { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        let composite = sink.alerts.first { $0.kind == .composite }
        #expect(composite?.features == ["sleep_duration", "steps"], "decided with both streams: \(String(describing: composite?.explanation))")

        // The same as the rows merged by time.
        let merged = (sleep + activity).sorted { $0.timestamp < $1.timestamp }
        #expect(Self.keys(sink.alerts) == Self.keys(EngineTests.run(merged, configuration: c).alerts))
    }

    @Test func aQuietStreamClosesByTheClockOnlyAfterTheLateness() {
        var c = Self.activityConfiguration
        c.maxLatenessSeconds = 36 * 3600
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: true)
        // Live: each day's epochs arrive at the day's 10:00 (the phone syncs once a day).
        let rows = Self.activityScenario().filter { $0.timestamp < Fixture.day(5) }
        for day in 0..<5 {
            engine.arrival = Fixture.day(day) + 10 * 3600
            for r in rows where Int((r.timestamp - Fixture.day0) / 86_400) == day { engine.ingest(r, into: &sink) }
        }
        func closedBefore() -> Int? { engine.subjects["p1"]?.progress[.activity]?.nextDay.map { $0 - Fixture.dayIndex0 } }
        // Days 0-3 closed by the data itself; day 4 is open: its data never moved past it.
        #expect(closedBefore() == 4)
        // 36 h after the last row the stream is quiet, but day 4 ended only 12 h ago: still open.
        engine.advance(to: Fixture.day(4) + 10 * 3600 + 36 * 3600, into: &sink)
        #expect(closedBefore() == 4)
        // 36 h after the day's end: closed by the clock.
        engine.advance(to: Fixture.day(5) + 36 * 3600, into: &sink)
        #expect(closedBefore() == 5)
        // A stream that keeps sending is never closed by the clock, however far the clock is.
        engine.arrival = Fixture.day(40)
        engine.ingest(Self.activityScenario()[0], into: &sink)  // a late row, but an arrival
        engine.advance(to: Fixture.day(40) + 3600, into: &sink)
        #expect(closedBefore() == 5)
        #expect(engine.lateRows == 1)
    }

    @Test func theRepeatedHourOfAFallBackDayIsTwoHourlyPeriods() throws {
        var c = EngineConfiguration(zones: ZoneBook(defaultZone: Fixture.oslo))
        var m = MetricSettings()
        m.mode = .hour
        m.aggregate = .sum
        m.rule = RuleSettings(direction: .both, floorAbsolute: 1)  // a floor: every hour sums to the same
        c.metrics = ["kcal": m]
        c.baseline.minHistoryDays = 1
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: true)
        // 2026-10-25: Oslo goes from +02:00 to +01:00 at 03:00 local; 02:00-03:00 happens twice.
        // A value every 10 minutes from 2026-10-22 to 2026-10-27: 1 per row, so each real hour sums to 6.
        let start = 1_792_620_000.0  // 2026-10-22T00:00:00+02:00
        for i in 0..<(5 * 24 * 6) {
            engine.ingest(.sample(SampleRecord(timestamp: start + Double(i) * 600, subject: "p1", metric: "kcal", value: 1)), into: &sink)
        }
        engine.finish(into: &sink)
        let hours = sink.observations.filter { $0.metric == "kcal" }
        #expect(hours.count > 24, "\(hours.count) hours observed")
        #expect(hours.allSatisfy { $0.deviation.value == 6 }, "every hour holds one real hour: \(Set(hours.map(\.deviation.value)))")
        // Both 02:00 hours of the fall-back day are there, an hour apart.
        let first = 1_792_886_400.0  // 2026-10-25T02:00:00+02:00 = 00:00Z
        #expect(hours.contains { $0.timestamp == first } && hours.contains { $0.timestamp == first + 3600 },
                "\(hours.map(\.timestamp).filter { abs($0 - first) < 4 * 3600 })")
        var clock = ZoneClock(Fixture.oslo)
        #expect(HourIndex.label(HourIndex.of(first, clock: &clock), clock: &clock) == "2026-10-25T02:00+02:00")
        #expect(HourIndex.label(HourIndex.of(first + 3600, clock: &clock), clock: &clock) == "2026-10-25T02:00+01:00")
        var kolkata = ZoneClock(TimeZone(identifier: "Asia/Kolkata")!)
        let halfHour = 1_767_227_400.0  // 2026-01-01T00:30:00Z, 06:00 in Kolkata
        #expect(HourIndex.label(HourIndex.of(halfHour + 1, clock: &kolkata), clock: &kolkata) == "2026-01-01T06:00+05:30")
    }

    @Test func aStateSavedByTheEarlierLayoutIsRead() throws {
        // One shared position for every stream, as versions before event time saved it.
        let json = #"{"clock":{"timeZone":"UTC"},"watermark":1767657600,"nextDay":20459,"closedAny":true,"days":{},"hours":{},"nextHour":{},"series":{},"gaps":{},"composites":{},"streams":{"bits":3}}"#
        var engine = CanaryEngine(configuration: EngineConfiguration())
        try engine.importState(["p1": Data(json.utf8)])
        let state = try #require(engine.subjects["p1"])
        #expect(state.progress[.sleep]?.nextDay == 20_459 && state.progress[.sleep]?.closedAny == true)
        #expect(state.progress[.activity]?.nextDay == 20_459)
        #expect(state.progress[.typing] == nil && state.compositeNext == 20_459)
        // A row for a day closed then is late; one for the open day is taken.
        var sink = CollectingSink()
        engine.ingest(EngineTests.night(4, hours: 7), into: &sink)
        #expect(engine.lateRows == 1)
        engine.ingest(EngineTests.night(5, hours: 7), into: &sink)
        #expect(engine.lateRows == 1)
    }
}
