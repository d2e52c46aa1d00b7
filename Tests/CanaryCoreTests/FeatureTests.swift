import Foundation
import Testing
@testable import CanaryCore

@Suite("Daily features")
struct FeatureTests {
    // MARK: Sleep

    /// 2026-01-02 00:00 local in `zone`, as an instant.
    static func midnightJan2(_ zone: TimeZone) -> Double {
        var clock = ZoneClock(zone)
        return clock.startOfDay(Fixture.dayIndex0 + 1)
    }

    @Test(arguments: ["UTC", "Europe/Oslo", "America/New_York"])
    func nightAcrossMidnight(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        var clock = ZoneClock(zone)
        let midnight = Self.midnightJan2(zone)
        // 23:00 -> 07:00 local, 450 minutes asleep of 480 in bed.
        let night = SleepRecord(subject: "p1", start: midnight - 3600, end: midnight + 7 * 3600, asleepMinutes: 450)
        // The night belongs to the day you wake up.
        #expect((clock.day(of: night.end)) == Fixture.dayIndex0 + 1)
        #expect((clock.day(of: night.start)) == Fixture.dayIndex0)
        let v = SleepFeatures.compute(sessions: [night], settings: SleepSettings()) { clock.minuteOfDay($0) }
        #expect(v["sleep_onset"] == 1380)
        #expect(v["wake_time"] == 420)
        #expect(v["sleep_midpoint"] == 180)
        #expect(v["sleep_duration"] == 450)        // asleep_min, not time in bed
        #expect(v["time_in_bed"] == 480)
        #expect(v["sleep_efficiency"] == 450.0 / 480.0)
        #expect(v.count == 6)
    }

    @Test func durationFallsBackToTimeInBed() {
        var clock = ZoneClock(Fixture.utc)
        let midnight = Fixture.day(1)
        let night = SleepRecord(subject: "p1", start: midnight - 3600, end: midnight + 7 * 3600)
        let v = SleepFeatures.compute(sessions: [night], settings: SleepSettings()) { clock.minuteOfDay($0) }
        #expect(v["sleep_duration"] == 480)
        #expect(v["sleep_efficiency"] == 1)
    }

    @Test func napsAddToDurationButOnsetComesFromTheMainSleep() {
        var clock = ZoneClock(Fixture.utc)
        let midnight = Fixture.day(1)
        let main = SleepRecord(subject: "p1", start: midnight - 3600, end: midnight + 7 * 3600, asleepMinutes: 450)
        let nap = SleepRecord(subject: "p1", start: midnight + 14 * 3600, end: midnight + 15 * 3600)  // 14:00-15:00
        for sessions in [[main, nap], [nap, main]] {
            let v = SleepFeatures.compute(sessions: sessions, settings: SleepSettings()) { clock.minuteOfDay($0) }
            #expect(v["sleep_duration"] == 510)     // 450 + 60
            #expect(v["time_in_bed"] == 540)        // 480 + 60
            #expect(v["sleep_efficiency"] == 510.0 / 540.0)
            #expect(v["sleep_onset"] == 1380)
            #expect(v["wake_time"] == 420)
            #expect(v["sleep_midpoint"] == 180)
        }
    }

    @Test func onlyNapsGiveNoSleepFeatures() {
        var clock = ZoneClock(Fixture.utc)
        let midnight = Fixture.day(1)
        let nap = SleepRecord(subject: "p1", start: midnight + 13 * 3600, end: midnight + 15 * 3600)  // 120 min < 180
        #expect((SleepFeatures.compute(sessions: [nap], settings: SleepSettings()) { clock.minuteOfDay($0) }).isEmpty)
        #expect((SleepFeatures.compute(sessions: [], settings: SleepSettings()) { clock.minuteOfDay($0) }).isEmpty)
        var lenient = SleepSettings()
        lenient.minMainSleepMinutes = 120
        #expect((SleepFeatures.compute(sessions: [nap], settings: lenient) { clock.minuteOfDay($0) })["sleep_duration"] == 120)
    }

    // MARK: Activity

    static func identity(_ i: Int) -> Double { Double(i) }

    /// A day of minute counts:
    /// 00:00-07:59 zeros (480 min: non-wear), 08:00-08:59 active 150, 09:00-09:59 sedentary 5,
    /// 10:00-10:29 light 50, 10:30-11:39 zeros (70 min: sedentary, too short for non-wear),
    /// 11:40-11:59 active 200, 12:00-19:59 sedentary 3 (after the last active minute), 20:00-23:59 missing.
    static func sampleDay() -> [Double?] {
        var m = [Double?](repeating: nil, count: 1440)
        func fill(_ r: Range<Int>, _ v: Double) { for i in r { m[i] = v } }
        fill(0..<480, 0)
        fill(480..<540, 150)
        fill(540..<600, 5)
        fill(600..<630, 50)
        fill(630..<700, 0)
        fill(700..<720, 200)
        fill(720..<1200, 3)
        return m
    }

    @Test func activityFeaturesOfAWornDay() {
        let r = ActivityFeatures.compute(minutes: Self.sampleDay(), settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(r.wornMinutes == 720)                 // 08:00-19:59
        #expect(r.nonWearMinutes == 720)              // 480 non-wear + 240 missing
        #expect(r.values["steps"] == 16_240)          // 9000 + 300 + 1500 + 0 + 4000 + 1440
        #expect(r.values["active_minutes"] == 80)     // 60 + 20
        #expect(r.values["sedentary_minutes"] == 130) // 60 (count 5) + 70 (zeros), none after 11:59
        #expect(r.values["longest_sedentary_bout"] == 70)
        #expect(r.values["first_active_time"] == 480)
        #expect(r.values["last_active_time"] == 719)
        #expect(r.values["non_wear_minutes"] == 720)
        #expect(r.values.count == 7)
    }

    @Test func nonWearRunBetweenActiveMinutesIsExcluded() {
        var m = [Double?](repeating: nil, count: 1440)
        for i in 0..<600 { m[i] = 120 }
        for i in 600..<700 { m[i] = 0 }        // 100 zero minutes: non-wear ...
        m[650] = 5                             // ... despite a one-minute blip
        for i in 700..<760 { m[i] = 120 }
        let r = ActivityFeatures.compute(minutes: m, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(r.wornMinutes == 660)
        #expect(r.values["sedentary_minutes"] == 0)
        #expect(r.values["longest_sedentary_bout"] == 0)
        #expect(r.values["non_wear_minutes"] == 780)   // 100 + 680 missing
        #expect(r.values["steps"] == 79_200)        // 660 worn minutes x 120; the blip inside non-wear is not counted

        // 89 zero minutes are too few for non-wear: they are a sedentary bout.
        var short = m
        for i in 689..<700 { short[i] = 120 }  // zeros now 600..<689 (with the blip at 650)
        let s = ActivityFeatures.compute(minutes: short, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(s.values["sedentary_minutes"] == 89)
        #expect(s.values["longest_sedentary_bout"] == 89)
        #expect(s.values["non_wear_minutes"] == 680)
    }

    @Test(arguments: [(89, false), (90, true)])
    func nonWearStartsAtExactlyTheConfiguredRun(zeros: Int, isNonWear: Bool) {
        var m = [Double?](repeating: 120, count: 800)
        for i in 300..<(300 + zeros) { m[i] = 0 }
        let r = ActivityFeatures.compute(minutes: m, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(r.nonWearMinutes == (isNonWear ? zeros : 0))
        #expect(r.wornMinutes == (isNonWear ? 800 - zeros : 800))
        #expect(r.values["sedentary_minutes"] == (isNonWear ? 0 : Double(zeros)))
    }

    @Test func interruptionLongerThanToleranceSplitsTheRun() {
        var m = [Double?](repeating: 120, count: 700)
        for i in 100..<160 { m[i] = 0 }       // 60 zeros
        for i in 160..<163 { m[i] = 4 }       // 3 non-zero minutes: more than the tolerance of 2
        for i in 163..<223 { m[i] = 0 }       // 60 zeros
        let r = ActivityFeatures.compute(minutes: m, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(r.values["non_wear_minutes"] == 0)
        #expect(r.values["sedentary_minutes"] == 123)
        #expect(r.values["longest_sedentary_bout"] == 123)
    }

    @Test func tooLittleWearYieldsNoValuesNotZeros() {
        var m = [Double?](repeating: nil, count: 1440)
        for i in 480..<1079 { m[i] = 0 < i % 2 ? 150 : 2 }   // 599 worn minutes, one short
        let r = ActivityFeatures.compute(minutes: m, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(r.values.isEmpty)
        #expect(r.values["steps"] == nil)
        #expect(r.wornMinutes == 599)

        m[1079] = 150
        let enough = ActivityFeatures.compute(minutes: m, settings: ActivitySettings(), clockOfMinute: Self.identity)
        #expect(enough.wornMinutes == 600)
        #expect(enough.values["active_minutes"] == 300)

        let empty = ActivityFeatures.compute(minutes: [Double?](repeating: nil, count: 1440), settings: ActivitySettings(),
                                             clockOfMinute: Self.identity)
        #expect(empty.values.isEmpty)
        #expect(empty.nonWearMinutes == 1440)

        // A device left on the table all day: all zeros is non-wear, not a sedentary day.
        let table = ActivityFeatures.compute(minutes: [Double?](repeating: 0, count: 1440), settings: ActivitySettings(),
                                             clockOfMinute: Self.identity)
        #expect(table.values.isEmpty)
        #expect(table.wornMinutes == 0)
        #expect(table.nonWearMinutes == 1440)
    }

    @Test func clockOfMinuteIsUsedForActiveTimes() {
        // On a 23-hour day minute index 180 is 04:00 local, not 03:00.
        var m = [Double?](repeating: 20, count: 1380)
        m[180] = 150
        m[1000] = 150
        let r = ActivityFeatures.compute(minutes: m, settings: ActivitySettings()) { i in Double(i < 120 ? i : i + 60) }
        #expect(r.values["first_active_time"] == 240)
        #expect(r.values["last_active_time"] == 1060)
    }

    // MARK: Typing

    static func key(_ t: Double, hold: Double, flight: Double, _ key: KeyClass = .char) -> TypingRecord {
        TypingRecord(timestamp: t, subject: "p1", holdMilliseconds: hold, flightMilliseconds: flight, key: key)
    }

    static func typingDay() -> [TypingRecord] {
        let d = Fixture.day0
        let s1 = d + 3 * 3600          // 03:00, late night
        let s2 = d + 10 * 3600         // 10:00, seven hours later: a new session
        return [
            key(s2 + 2, hold: 130, flight: 250, .space),
            key(s1, hold: 80, flight: 1000),                 // session-first: excluded from flights
            key(s1 + 1, hold: 90, flight: 100),
            key(s1 + 2, hold: 100, flight: 200, .backspace),
            key(s1 + 3, hold: 110, flight: 300),
            key(s2, hold: 70, flight: 900),                  // session-first: excluded from flights
            key(s2 + 1, hold: 120, flight: 150, .backspace),
            key(s2 + 302, hold: 100, flight: 180, .enter),   // exactly 300 s later: same session
        ]
    }

    @Test func typingFeatures() {
        var settings = TypingSettings()
        settings.minKeystrokes = 8
        var clock = ZoneClock(Fixture.utc)
        let v = TypingFeatures.compute(events: Self.typingDay(), settings: settings) { clock.minuteOfDay($0) }
        #expect(v["keystrokes"] == 8)
        #expect(v["typing_sessions"] == 2)
        // flights 100,150,180,200,250,300 -> median 190; |d| 90,40,10,10,60,110 -> MAD 50
        #expect(v["flight_median"] == 190)
        #expect(v["flight_mad"] == 50)
        // holds 70,80,90,100,100,110,120,130 -> median 100
        #expect(v["hold_median"] == 100)
        #expect(v["backspace_rate"] == 0.25)
        #expect(v["late_night_share"] == 0.5)
    }

    @Test func sessionSplitsOnlyAfterMoreThanTheGap() {
        var settings = TypingSettings()
        settings.minKeystrokes = 1
        var clock = ZoneClock(Fixture.utc)
        let d = Fixture.day0 + 12 * 3600
        let events = [Self.key(d, hold: 100, flight: 500), Self.key(d + 300, hold: 100, flight: 400),
                      Self.key(d + 600.5, hold: 100, flight: 300), Self.key(d + 601, hold: 100, flight: 200)]
        let v = TypingFeatures.compute(events: events, settings: settings) { clock.minuteOfDay($0) }
        #expect(v["typing_sessions"] == 2)
        #expect(v["flight_median"] == 300)           // 400 and 200: the first flight of each session is dropped
        #expect(v["late_night_share"] == 0)
    }

    @Test func longFlightsArePausesNotRhythm() {
        var settings = TypingSettings()
        settings.minKeystrokes = 1
        var clock = ZoneClock(Fixture.utc)
        let d = Fixture.day0 + 12 * 3600
        let events = [Self.key(d, hold: 100, flight: 100), Self.key(d + 1, hold: 100, flight: 120),
                      Self.key(d + 5, hold: 100, flight: 4000), Self.key(d + 6, hold: 100, flight: 140)]
        let v = TypingFeatures.compute(events: events, settings: settings) { clock.minuteOfDay($0) }
        #expect(v["flight_median"] == 130)          // 120 and 140; 4000 ms is over the 3000 ms limit
    }

    @Test func tooFewKeystrokesGiveNoTypingFeatures() {
        var clock = ZoneClock(Fixture.utc)
        #expect((TypingFeatures.compute(events: Self.typingDay(), settings: TypingSettings()) { clock.minuteOfDay($0) }).isEmpty)
    }

    @Test func lateNightIsReadOnTheLocalClock() {
        var settings = TypingSettings()
        settings.minKeystrokes = 1
        // 03:00Z is 04:00 in Oslo (late) but 22:00 the previous evening in New York (not late).
        let t = Fixture.day0 + 3 * 3600
        let events = [Self.key(t, hold: 90, flight: 100)]
        var oslo = ZoneClock(Fixture.oslo)
        var ny = ZoneClock(Fixture.newYork)
        #expect((TypingFeatures.compute(events: events, settings: settings) { oslo.minuteOfDay($0) })["late_night_share"] == 1)
        #expect((TypingFeatures.compute(events: events, settings: settings) { ny.minuteOfDay($0) })["late_night_share"] == 0)
    }

    // MARK: Aggregation

    @Test(arguments: [
        (MetricSettings.Aggregate.mean, 4.0), (.sum, 16), (.median, 3), (.min, 1), (.max, 9),
    ])
    func aggregation(kind: MetricSettings.Aggregate, expected: Double) {
        #expect(Aggregation.apply(kind, [3, 1, 9, 3]) == expected)
        #expect(Aggregation.apply(kind, []) == nil)
    }
}
