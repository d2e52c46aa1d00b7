import Testing
@testable import CanaryCore

@Suite("Rules")
struct RuleTests {
    /// Feeds z-scores for periods 0, 1, 2, ... and returns each period's events.
    static func run(_ zs: [Double], _ s: RuleSettings, rule: inout ThresholdRule) -> [[RuleEvent]] {
        zs.enumerated().map { rule.evaluate(period: $0.offset, z: $0.element, settings: s) }
    }

    static func run(_ zs: [Double], _ s: RuleSettings) -> [[RuleEvent]] {
        var rule = ThresholdRule()
        return run(zs, s, rule: &rule)
    }

    /// True when no period produced an event.
    static func quiet(_ events: [[RuleEvent]]) -> Bool { events.allSatisfy(\.isEmpty) }

    static let noCusum = RuleSettings(threshold: 3, persistenceK: 3, persistenceN: 4, cooldownPeriods: 7, cusumK: nil)

    // MARK: Threshold with persistence

    @Test func alertsOnTheThirdDeviatingPeriodWithinFour() {
        let events = Self.run([-4, -4, -1, -4, -4, -4], Self.noCusum)
        #expect(events[0].isEmpty)
        #expect(events[1].isEmpty)
        #expect(events[2].isEmpty)
        #expect(events[3] == [.threshold(direction: .low, hits: 3, window: 4)])
        #expect(events[4].isEmpty)   // one episode, one alert
        #expect(events[5].isEmpty)
    }

    @Test func hitsOutsideTheWindowDoNotCount() {
        // Deviations every third period: never 3 within any 4 consecutive periods.
        let zs: [Double] = [-4, 0, 0, -4, 0, 0, -4, 0, 0, -4]
        #expect(Self.quiet(Self.run(zs, Self.noCusum)))
        // Exactly at |z| = threshold is not a deviation.
        #expect(Self.quiet(Self.run([-3, -3, -3, -3], Self.noCusum)))
    }

    @Test func alertComesOnlyOnADeviatingPeriod() {
        // Three hits then a quiet period: the quiet period itself must not alert late.
        var s = Self.noCusum
        s.cooldownPeriods = 1
        let events = Self.run([-4, -4, -4, 0], s)
        #expect(events[2] == [.threshold(direction: .low, hits: 3, window: 4)])
        #expect(events[3] == [.resolved(rule: "threshold")])
    }

    @Test(arguments: [
        (Direction.low, [-4.0, -4, -4], [RuleEvent.threshold(direction: .low, hits: 3, window: 4)]),
        (.low, [4.0, 4, 4], []),
        (.high, [4.0, 4, 4], [.threshold(direction: .high, hits: 3, window: 4)]),
        (.high, [-4.0, -4, -4], []),
        (.both, [4.0, 4, 4], [.threshold(direction: .high, hits: 3, window: 4)]),
        (.both, [-4.0, -4, -4], [.threshold(direction: .low, hits: 3, window: 4)]),
        (.both, [-4.0, 4, -4], []),   // mixed directions do not add up
    ])
    func direction(direction: Direction, zs: [Double], expected: [RuleEvent]) {
        var s = Self.noCusum
        s.direction = direction
        #expect(Self.run(zs, s).flatMap { $0 } == expected)
    }

    @Test func cooldownBlocksARepeatAlert() {
        let s = RuleSettings(threshold: 3, persistenceK: 1, persistenceN: 1, cooldownPeriods: 7, cusumK: nil)
        var zs = [Double](repeating: 0, count: 10)
        zs[0] = -4; zs[2] = -4; zs[6] = -4; zs[7] = -4
        let events = Self.run(zs, s)
        #expect(events[0] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[1] == [.resolved(rule: "threshold")])
        #expect(events[2].isEmpty)   // period 2 < 0 + 7
        #expect(events[3] == [])
        #expect(events[6].isEmpty)   // period 6 < 7
        #expect(events[7] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[8] == [.resolved(rule: "threshold")])
        #expect(events.flatMap { $0 }.count == 4)
    }

    @Test func resolvesOnceBackInsideTheHysteresisBand() {
        let s = RuleSettings(threshold: 3, persistenceK: 1, persistenceN: 1, cooldownPeriods: 1, resolveBelow: 1, cusumK: nil)
        let events = Self.run([-4, -2, -1, -0.5, 0.5], s)
        #expect(events[0] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[1].isEmpty)   // no longer deviating, but not back to normal
        #expect(events[2].isEmpty)   // |z| = 1 is not below 1
        #expect(events[3] == [.resolved(rule: "threshold")])
        #expect(events[4].isEmpty)

        var rule = ThresholdRule()
        _ = rule.evaluate(period: 0, z: 5, settings: s)
        #expect(rule.thresholdActive == .high)
        #expect((rule.evaluate(period: 1, z: 1.5, settings: s)).isEmpty)
        #expect((rule.evaluate(period: 2, z: -6, settings: s)) == [.resolved(rule: "threshold"), .threshold(direction: .low, hits: 1, window: 1)])
        #expect(rule.thresholdActive == .low)
    }

    @Test func withoutEpisodesEveryDeviatingPeriodAlerts() {
        let s = RuleSettings(threshold: 3, persistenceK: 1, persistenceN: 1, cooldownPeriods: 0, episodes: false, cusumK: nil)
        let events = Self.run([-4, -4, 0, -5, 5], s)
        #expect(events[0] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[1] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[2].isEmpty)   // no resolved events without episodes
        #expect(events[3] == [.threshold(direction: .low, hits: 1, window: 1)])
        #expect(events[4] == [.threshold(direction: .high, hits: 1, window: 1)])
        #expect(RuleSettings.rawDefault.episodes == false)
        #expect(RuleSettings.rawDefault.threshold == 4)
    }

    // MARK: CUSUM

    @Test func cusumCatchesASustainedSmallShift() throws {
        // z = -1.5 every day: never past the threshold of 3, but the low sum grows by 1.5 - 0.5 = 1 a day.
        let s = RuleSettings(threshold: 3, persistenceK: 3, persistenceN: 4, cooldownPeriods: 7, cusumK: 0.5, cusumH: 6)
        var rule = ThresholdRule()
        let events = Self.run([Double](repeating: -1.5, count: 20), s, rule: &rule)
        let firing = events.enumerated().filter { !$0.element.isEmpty }
        let first = try #require(firing.first)
        #expect(first.offset == 6)   // sum 7 > 6 on the seventh period
        #expect(first.element == [.cusum(direction: .low, sum: 7)])
        // The threshold rule never fires on this series.
        #expect(!events.flatMap { $0 }.contains { if case .threshold = $0 { return true } else { return false } })
        // One episode: nothing more while still shifted.
        #expect(firing.count == 1)
        #expect(rule.cusumActive == .low)
        #expect((rule.evaluate(period: 20, z: 0, settings: s)) == [.resolved(rule: "cusum")])
    }

    @Test func cusumResolutionDoesNotReFireFromStaleSums() {
        // While an episode is open the sums keep growing; once it resolves, the old sum must not
        // raise a new "sustained decrease" in the very period that is back to normal.
        let s = RuleSettings(threshold: 3, persistenceK: 3, persistenceN: 4, cooldownPeriods: 2, cusumK: 0.5, cusumH: 6)
        var rule = ThresholdRule()
        let shifted = Self.run([Double](repeating: -1.5, count: 15), s, rule: &rule)
        #expect(shifted.flatMap { $0 } == [.cusum(direction: .low, sum: 7)])
        #expect((rule.evaluate(period: 15, z: 0, settings: s)) == [.resolved(rule: "cusum")])
        #expect((rule.evaluate(period: 16, z: 0, settings: s)).isEmpty)
        #expect(rule.cusumActive == nil)
        // A new shift is caught afresh, after h is crossed again.
        let again = (17..<30).map { rule.evaluate(period: $0, z: -1.5, settings: s) }
        #expect(again[6] == [.cusum(direction: .low, sum: 7)])
        #expect(again.flatMap { $0 }.count == 1)
    }

    @Test func cusumIgnoresTheOtherDirectionAndShiftsBelowK() {
        let s = RuleSettings(direction: .high, threshold: 3, cusumK: 0.5, cusumH: 6)
        #expect(Self.quiet(Self.run([Double](repeating: -1.5, count: 20), s)))
        let both = RuleSettings(direction: .both, threshold: 3, cusumK: 0.5, cusumH: 6)
        #expect(Self.quiet(Self.run([Double](repeating: 0.5, count: 50), both)))
        let high = Self.run([Double](repeating: 2, count: 10), both)
        #expect(high[4] == [.cusum(direction: .high, sum: 7.5)])   // 1.5 a day
    }

    @Test func oneOutlierDoesNotTriggerCusumAlone() {
        // z is clipped before it enters the sums, so a single huge z cannot cross h.
        let s = RuleSettings(threshold: 3, persistenceK: 3, persistenceN: 4, cusumK: 0.5, cusumH: 6)
        var rule = ThresholdRule()
        #expect((rule.evaluate(period: 0, z: -20, settings: s)).isEmpty)
        #expect(rule.cusumLow <= 3)
    }

    // MARK: Composite

    static let composite = CompositeSettings(name: "t", features: ["a", "b", "c"], alpha: 0.01, minFeatures: 2,
                                             persistenceK: 1, persistenceN: 1, cooldownPeriods: 7)

    @Test func compositeFlagsSeveralModerateMovesTogether() throws {
        var rule = CompositeRule()
        let rResult = rule.evaluate(period: 0, zs: [2, 2, 2], settings: Self.composite)
        let r = try #require(rResult)
        #expect(r.statistic == 12)
        #expect(abs(r.bound - 11.344_866_730_144_37) < 1e-6)
        #expect(r.event == .alert(statistic: 12, bound: r.bound, hits: 1, window: 1))
        // No single feature reached 3: the threshold rule alone would have stayed quiet.
        let single = RuleSettings(threshold: 3, persistenceK: 1, persistenceN: 1, cusumK: nil)
        for z in [2.0, 2, 2] {
            var t = ThresholdRule()
            #expect((t.evaluate(period: 0, z: z, settings: single)).isEmpty)
        }
        #expect(rule.active)
    }

    @Test func compositeStaysQuietBelowTheBound() throws {
        var rule = CompositeRule()
        let rResult = rule.evaluate(period: 0, zs: [1.9, 1.9, 1.9], settings: Self.composite)
        let r = try #require(rResult)
        #expect(abs(r.statistic - 10.83) < 1e-9)
        #expect(r.event == nil)
        // Fewer features than the minimum: not evaluated.
        #expect((rule.evaluate(period: 1, zs: [5], settings: Self.composite)) == nil)
        #expect((rule.evaluate(period: 2, zs: [], settings: Self.composite)) == nil)
    }

    @Test func compositePersistenceAndResolution() throws {
        let s = CompositeSettings(name: "t", features: ["a", "b", "c"], alpha: 0.01, minFeatures: 2,
                                  persistenceK: 2, persistenceN: 3, cooldownPeriods: 7)
        var rule = CompositeRule()
        #expect((rule.evaluate(period: 0, zs: [2, 2, 2], settings: s))?.event == nil)      // 1 of 3
        let secondResult = rule.evaluate(period: 1, zs: [2, 2, 2], settings: s)
        let second = try #require(secondResult)
        #expect(second.event == .alert(statistic: 12, bound: second.bound, hits: 2, window: 3))
        #expect((rule.evaluate(period: 2, zs: [2, 2, 2], settings: s))?.event == nil)      // already active
        // Median of chi-square(3) is about 2.366: a statistic of 4 is not yet back to usual ...
        #expect((rule.evaluate(period: 3, zs: [2, 0, 0], settings: s))?.event == nil)
        // ... 2 is.
        #expect((rule.evaluate(period: 4, zs: [1, 1, 0], settings: s))?.event == .resolved(statistic: 2))
        #expect(!rule.active)
        // Cooldown: 7 periods from the alert at period 1.
        _ = rule.evaluate(period: 5, zs: [3, 3, 3], settings: s)
        #expect((rule.evaluate(period: 6, zs: [3, 3, 3], settings: s))?.event == nil)
        #expect((rule.evaluate(period: 8, zs: [3, 3, 3], settings: s))?.event == .alert(statistic: 27, bound: second.bound, hits: 2, window: 3))
    }

    // MARK: Chi-square

    @Test(arguments: [
        (0.05, 1, 3.841_458_820_694_124),
        (0.01, 3, 11.344_866_730_144_373),
        (0.05, 10, 18.307_038_053_275_146),
        (0.01, 1, 6.634_896_601_021_214),
        (0.05, 2, 5.991_464_547_107_979),
        (0.5, 3, 2.365_973_884_375_338),
        (0.001, 5, 20.515_005_652_432_873),
    ])
    func chiSquareQuantile(alpha: Double, df: Int, expected: Double) {
        let q = ChiSquare.upperQuantile(alpha: alpha, df: df)
        #expect(abs(q - expected) < 1e-6 * expected)
        #expect(abs(ChiSquare.cdf(q, df: df) - (1 - alpha)) < 1e-9)
    }

    @Test func chiSquareCDF() {
        #expect(ChiSquare.cdf(0, df: 3) == 0)
        #expect(ChiSquare.cdf(-1, df: 3) == 0)
        // df 2 is exponential: P(X <= x) = 1 - exp(-x/2)
        #expect(abs(ChiSquare.cdf(3, df: 2) - (1 - 0.223_130_160_148_429_83)) < 1e-12)
        #expect(ChiSquare.cdf(100, df: 3) > 0.999_999)
        // log Gamma at integers: ln((n-1)!)
        #expect(abs(ChiSquare.logGamma(5) - 3.178_053_830_347_945_7) < 1e-12)
        #expect(abs(ChiSquare.logGamma(0.5) - 0.572_364_942_924_700_1) < 1e-12)
    }

    // MARK: Gap

    @Test func gapOpensOnceAndCloses() {
        var g = GapRule(firstSeen: 0)
        #expect((g.check(now: 100, limit: 200)) == nil)
        #expect(!g.isOpen)
        #expect((g.check(now: 200, limit: 200)) == .opened(since: 0, silentSeconds: 200))
        #expect(g.isOpen)
        #expect(g.openSince == 0)
        #expect((g.check(now: 900, limit: 200)) == nil)   // already open: no repeat
        #expect((g.covered(until: 1000)) == .closed(since: 0))
        #expect(!g.isOpen)
        #expect(g.lastCovered == 1000)
        #expect((g.covered(until: 1100)) == nil)           // nothing to close
        #expect((g.check(now: 1250, limit: 200)) == nil)
        #expect((g.check(now: 1300, limit: 200)) == .opened(since: 1100, silentSeconds: 200))
    }

    @Test func coverageNeverMovesBackwards() {
        var g = GapRule(firstSeen: 500)
        _ = g.covered(until: 100)
        #expect(g.lastCovered == 500)
        #expect((g.check(now: 650, limit: 200)) == nil)
    }
}
