import Testing
@testable import CanaryCore

/// Hand-computed values for the actigraphy features: Cole–Kripke scoring and Webster's rescoring, the
/// main rest period, and the non-parametric rhythm features.
@Suite struct ActigraphyTests {
    /// Minutes from a run-length description: (count, minutes).
    static func series(_ parts: [(Double?, Int)]) -> [Double?] {
        parts.flatMap { [Double?](repeating: $0.0, count: $0.1) }
    }

    @Test func coleKripkeScoresStillnessAsSleepAfterTheEdges() {
        // Twenty still minutes: the first and last four have no full window (wake); the first sleep minute
        // after four wake minutes is rescored to wake (Webster's first rule).
        let labels = ColeKripke.score(Self.series([(0, 20)]), divisor: 30)
        #expect(labels == (0..<20).map { (5...15).contains($0) })
        let unrescored = ColeKripke.score(Self.series([(0, 20)]), divisor: 30, rescoring: false)
        #expect(unrescored == (0..<20).map { (4...15).contains($0) })
    }

    @Test func coleKripkeThresholdIsScaledByTheDivisor() {
        // A steady count A scores D = 0.001 × 665 × A / divisor: sleep below A = 45.1 for divisor 30.
        #expect(ColeKripke.score(Self.series([(45, 30)]), divisor: 30, rescoring: false)[10] == true)
        #expect(ColeKripke.score(Self.series([(46, 30)]), divisor: 30, rescoring: false)[10] == false)
        // Steps per minute (divisor 1): two steps a minute is wake.
        #expect(ColeKripke.score(Self.series([(2, 30)]), divisor: 1, rescoring: false)[10] == false)
        #expect(ColeKripke.score(Self.series([(1, 30)]), divisor: 1, rescoring: false)[10] == true)
    }

    @Test func coleKripkeTransitionsAndRescoring() {
        // 60 active minutes (200), 120 still, 60 active. Into stillness at 60: D at 60+k sums the weights of the
        // active minutes still in the window: k = 0…2 give 294, 218, 160 × 200/30 × 0.001 ≥ 1 (wake), k = 3
        // gives 0.71 (sleep). Out of it at 180: minute 179 has 74 + 67 = 141 → 0.94 (sleep), 180 is wake.
        let minutes = Self.series([(200, 60), (0, 120), (200, 60)])
        let raw = ColeKripke.score(minutes, divisor: 30, rescoring: false)
        #expect(raw.indices.filter { raw[$0] } == Array(63...179))
        // 59 wake minutes before: the first 4 sleep minutes are rescored (rules 1–3: ≥ 15 wake, the next 4).
        let labels = ColeKripke.score(minutes, divisor: 30)
        #expect(labels.indices.filter { labels[$0] } == Array(67...179))
    }

    @Test func shortSleepBetweenLongWakeIsRescored() {
        // Sleep of 5 minutes between wake runs of 20: rescored to wake (rule 4: ≤ 6 between ≥ 10).
        var labels = [Bool](repeating: false, count: 45)
        for i in 20..<25 { labels[i] = true }
        #expect(ColeKripke.rescore(labels) == [Bool](repeating: false, count: 45))
        // Sleep of 8 between wake runs of 12: kept except the first minute... rule 2 (after ≥ 10 wake, the next 3).
        var longer = [Bool](repeating: false, count: 40)
        for i in 12..<20 { longer[i] = true }
        #expect(ColeKripke.rescore(longer).indices.filter { ColeKripke.rescore(longer)[$0] } == Array(15..<20))
    }

    @Test func restPeriodBridgesAnAwakening() {
        // A noon-to-noon window: active (200) until 23:00 (minute 660), still until 07:00 (1140) with an
        // awakening of 20 active minutes at 03:00 (900), then active again.
        let minutes = Self.series([(200, 660), (0, 240), (200, 20), (0, 220), (200, 300)])
        let sleep = ColeKripke.score(minutes, divisor: 30)
        let rest = RestPeriod.find(counts: minutes, sleep: sleep, ends: 1...minutes.count, settings: .init())
        // Onset 7 minutes into stillness (3 by the window, 4 by rescoring); offset after the last still
        // minute; the awakening costs 20 active + 3 window + 4 rescored minutes, and the two minutes before it
        // stay sleep (their window reaches only A+1, A+2).
        #expect(rest == RestPeriod(onset: 667, offset: 1140, sleepMinutes: 1140 - 667 - 27, wakeMinutes: 27))
        #expect(rest?.efficiency == Double(1140 - 667 - 27) / Double(1140 - 667))
        // Without bridging, the half with more sleep is the main period (the two minutes before the
        // awakening are still sleep).
        let split = RestPeriod.find(counts: minutes, sleep: sleep, ends: 1...minutes.count, settings: .init(bridge: 10))
        #expect(split == RestPeriod(onset: 667, offset: 900, sleepMinutes: 233, wakeMinutes: 0))
        // The night must end in the range asked for (a night belongs to the day you wake up).
        #expect(RestPeriod.find(counts: minutes, sleep: sleep, ends: 1...1000, settings: .init()) == nil)
    }

    @Test func restPeriodNeedsLengthAndWear() {
        let short = Self.series([(200, 100), (0, 150), (200, 100)])
        #expect(RestPeriod.find(counts: short, sleep: ColeKripke.score(short, divisor: 30), ends: 1...350, settings: .init()) == nil)
        // A watch off for 40 minutes in the night (missing minutes read as wake and count as non-wear).
        var night = Self.series([(200, 300), (0, 480), (200, 300)])
        for i in 500..<540 { night[i] = nil }
        let sleep = ColeKripke.score(night, divisor: 30)
        #expect(RestPeriod.find(counts: night, sleep: sleep, ends: 1...night.count, settings: .init()) == nil)
        #expect(RestPeriod.find(counts: night, sleep: sleep, ends: 1...night.count, settings: .init(maxNonWear: 60)) != nil)
    }

    @Test func restLongerThanSixteenHoursIsNoNight() {
        // Still for 17 hours (a watch on a bedside table reading a low floor): no night; 15 hours is one.
        let long = Self.series([(200, 60), (3, 17 * 60), (200, 60)])
        #expect(RestPeriod.find(counts: long, sleep: ColeKripke.score(long, divisor: 30), ends: 1...long.count, settings: .init()) == nil)
        let fifteen = Self.series([(200, 60), (3, 15 * 60), (200, 60)])
        let rest = RestPeriod.find(counts: fifteen, sleep: ColeKripke.score(fifteen, divisor: 30), ends: 1...fifteen.count, settings: .init())
        #expect(rest?.onset == 67 && rest?.offset == 60 + 15 * 60)
    }

    /// Two days active 08:00–20:00 and at rest otherwise.
    static func regularDays(_ n: Int) -> [RhythmFeatures.Minute] {
        (0..<(n * 1440)).map { (480..<1200).contains($0 % 1440) }
    }

    @Test func rhythmOfPerfectlyRegularDays() {
        let r = RhythmFeatures.compute(Self.regularDays(2))
        // Hourly values 60 for 08–19, else 0. Profile: 24 values, sample variance 24·900/23; all 48 hours:
        // 48·900/47. IS = (24/23)/(48/47) = 47/46 (the n − 1 variances make a perfect rhythm exceed 1).
        #expect(abs(r.interdailyStability! - 47.0 / 46.0) < 1e-12)
        // Four jumps of 60 among 47 consecutive pairs over the same variance: IV = (4·3600/47)/(48·900/47) = 1/3.
        #expect(abs(r.intradailyVariability! - 1.0 / 3.0) < 1e-12)
        #expect(r.l5 == 0 && r.l5Start == 0)
        #expect(r.m10 == 1 && r.m10Start == 480)
        #expect(r.relativeAmplitude == 1)
    }

    @Test func rhythmTreatsMissingMinutesAsMissing() {
        var minutes = Self.regularDays(2)
        // Day 2 10:00–10:59 not worn: that hour has no value, and the average day takes 10:00 from day 1 only.
        for m in (1440 + 600)..<(1440 + 660) { minutes[m] = nil }
        let r = RhythmFeatures.compute(minutes)
        // 47 hours: 23 active (60) and 24 at rest; the profile is unchanged (hour 10 is 60 on day 1).
        let mean = 23.0 * 60 / 47
        let total = (23 * (60 - mean) * (60 - mean) + 24 * mean * mean) / 46
        #expect(abs(r.interdailyStability! - (24.0 * 900 / 23) / total) < 1e-12)
        // The pairs 09→10 and 10→11 of day 2 are gone: 45 pairs, still four jumps.
        #expect(abs(r.intradailyVariability! - (4 * 3600.0 / 45) / total) < 1e-12)
        #expect(r.m10 == 1)
        // Missing would be read as inactivity if it were zero: M10 would drop below 1.
        var zeroed = Self.regularDays(2)
        for m in (1440 + 600)..<(1440 + 660) { zeroed[m] = false }
        #expect(RhythmFeatures.compute(zeroed).m10! < 1)
    }

    @Test func rhythmWindowsWrapAroundMidnight() {
        // Active 20:00–06:00 (a night worker): M10 starts at 20:00 and wraps; L5 is inside the day.
        let minutes: [RhythmFeatures.Minute] = (0..<(3 * 1440)).map { $0 % 1440 >= 1200 || $0 % 1440 < 360 }
        let r = RhythmFeatures.compute(minutes)
        #expect(r.m10 == 1 && r.m10Start == 1200)
        #expect(r.l5 == 0 && r.l5Start == 360)
        // The series may start at any whole hour: the same days from 12:00 give the same features.
        let fromNoon = Array(minutes[720...]) + Array(minutes[..<720])
        let shifted = RhythmFeatures.compute(fromNoon, firstMinuteOfDay: 720)
        #expect(shifted.m10Start == 1200 && shifted.l5Start == 360)
        #expect(abs(shifted.interdailyStability! - r.interdailyStability!) < 1e-12)
    }

    @Test func nonWearIsMarkedAcrossInterruptions() {
        let m = Self.series([(50, 10), (0, 50), (3, 2), (0, 50), (50, 10)])
        let marked = NonWear.mark(m, settings: ActivitySettings())
        #expect(marked.indices.filter { marked[$0] } == Array(10..<112))
        var strict = ActivitySettings()
        strict.nonWearTolerance = 1
        #expect(!NonWear.mark(m, settings: strict).contains(true))
    }

    @Test func sleepWithSmallMovementsIsNotNonWear() {
        // Eight hours of zeros with a one-minute movement every 20 minutes: a sleeper, not a watch on a table.
        // Each interruption has fewer than 30 zeros before it, so no run of zeros reaches 90 minutes.
        let movements: [(Double?, Int)] = (0..<24).flatMap { _ -> [(Double?, Int)] in [(0, 19), (2, 1)] }
        let night = Self.series([(200, 30)] + movements + [(200, 30)])
        #expect(!NonWear.mark(night, settings: ActivitySettings()).contains(true))
        // Without the window (every interruption of ≤ 2 minutes bridged), the whole night reads as non-wear.
        var loose = ActivitySettings()
        loose.nonWearWindow = 0
        #expect(NonWear.mark(night, settings: loose).filter { $0 }.count == 479)
    }

    @Test func deviceNoiseFloorReadsAsStillForNonWear() {
        // A device off the body that reports 7 to 10 counts instead of zero (as one Depresjon recording
        // does for a week): with the default floor of zero it is worn all along; with a floor of 12 its
        // 100 minutes are non-wear, while the worn minutes either side stay worn, and five minutes above the floor split a still spell in two short ones.
        let off = Self.series([(200, 10)] + (0..<25).flatMap { _ -> [(Double?, Int)] in [(7, 2), (9, 1), (10, 1)] } + [(200, 10)])
        #expect(!NonWear.mark(off, settings: ActivitySettings()).contains(true))
        var floor = ActivitySettings()
        floor.nonWearFloor = 12
        let marked = NonWear.mark(off, settings: floor)
        #expect(marked.indices.filter { marked[$0] } == Array(10..<110))
        let moved = Self.series([(200, 10), (9, 60), (13, 5), (9, 60), (200, 10)])
        #expect(!NonWear.mark(moved, settings: floor).contains(true))
    }
}
