import Testing
@testable import CanaryCore

/// The composite's own-covariance distance, with hand-computed values.
@Suite struct CompositeCovarianceTests {
    static let settings = CompositeSettings(name: "t", features: ["a", "b"], alpha: 0.01, minFeatures: 2,
                                            persistenceK: 1, persistenceN: 1, cooldownPeriods: 7)

    /// A rule that has seen `history` (one z pair per day, days 0, 1, ...).
    static func rule(_ history: [[Double?]], settings: CompositeSettings = settings) -> CompositeRule {
        var rule = CompositeRule()
        for (day, zs) in history.enumerated() { _ = rule.evaluate(period: day, zs: zs, settings: settings) }
        return rule
    }

    @Test func featuresThatMoveTogetherCountAboutOnce() throws {
        // 20 days on which a and b moved together (1, 1): Σ = [[1, 1], [1, 1]], off-diagonal shrunk by
        // p/n = 2/20 to 0.9. For z = (2, 2): z'Σ⁻¹z = (4 + 4 − 2·0.9·4) / (1 − 0.81) = 0.8/0.19.
        var rule = Self.rule([[Double?]](repeating: [1, 1], count: 20))
        let togetherResult = rule.evaluate(period: 20, zs: [2, 2], settings: Self.settings)
        let together = try #require(togetherResult)
        #expect(abs(together.statistic - 0.8 / 0.19) < 1e-9)
        #expect(together.event == nil)      // the sum of squares, 8, is below the bound (9.21) too, but ...
        // ... against their usual correlation, (2, −2) is far out: (8 + 7.2)/0.19 = 80.
        var against = Self.rule([[Double?]](repeating: [1, 1], count: 20))
        let rResult = against.evaluate(period: 20, zs: [2, -2], settings: Self.settings)
        let r = try #require(rResult)
        #expect(abs(r.statistic - 15.2 / 0.19) < 1e-9)
        #expect(r.event == .alert(statistic: r.statistic, bound: r.bound, hits: 1, window: 1))
    }

    @Test func uncorrelatedFeaturesGiveTheSumOfSquares() throws {
        // Alternating (1, 1) and (1, −1): no covariance, unit variances.
        var rule = Self.rule((0..<20).map { $0 % 2 == 0 ? [1, 1] : [1, -1] })
        let rResult = rule.evaluate(period: 20, zs: [2, 2], settings: Self.settings)
        let r = try #require(rResult)
        #expect(abs(r.statistic - 8) < 1e-12)
    }

    @Test func varianceBelowOneIsNotTrustedAndOutliersAreClipped() throws {
        // A person whose z's are always small (0.1, 0.1): the variances are floored at 1, the covariance is
        // 0.01·0.9; the distance is then about the sum of squares, never larger.
        var quiet = Self.rule([[Double?]](repeating: [0.1, 0.1], count: 20))
        let qResult = quiet.evaluate(period: 20, zs: [2, 2], settings: Self.settings)
        let q = try #require(qResult)
        #expect(abs(q.statistic - 8 / (1 + 0.009)) < 1e-9)
        // One past day of z = (10, 0) enters as (4, 0): variance of a = (19·0 + 16)/20 = 0.8 → floored at 1.
        var spike = Self.rule([[Double?]](repeating: [0, 0], count: 19) + [[10, 0]])
        let sResult = spike.evaluate(period: 20, zs: [2, 2], settings: Self.settings)
        let s = try #require(sResult)
        #expect(abs(s.statistic - 8) < 1e-12)
        // Wider past variation of a (z ±2 every day): variance 4, so a's z of 2 counts as 1.
        var wide = Self.rule((0..<20).map { $0 % 2 == 0 ? [2, 1] : [-2, 1] })
        let wResult = wide.evaluate(period: 20, zs: [2, 0], settings: Self.settings)
        let w = try #require(wResult)
        // Σ = [[4, 0], [0, 1]] (a·b averages 2 − 2 = 0): 4/4 + 0 = 1.
        #expect(abs(w.statistic - 1) < 1e-12)
    }

    @Test func shortHistoryFallsBackToTheIdentity() throws {
        var rule = Self.rule([[Double?]](repeating: [1, 1], count: 13))
        let rResult = rule.evaluate(period: 13, zs: [2, 2], settings: Self.settings)
        let r = try #require(rResult)
        #expect(r.statistic == 8)
        // Turned off: the plain sum, whatever the history.
        var off = Self.settings
        off.covariance = false
        var plain = Self.rule([[Double?]](repeating: [1, 1], count: 20), settings: off)
        let plainResult = plain.evaluate(period: 20, zs: [2, 2], settings: off)
        #expect(try #require(plainResult).statistic == 8)
        // Days a feature had no z do not count towards its history.
        var gappy = Self.rule((0..<20).map { $0 < 10 ? [1, nil] : [1, 1] })
        let gappyResult = gappy.evaluate(period: 20, zs: [2, 2], settings: Self.settings)
        #expect(try #require(gappyResult).statistic == 8)
    }

    @Test func aReloadedFeatureListStartsTheHistoryAfresh() throws {
        // 20 days of (a, b), then the configuration lists (b, c, a): the old days would be read with the
        // wrong features (and past their end once c has days of its own); the history starts again.
        var rule = Self.rule([[Double?]](repeating: [1, 1], count: 20))
        var wider = Self.settings
        wider.features = ["b", "c", "a"]
        let firstResult = rule.evaluate(period: 20, zs: [2, 2, 2], settings: wider)
        #expect(try #require(firstResult).statistic == 12)
        for day in 21..<35 { _ = rule.evaluate(period: day, zs: [1, 1, 1], settings: wider) }
        #expect(rule.historyDays([0, 1, 2]) == 15)
        // 15 days of (1, 1, 1) and one of (2, 2, 2): variances (14 + 4)/15 = 1.2, covariances the same,
        // shrunk by 3/15. Along (1, 1, 1) the eigenvalue is 1.2 + 2 · 0.8 · 1.2 = 3.12: 12 / 3.12.
        let rResult = rule.evaluate(period: 35, zs: [2, 2, 2], settings: wider)
        #expect(abs(try #require(rResult).statistic - 12 / 3.12) < 1e-9)
    }

    @Test func historyIsBoundedByTheWindow() {
        var rule = CompositeRule()
        for day in 0..<100 { _ = rule.evaluate(period: day, zs: [1, 1], settings: Self.settings, window: 28) }
        #expect(rule.historyDays([0, 1]) == 28)
    }
}

/// The composite's clipping of a day's z and its span of days.
@Suite struct CompositeSpanTests {
    @Test func oneExtremeFeatureIsClipped() throws {
        var rule = CompositeRule()
        // Identity (no history): z = (10, 0) enters as (4, 0).
        let rResult = rule.evaluate(period: 0, zs: [10, 0], settings: CompositeCovarianceTests.settings)
        #expect(try #require(rResult).statistic == 16)
        var s = CompositeCovarianceTests.settings
        s.clip = 2.5
        var tight = CompositeRule()
        let tResult = tight.evaluate(period: 0, zs: [10, -10], settings: s)
        #expect(try #require(tResult).statistic == 12.5)
    }

    @Test func aShiftHeldForDaysCountsMoreThanOneOddDay() throws {
        var s = CompositeCovarianceTests.settings
        s.span = 3
        // Three days of (2, 2): each feature sums 6 over 3 days, / √3 → √12 each: statistic 24.
        var held = CompositeRule()
        _ = held.evaluate(period: 0, zs: [2, 2], settings: s)
        _ = held.evaluate(period: 1, zs: [2, 2], settings: s)
        let hResult = held.evaluate(period: 2, zs: [2, 2], settings: s)
        #expect(abs(try #require(hResult).statistic - 24) < 1e-12)
        // One odd day of (4, 4) after two of (0, 0): 4/√3 each, statistic 32/3 — less than the held shift.
        var odd = CompositeRule()
        _ = odd.evaluate(period: 0, zs: [0, 0], settings: s)
        _ = odd.evaluate(period: 1, zs: [0, 0], settings: s)
        let oResult = odd.evaluate(period: 2, zs: [4, 4], settings: s)
        #expect(abs(try #require(oResult).statistic - 32.0 / 3.0) < 1e-12)
        // Days outside the span and days a feature had no z do not count: (1, nil) four days ago is out,
        // (nil, 3) yesterday counts for b only: a = 2 (1 day), b = (3 + 2)/√2.
        var gaps = CompositeRule()
        _ = gaps.evaluate(period: 0, zs: [1, nil], settings: s)
        _ = gaps.evaluate(period: 3, zs: [nil, 3], settings: s)
        let gResult = gaps.evaluate(period: 4, zs: [2, 2], settings: s)
        #expect(abs(try #require(gResult).statistic - (4 + 25.0 / 2)) < 1e-12)
    }
}
