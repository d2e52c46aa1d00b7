import Foundation
import Testing
@testable import CanaryCore

/// `canaryctl baseline`'s core: the baseline the next day is judged against, the last values with their
/// z, the rule state and the coverage, computed by hand here.
@Suite struct BaselineReportTests {
    @Test func aSleepBaselineByHand() throws {
        var configuration = EngineConfiguration()
        configuration.baseline.minHistoryDays = 3
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: false)
        let firstMorning = 1_767_250_800.0    // 2026-01-01T07:00:00Z
        for i in 0..<14 {
            let end = firstMorning + Double(i) * 86_400
            let minutes = 400.0 + 10 * Double(i)
            engine.ingest(.sleep(SleepRecord(subject: "p", start: end - minutes * 60, end: end)), into: &sink)
        }
        engine.finish(into: &sink)
        let report = try #require(engine.baselineReport(subject: "p", feature: "sleep_duration", last: 3))
        #expect(report.subject == "p" && report.streams.map(\.stream) == [.sleep])
        #expect(report.streams[0].openFrom == "2026-01-15")
        let s = try #require(report.series.first)
        #expect(report.series.count == 1 && s.name == "sleep_duration" && s.kind == "day" && !s.estimated)
        // The next day (2026-01-15) is judged against the 14 nights: 400, 410, ..., 530 minutes.
        // Median 465; absolute deviations 5, 5, 15, 15, ..., 65, 65: MAD 35, scale 35 x 1.4826.
        #expect(s.next == "2026-01-15" && s.centre == 465)
        #expect(abs(s.scale! - 35 * 1.482602218505602) < 1e-9)
        #expect(s.coverage == 14 && s.window == 28)
        // The last night (530) was judged against the 13 before it: median 460, MAD 30.
        #expect(s.last.map(\.period) == ["2026-01-12", "2026-01-13", "2026-01-14"])
        #expect(s.last.map(\.value) == [510, 520, 530])
        #expect(abs(s.last[2].z! - 70 / (30 * 1.482602218505602)) < 1e-9)
        let rule = try #require(s.rule)
        #expect(rule.direction == "both" && rule.threshold == 3 && rule.persistenceK == 3 && rule.persistenceN == 4)
        // Every night longer than the one before: no day beyond 3 scales, but a sustained rise, which
        // CUSUM reported and which has not resolved (z never fell back under 1).
        #expect(rule.deviatingLow == 0 && rule.deviatingHigh == 0 && rule.open == ["cusum high"])
        #expect(sink.alerts.map(\.rule).contains("sleep_duration.cusum"))
        #expect(rule.cusumH == 6 && rule.cusumHigh! > 0 && rule.cusumLow == 0)
        #expect(engine.baselineReport(subject: "nobody") == nil)
        #expect(try #require(engine.baselineReport(subject: "p")).series.count > 1, "every sleep feature without --feature")
    }

    @Test func aRawMetricShowsItsExponentiallyWeightedBaseline() throws {
        var configuration = EngineConfiguration()
        configuration.defaultMetric.mode = .raw
        configuration.defaultMetric.warmup = 2
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: false)
        for (i, v) in [60.0, 70, 65].enumerated() {
            engine.ingest(.sample(SampleRecord(timestamp: 1_767_225_600 + Double(i) * 60, subject: "p", metric: "hr", value: v)), into: &sink)
        }
        let s = try #require(engine.baselineReport(subject: "p")?.series.first)
        #expect(s.kind == "raw" && s.coverage == 3 && s.last.isEmpty)
        // West's form with alpha 0.05 (the default): mean 60 -> 60.5 -> 60.725.
        #expect(abs(s.centre! - 60.725) < 1e-12)
    }

    /// Nights of 6 to 9 hours, pseudo-random, for `days` days.
    static func nights(_ days: Range<Int>) -> [Record] {
        var rng = ShortestDoubleTests.Seeded(state: 11)
        var out: [Record] = []
        for i in 0..<days.upperBound {
            let minutes = Double(Int.random(in: 360...540, using: &rng))
            guard days.contains(i) else { continue }
            let end = 1_767_250_800.0 + Double(i) * 86_400
            out.append(.sleep(SleepRecord(subject: "p", start: end - minutes * 60, end: end)))
        }
        return out
    }

    /// After weeks of data the history before older periods is trimmed: the report shows the z each value
    /// was judged with, not one worked out again from what is left; and the centre and scale it shows for
    /// the next day are those the next day is then judged against, calibration included.
    @Test(arguments: [false, true])
    func theReportShowsWhatTheEngineJudgedWith(calibrate: Bool) throws {
        var configuration = EngineConfiguration()
        configuration.baseline.calibrate = calibrate
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: true)
        for r in Self.nights(0..<45) { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        let s = try #require(engine.baselineReport(subject: "p", feature: "sleep_duration")?.series.first)
        let judged = sink.observations.filter { $0.metric == "sleep_duration" }.suffix(7)
        #expect(s.last.count == 7)
        for (shown, o) in zip(s.last, judged) {
            #expect(shown.value == o.deviation.value && shown.z == o.deviation.z, "\(shown.period)")
        }
        // The next night goes in: it is judged against the centre and scale the report showed.
        for r in Self.nights(45..<46) { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        let next = try #require(sink.observations.last { $0.metric == "sleep_duration" })
        #expect(s.next == "2026-02-15")
        #expect(next.deviation.centre == s.centre && abs(next.deviation.scale - s.scale!) < 1e-9)
    }

    @Test func aRollingRawMetricSaysHowItIsJudged() throws {
        var configuration = EngineConfiguration()
        configuration.defaultMetric.mode = .raw
        configuration.defaultMetric.baseline = .rolling
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: false)
        for i in 0..<40 {
            engine.ingest(.sample(SampleRecord(timestamp: 1_767_225_600 + Double(i) * 600, subject: "p", metric: "hr", value: 60 + Double(i % 5))), into: &sink)
        }
        let s = try #require(engine.baselineReport(subject: "p")?.series.first)
        #expect(s.kind == "raw" && s.baseline == "rolling" && s.centre == nil && s.coverage == 40)
    }
}

/// The report's data from the engine's state (what the running daemon reports) is what the engine judged.
@Suite("Report data")
struct ReportDataTests {
    @Test func theDaysTheEngineHoldsAreJudgedAgainAsTheyWereJudged() throws {
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink(wantsObservations: true)
        for i in 0..<40 {
            // Eight hours a night with some wobble, four short nights from day 30.
            let hours = i >= 30 && i < 34 ? 4.0 : 8 + Double((i * 7) % 5 - 2) / 6
            let start = Fixture.day(i) - 3600 * (1 + Double(i % 3) / 4)
            engine.ingest(.sleep(SleepRecord(subject: "p", start: start, end: start + hours * 3600)), into: &sink)
        }
        engine.finish(at: Fixture.day(41), into: &sink)
        let data = try #require(engine.reportData(subject: "p"))
        let duration = try #require(data.series.first { $0.name == "sleep_duration" })
        #expect(duration.threshold != nil && duration.unit == .minutes && !duration.estimated)
        let observed = Dictionary(sink.observations.filter { $0.metric == "sleep_duration" }.map { ($0.timestamp, $0.deviation) },
                                  uniquingKeysWith: { $1 })
        var compared = 0
        for p in duration.points {
            // Every day the engine still holds and judged has its band, not only the last few (their own
            // window has been trimmed, so the band must be what was kept when they were judged).
            guard let d = observed[p.start] else { continue }
            #expect(abs(p.value - d.value) < 1e-9)
            #expect(abs((p.centre ?? .nan) - d.centre) < 1e-9 && abs((p.scale ?? .nan) - d.scale) < 1e-9 && abs((p.z ?? .nan) - d.z) < 1e-9)
            compared += 1
        }
        // The first days held were not judged (history too short); every one after them was.
        #expect(compared == duration.points.count { observed[$0.start] != nil } && compared > 2 * SeriesState.judgedKept)
        // And the same after the state went through a snapshot (what a restarted daemon reports).
        var restored = CanaryEngine(configuration: EngineConfiguration())
        try restored.importState(engine.exportState())
        #expect(restored.reportData(subject: "p") == data)
        // Offline, the observations replace the points: every judged day, also those before the window.
        var offline = data
        offline.replacePoints(with: sink.observations)
        #expect(offline.series.first { $0.name == "sleep_duration" }!.points.count == observed.count)
        #expect(engine.reportData(subject: "nobody") == nil)
    }
}
