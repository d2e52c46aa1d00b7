import Foundation
import Testing
@testable import CanaryCore

/// The engine derives sleep and rhythm features from minute activity alone: the night's rest period feeds
/// the sleep rules (marked as estimated), the rhythm features come from the trailing days.
@Suite struct ActivityEstimateTests {
    /// One day of minutes (UTC): active (200) from 07:00 until `bedtime` (minutes after midnight), at rest
    /// (0, with a one-minute movement of 2 every 20 minutes) otherwise.
    static func day(_ i: Int, bedtime: Int = 23 * 60, wake: Int = 7 * 60, subject: String = "p1") -> [Record] {
        (0..<1440).map { m in
            let resting = m < wake || m >= bedtime
            let count: Double = resting ? (m % 20 == 19 ? 2 : 0) : 200
            return .activity(ActivityRecord(timestamp: Fixture.day(i) + Double(m) * 60, subject: subject, count: count))
        }
    }

    static func configuration() -> EngineConfiguration {
        var c = EngineConfiguration()
        c.baseline.minHistoryDays = 7
        c.gapSeconds = [:]
        return c
    }

    static func run(_ records: [Record], configuration: EngineConfiguration = configuration()) -> (alerts: [Alert], observations: [Observation]) {
        var engine = CanaryEngine(configuration: configuration)
        var sink = CollectingSink(wantsObservations: true)
        for r in records { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        return (sink.alerts, sink.observations)
    }

    @Test func nightsFromActivityFeedTheSleepRules() throws {
        // Twenty nights 23:00–07:00, then five nights 02:00–07:00: days 20–23 active until midnight, and
        // days 21–24 active from midnight until 02:00.
        let late = (0..<25).flatMap { Self.day($0, bedtime: $0 >= 20 ? 24 * 60 : 23 * 60, wake: 7 * 60) }.map { r -> Record in
            guard case .activity(var a) = r else { return r }
            let i = Int((a.timestamp - Fixture.day0) / 86_400)
            let m = Int((a.timestamp - Fixture.day(i)) / 60)
            if i >= 21 && m < 120 { a.count = 200 }
            return .activity(a)
        }
        let (alerts, observations) = Self.run(late)
        let durations = observations.filter { $0.metric == "sleep_duration" }
        // A usual night: stillness from 23:00 scores sleep from 23:07 (three minutes of window, four rescored)
        // to the last still minute before 07:00 (06:59; the movement at 06:59 is small enough to be sleep).
        let usual = try #require(durations.first { $0.timestamp == Fixture.day(12) })
        #expect(usual.deviation.value == 473)
        let onsets = observations.filter { $0.metric == "sleep_onset" && $0.timestamp == Fixture.day(12) }
        #expect(onsets.map(\.deviation.value) == [23 * 60 + 7])
        let wakes = observations.filter { $0.metric == "wake_time" && $0.timestamp == Fixture.day(12) }
        #expect(wakes.map(\.deviation.value) == [7 * 60])
        // Short nights: 02:07 to 07:00 is 293 minutes.
        #expect(durations.first { $0.timestamp == Fixture.day(21) }?.deviation.value == 293)
        let alert = try #require(alerts.first { $0.rule == "sleep_duration.threshold" && $0.kind == .deviation })
        #expect(alert.period == PeriodLabel.day(Fixture.dayIndex0 + 23))
        #expect(alert.direction == .low)
        #expect(alert.explanation.hasPrefix("sleep duration (estimated from activity) 4.9 h, usual 7.9 h"))
        // The first night has no evening before it (missing, not sleep): no estimate.
        #expect(!durations.contains { $0.timestamp == Fixture.day(0) })
    }

    @Test func aSleepStreamTakesPrecedence() {
        let sleep: [Record] = (0..<20).map { i in
            .sleep(SleepRecord(subject: "p1", start: Fixture.day(i) - 3600, end: Fixture.day(i) + 7 * 3600))
        }
        let (_, observations) = Self.run(sleep + (0..<20).flatMap { Self.day($0) })
        // Only the sleep stream's 480-minute nights, never the 473-minute estimates.
        let durations = observations.filter { $0.metric == "sleep_duration" }
        #expect(!durations.isEmpty && durations.allSatisfy { $0.deviation.value == 480 })
        #expect(!observations.contains { $0.metric == "wake_after_sleep_onset" })
    }

    @Test func rhythmFeaturesOverTheTrailingWeek() throws {
        let (_, observations) = Self.run((0..<20).flatMap { Self.day($0) })
        // Every day the same: active 07:00–23:00 → hourly values 60 for 16 hours, and at rest 8 hours with
        // 3 small movements an hour (counts of 2, below the threshold of 4: inactive).
        let m10 = try #require(observations.first { $0.metric == "m10" && $0.timestamp == Fixture.day(19) })
        #expect(m10.deviation.value == 1)
        let l5 = try #require(observations.first { $0.metric == "l5" && $0.timestamp == Fixture.day(19) })
        #expect(l5.deviation.value == 0)
        let onset = try #require(observations.first { $0.metric == "l5_onset" && $0.timestamp == Fixture.day(19) })
        #expect(onset.deviation.value == 0)     // the earliest of the still windows: 00:00
        let m10Onset = try #require(observations.first { $0.metric == "m10_onset" && $0.timestamp == Fixture.day(19) })
        #expect(m10Onset.deviation.value == 7 * 60)
        let stability = try #require(observations.first { $0.metric == "interdaily_stability" && $0.timestamp == Fixture.day(19) })
        // 7 identical days: profile sample variance over all-hours sample variance = (16·8/24²·24/23)/(16·8/24²·168/167) … = (24/23)/(168/167).
        #expect(abs(stability.deviation.value - (24.0 / 23.0) / (168.0 / 167.0)) < 1e-12)
    }

    @Test func aFlatterRhythmAlertsByDefault() throws {
        // 25 regular days, then nights of restless movement (a count of 50 every third minute: active, above 4):
        // L5 rises, the amplitude falls, and the default rule on relative_amplitude (low) speaks.
        let restless = (25..<35).flatMap { Self.day($0) }.map { r -> Record in
            guard case .activity(var a) = r else { return r }
            let m = Int((a.timestamp - Fixture.day0).truncatingRemainder(dividingBy: 86_400) / 60)
            if (m < 7 * 60 || m >= 23 * 60) && m % 3 == 0 { a.count = 50 }
            return .activity(a)
        }
        var c = EngineConfiguration()
        c.gapSeconds = [:]
        let (alerts, _) = Self.run((0..<25).flatMap { Self.day($0) } + restless, configuration: c)
        let amplitude = alerts.filter { $0.rule.hasPrefix("relative_amplitude") }
        let alert = try #require(amplitude.first)
        #expect(alert.rule == "relative_amplitude.threshold" && alert.direction == .low)
        #expect(alert.period >= PeriodLabel.day(Fixture.dayIndex0 + 25))
        #expect(!amplitude.contains { $0.rule == "relative_amplitude.cusum" })
    }

    @Test func rhythmNeedsEnoughWornDays() {
        var c = Self.configuration()
        c.baseline.minHistoryDays = 1
        // Worn days 0–3 only, then day 10: never five worn days in a seven-day window.
        let (_, observations) = Self.run(([0, 1, 2, 3, 10]).flatMap { Self.day($0) }, configuration: c)
        #expect(!observations.contains { $0.metric == "interdaily_stability" })
    }
}
