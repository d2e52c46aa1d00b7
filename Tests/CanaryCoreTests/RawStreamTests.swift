import Foundation
import Testing
@testable import CanaryCore

/// The raw-stream baselines on synthetic streams: each finds the change it is for and stays quiet on the
/// clean control. A reading every 10 minutes for 30 days; the change starts on day 20.
@Suite struct RawStreamTests {
    static let start = Fixture.day0
    static let step = 600.0
    static let count = 30 * 144
    static let onset = 20 * 144

    /// Deterministic standard normal noise (SplitMix64, Box–Muller), bounded at ±3.5: the clean control
    /// holds no reading a per-reading rule at 4 should flag (one draw in 4320 would pass 4 otherwise).
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            func uniform() -> Double {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 9_007_199_254_740_992
            }
            let e = (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
            return min(max(e, -3.5), 3.5)
        }
    }

    /// The i-th reading's instant and hour of the day (UTC, the default zone).
    static func hour(_ i: Int) -> Double { Double(i % 144) / 6 }

    static func stream(seed: UInt64 = 7, _ value: (Int, Double) -> Double) -> [Record] {
        var noise = Noise(state: seed)
        return (0..<count).map { i in
            .sample(SampleRecord(timestamp: start + Double(i) * step, subject: "p1", metric: "m", value: value(i, noise.next())))
        }
    }

    static func alerts(_ records: [Record], _ configure: (inout MetricSettings) -> Void) -> [Int] {
        var c = EngineConfiguration()
        var m = MetricSettings()
        m.mode = .raw
        m.baseline = .ewma
        m.rule = RuleSettings.rawDefault
        configure(&m)
        c.metrics["m"] = m
        c.gapSeconds = [:]
        let alerts = EngineTests.run(records, configuration: c).alerts.filter { $0.kind == .deviation }
        return alerts.map { Int((($0.periodStart - start) / step).rounded()) }
    }

    static func rolling(_ m: inout MetricSettings) { m.baseline = .rolling; m.windowSeconds = 86_400 }
    static func seasonal(_ m: inout MetricSettings) { m.baseline = .seasonal; m.seasonalPeriodHours = 24; m.seasonalMinimum = 7 }
    static func ewma(_ m: inout MetricSettings) {}
    static func likelihood(_ m: inout MetricSettings) { rolling(&m); m.likelihood = true; m.rule?.direction = .high }

    static func flat(_ i: Int, _ e: Double) -> Double { 60 + 2 * e }
    static func daily(_ i: Int, _ e: Double) -> Double { 60 + 10 * sin(2 * Double.pi * hour(i) / 24) + 2 * e }

    @Test func cleanControlsStayQuiet() {
        for (name, configure) in [("rolling", Self.rolling), ("seasonal", Self.seasonal), ("likelihood", Self.likelihood)] {
            #expect(Self.alerts(Self.stream(Self.flat), configure).isEmpty, "\(name)")
        }
        // The reference EWMA (alpha 0.05: a variance from about 20 readings) may stray past 4 now and then.
        #expect(Self.alerts(Self.stream(Self.flat), Self.ewma).count <= 2)
        // A daily rhythm is normal for the seasonal baseline and within the rolling day's spread.
        #expect(Self.alerts(Self.stream(Self.daily), Self.seasonal).isEmpty)
        #expect(Self.alerts(Self.stream(Self.daily), Self.rolling).isEmpty)
    }

    @Test func levelShiftIsFoundAtOnce() throws {
        let shifted = Self.stream { i, e in 60 + (i >= Self.onset ? 12 : 0) + 2 * e }
        for configure in [Self.rolling, Self.ewma] {
            let found = Self.alerts(shifted, configure)
            let first = try #require(found.first)
            #expect(first >= Self.onset && first < Self.onset + 6, "within the first hour")
        }
        // The likelihood layer sees the anomaly level rise and stay up.
        let level = try #require(Self.alerts(shifted, Self.likelihood).first)
        #expect(level >= Self.onset && level < Self.onset + 24)
    }

    @Test func varianceChangeIsFound() throws {
        let wider = Self.stream { i, e in 60 + (i >= Self.onset ? 10 : 2) * e }
        let found = Self.alerts(wider, Self.rolling)
        #expect(found.allSatisfy { $0 >= Self.onset })
        #expect(found.count >= 20, "\(found.count) readings out of band in ten days")
    }

    @Test func aBrokenDailyPatternIsFoundOnlyByTheSeasonalBaseline() throws {
        // From day 20 the rhythm runs 12 hours out of phase: the same values, at the wrong hours.
        let flipped = Self.stream { i, e in
            60 + 10 * sin(2 * Double.pi * (Self.hour(i) + (i >= Self.onset ? 12 : 0)) / 24) + 2 * e
        }
        let seasonal = Self.alerts(flipped, Self.seasonal)
        let first = try #require(seasonal.first)
        #expect(first >= Self.onset && first < Self.onset + 144, "within the first day")
        #expect(Self.alerts(flipped, Self.rolling).isEmpty, "the values themselves are usual")
    }

    @Test func isolatedSpikesAreEachFound() {
        let spikes: Set<Int> = [3500, 3700, 3900, 4100, 4200]
        let spiky = Self.stream { i, e in 60 + (spikes.contains(i) ? 40 : 0) + 2 * e }
        #expect(Set(Self.alerts(spiky, Self.rolling)) == spikes)
        #expect(Set(Self.alerts(spiky, Self.ewma)).isSuperset(of: spikes))
    }

    @Test func aSlowDriftIsFoundByAWeekLongWindowWithCUSUM() throws {
        // +1 a day (half the noise's spread) from day 20: no single reading is out of band.
        let drift = Self.stream { i, e in 60 + (i >= Self.onset ? Double(i - Self.onset) / 144 : 0) + 2 * e }
        let week: (inout MetricSettings) -> Void = { m in
            m.baseline = .rolling
            m.windowSeconds = 7 * 86_400
            m.rule = RuleSettings(direction: .both, threshold: 4, persistenceK: 1, persistenceN: 1, cooldownPeriods: 0,
                                   resolveBelow: 1, episodes: true, cusumK: 0.5, cusumH: 50)
        }
        let found = Self.alerts(drift, week)
        let first = try #require(found.first)
        #expect(first >= Self.onset && first < Self.onset + 4 * 144, "within four days of drift")
        #expect(Self.alerts(Self.stream(Self.flat), week).isEmpty)
    }

    @Test func aWindowOrSeasonChangedOnReloadStartsAfresh() {
        // A day-long rolling window that becomes a week-long one: bucket numbers of the old length would
        // lie ahead of every new reading, so nothing new would ever enter the window.
        var rolling = RollingBaseline()
        for i in 0..<200 { _ = rolling.observe(60, at: Self.start + Double(i) * Self.step, window: 86_400, slots: 128, minimum: 30,
                                               floorAbsolute: 0, floorRelative: 0) }
        for i in 200..<260 { _ = rolling.observe(80, at: Self.start + Double(i) * Self.step, window: 7 * 86_400, slots: 128, minimum: 5,
                                                 floorAbsolute: 1, floorRelative: 0) }
        let d = rolling.observe(80, at: Self.start + 260 * Self.step, window: 7 * 86_400, slots: 128, minimum: 5,
                                floorAbsolute: 1, floorRelative: 0)
        #expect(d?.centre == 80)
        // Hour of the day becoming hour of the week: the old hours are not read as the new ones.
        var seasonal = SeasonalBaseline()
        for h in 0..<(10 * 24) { _ = seasonal.observe(60, localHour: h, period: 24, cycles: 28, minimum: 7, warmup: 1, floorAbsolute: 1, floorRelative: 0) }
        // Hour 341 is 05:00 of the third week: the old 05:00 of days 0 and 1 (cycles 0 and 1) are no week's.
        #expect(seasonal.observe(60, localHour: 2 * 168 + 5, period: 168, cycles: 4, minimum: 1, warmup: 1, floorAbsolute: 1, floorRelative: 0) == nil)
    }

    @Test func likelihoodIsTheNormalTail() {
        #expect(abs(AnomalyLikelihood.likelihood(z: 0) - 0.5) < 1e-12)
        #expect(abs(AnomalyLikelihood.likelihood(z: 3.719) - 0.9999) < 1e-5)
    }
}
