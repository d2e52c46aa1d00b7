import Testing
import Foundation
@testable import CanaryCore

@Suite("Baselines")
struct BaselineTests {
    static func history(_ values: [Double], from first: Int = 0) -> FeatureHistory {
        var h = FeatureHistory()
        for (i, v) in values.enumerated() { h.record(period: first + i, value: v) }
        return h
    }

    static func settings(minHistory: Int = 5, window: Int = 28) -> BaselineSettings {
        var s = BaselineSettings()
        s.minHistoryDays = minHistory
        s.windowDays = window
        return s
    }

    static let tenDays: [Double] = [10, 12, 11, 13, 9, 10, 14, 12, 11, 30]

    // MARK: RobustBaseline

    @Test func medianAndScaledMAD() throws {
        // sorted 9,10,10,11,11,12,12,13,14,30: median 11.5; |d| sorted 0.5 x4, 1.5 x3, 2.5 x2, 18.5: MAD 1.5
        let b = RobustBaseline(settings: Self.settings())
        let d = try #require(b.evaluate(value: 20, period: 10, history: Self.history(Self.tenDays), circular: false,
                                        floorAbsolute: 0, floorRelative: 0))
        #expect(d.value == 20)
        #expect(d.centre == 11.5)
        #expect(d.scale == 1.5 * 1.482_602_218_505_602)
        #expect(d.z == 8.5 / (1.5 * 1.482_602_218_505_602))
        #expect(abs(d.z - 3.822_1) < 1e-4)
    }

    @Test func periodUnderTestAndLaterPeriodsAreExcluded() throws {
        var h = Self.history(Self.tenDays)
        h.record(period: 10, value: 1000)   // the period being evaluated
        h.record(period: 11, value: -1000)  // a later period
        let b = RobustBaseline(settings: Self.settings())
        let d = try #require(b.evaluate(value: 20, period: 10, history: h, circular: false, floorAbsolute: 0, floorRelative: 0))
        #expect(d.centre == 11.5)
        #expect(d.scale == 1.5 * RobustStatistics.madToSigma)
    }

    @Test func onlyTheTrailingWindowCounts() throws {
        // window 5 at period 10: periods 5...9 = 10,14,12,11,30 -> median 12; |d| 2,2,0,1,18 -> MAD 2
        let b = RobustBaseline(settings: Self.settings(minHistory: 5, window: 5))
        let d = try #require(b.evaluate(value: 20, period: 10, history: Self.history(Self.tenDays), circular: false,
                                        floorAbsolute: 0, floorRelative: 0))
        #expect(d.centre == 12)
        #expect(d.scale == 2 * RobustStatistics.madToSigma)
        #expect(d.z == 8 / (2 * RobustStatistics.madToSigma))
        // Explicit window and minimum override the settings.
        let e = try #require(b.evaluate(value: 20, period: 10, history: Self.history(Self.tenDays), circular: false,
                                        floorAbsolute: 0, floorRelative: 0, window: 10, minHistory: 10))
        #expect(e.centre == 11.5)
    }

    @Test func nothingBeforeMinHistory() {
        let h = Self.history(Self.tenDays)
        let b = RobustBaseline(settings: Self.settings(minHistory: 10))
        #expect(b.evaluate(value: 20, period: 10, history: h, circular: false, floorAbsolute: 0, floorRelative: 0) != nil)
        // At period 9 only periods 0...8 (nine values) are history.
        #expect(b.evaluate(value: 20, period: 9, history: h, circular: false, floorAbsolute: 0, floorRelative: 0) == nil)
        // Missing periods are not filled in: nine values spread over eleven periods are still nine.
        var sparse = FeatureHistory()
        for p in [0, 1, 2, 4, 5, 6, 8, 9, 10] { sparse.record(period: p, value: 5 + Double(p)) }
        #expect(b.evaluate(value: 20, period: 11, history: sparse, circular: false, floorAbsolute: 0, floorRelative: 0) == nil)
        #expect(b.evaluate(value: 20, period: 0, history: FeatureHistory(), circular: false, floorAbsolute: 0, floorRelative: 0) == nil)
    }

    @Test func scaleFloorMakesAFlatSeriesUsable() throws {
        let flat = Self.history([Double](repeating: 480, count: 14))
        let b = RobustBaseline(settings: Self.settings(minHistory: 14))
        // Relative floor 5% of 480 = 24 beats the absolute 20.
        let d = try #require(b.evaluate(value: 300, period: 14, history: flat, circular: false, floorAbsolute: 20, floorRelative: 0.05))
        #expect(d.centre == 480)
        #expect(d.scale == 24)
        #expect(d.z == -7.5)
        #expect(d.z.isFinite)
        // Absolute floor alone.
        let a = try #require(b.evaluate(value: 300, period: 14, history: flat, circular: false, floorAbsolute: 20, floorRelative: 0))
        #expect(a.scale == 20)
        #expect(a.z == -9)
        // No floor: nothing rather than an infinite z.
        #expect(b.evaluate(value: 300, period: 14, history: flat, circular: false, floorAbsolute: 0, floorRelative: 0) == nil)
        // A floor below the MAD scale changes nothing.
        let m = try #require(RobustBaseline(settings: Self.settings()).evaluate(
            value: 20, period: 10, history: Self.history(Self.tenDays), circular: false, floorAbsolute: 1, floorRelative: 0.01))
        #expect(m.scale == 1.5 * RobustStatistics.madToSigma)
    }

    @Test func scaleFloorHelper() {
        #expect(ScaleFloor.apply(0, centre: 480, absolute: 20, relative: 0.05, circular: false) == 24)
        #expect(ScaleFloor.apply(0, centre: -480, absolute: 20, relative: 0.05, circular: false) == 24)
        #expect(ScaleFloor.apply(30, centre: 480, absolute: 20, relative: 0.05, circular: false) == 30)
        // Clock times have no meaningful magnitude: no relative floor.
        #expect(ScaleFloor.apply(0, centre: 1380, absolute: 30, relative: 0.05, circular: true) == 30)
    }

    @Test func circularFeatureAcrossMidnight() throws {
        // Onsets 23:30, 23:40, 23:50, 00:00, 00:10: unwrapped -30...+10 around 23:50, MAD 10 minutes.
        let h = Self.history([1410, 1420, 1430, 0, 10])
        let b = RobustBaseline(settings: Self.settings())
        let later = try #require(b.evaluate(value: 20, period: 5, history: h, circular: true, floorAbsolute: 0, floorRelative: 0))
        #expect(abs(later.centre - 1430) < 1e-9)
        #expect(abs(later.scale - 10 * RobustStatistics.madToSigma) < 1e-9)
        #expect(abs(later.z - 30 / (10 * RobustStatistics.madToSigma)) < 1e-9)   // 00:20 is 30 min after 23:50
        let earlier = try #require(b.evaluate(value: 1400, period: 5, history: h, circular: true, floorAbsolute: 0, floorRelative: 0))
        #expect(abs(earlier.z + 30 / (10 * RobustStatistics.madToSigma)) < 1e-9)
        // Read linearly, the same numbers would be absurd.
        let linear = try #require(b.evaluate(value: 20, period: 5, history: h, circular: false, floorAbsolute: 0, floorRelative: 0))
        #expect(linear.z < -40)
    }

    @Test func circularCentreIsWrappedIntoTheDay() throws {
        // Centre exactly at midnight: 23:40, 23:50, 00:00, 00:10, 00:20 -> centre 0 (not 1440), MAD 10.
        let h = Self.history([1420, 1430, 0, 10, 20])
        let b = RobustBaseline(settings: Self.settings())
        let d = try #require(b.evaluate(value: 1425, period: 5, history: h, circular: true, floorAbsolute: 0, floorRelative: 0))
        #expect(d.centre >= 0 && d.centre < 1440)
        #expect(abs(RobustStatistics.circularDifference(d.centre, 0)) < 1e-9)
        #expect(abs(d.z - (-15 / (10 * RobustStatistics.madToSigma))) < 1e-9)
    }

    @Test func weekdayAdjustment() throws {
        // Three weeks: 420 min every day except weekday 5, when it is 600.
        let values = (0..<21).map { $0 % 7 == 5 ? 600.0 : 420.0 }
        let h = Self.history(values)
        var s = Self.settings(minHistory: 14)
        let weekday: (Int) -> Int = { $0 % 7 }
        let plain = RobustBaseline(settings: s)
        let p = try #require(plain.evaluate(value: 600, period: 26, history: h, circular: false, floorAbsolute: 30, floorRelative: 0,
                                            weekday: weekday))
        #expect(p.centre == 420)
        #expect(p.z == 6)

        s.weekdayAdjust = true
        let adjusted = RobustBaseline(settings: s)
        let a = try #require(adjusted.evaluate(value: 600, period: 26, history: h, circular: false, floorAbsolute: 30, floorRelative: 0,
                                               weekday: weekday))
        #expect(a.centre == 600)
        #expect(a.z == 0)
        // Another weekday keeps the usual centre.
        let other = try #require(adjusted.evaluate(value: 420, period: 22, history: h, circular: false, floorAbsolute: 30, floorRelative: 0,
                                                   weekday: weekday))
        #expect(other.centre == 420)
        // Too few same-weekday values: the overall median is kept.
        s.weekdayMinSamples = 4
        let strict = RobustBaseline(settings: s)
        let t = try #require(strict.evaluate(value: 600, period: 26, history: h, circular: false, floorAbsolute: 30, floorRelative: 0,
                                             weekday: weekday))
        #expect(t.centre == 420)
        // Without a weekday function (hourly series) there is no adjustment.
        let n = try #require(adjusted.evaluate(value: 600, period: 26, history: h, circular: false, floorAbsolute: 30, floorRelative: 0))
        #expect(n.centre == 420)
    }

    // MARK: FeatureHistory

    @Test func featureHistoryKeepsOrderAndReplaces() {
        var h = FeatureHistory()
        h.record(period: 5, value: 50)
        h.record(period: 2, value: 20)
        h.record(period: 9, value: 90)
        h.record(period: 7, value: 70)
        h.record(period: 5, value: 55)   // replaces
        #expect(h.entries.map(\.period) == [2, 5, 7, 9])
        #expect(h.entries.map(\.value) == [20, 55, 70, 90])
        #expect(h.values(from: 3, before: 9).map(\.period) == [5, 7])
        #expect(h.values(from: 0, before: 100).count == 4)
        #expect(h.values(from: 10, before: 20).isEmpty)
        #expect(h.values(from: 0, before: 2).isEmpty)
        #expect(h.values(from: 9, before: 10).map(\.value) == [90])
        h.trim(before: 7)
        #expect(h.entries.map(\.period) == [7, 9])
    }

    /// Saved as periods by step and values, read back exactly (negative periods and steps too), and the
    /// layout saved by earlier versions is still read; a saved history that does not add up is refused.
    @Test func featureHistoryIsSavedCompactlyAndReadsTheOldLayout() throws {
        var h = FeatureHistory()
        for (p, v) in [(-3, 1.5), (20470, 465.123456789), (20471, -0.1), (20475, .greatestFiniteMagnitude)] { h.record(period: p, value: v) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the keys' order is otherwise not fixed
        let data = try encoder.encode(h)
        #expect(String(decoding: data, as: UTF8.self) == #"{"p":[-3,20473,1,4],"v":[1.5,465.123456789,-0.1,1.7976931348623157e+308]}"#)
        #expect(try JSONDecoder().decode(FeatureHistory.self, from: data) == h)
        #expect(try JSONDecoder().decode(FeatureHistory.self, from: Data(#"{"p":[],"v":[]}"#.utf8)) == FeatureHistory())
        let old = #"{"entries":[{"period":7,"value":70},{"period":9,"value":90.5}]}"#
        #expect(try JSONDecoder().decode(FeatureHistory.self, from: Data(old.utf8)).entries.map(\.value) == [70, 90.5])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FeatureHistory.self, from: Data(#"{"p":[1,1],"v":[2]}"#.utf8)) }
    }

    // MARK: EWMA

    /// The reference recursion, written out independently.
    struct Reference {
        var n = 0
        var mean = 0.0
        var variance = 0.0

        mutating func observe(_ x: Double, alpha a: Double, warmup: Int) -> Double? {
            if n == 0 {
                n = 1; mean = x; variance = 0
                return nil
            }
            var z: Double?
            if n >= warmup && variance > 0 { z = (x - mean) / variance.squareRoot() }
            let d = x - mean
            let inc = a * d
            mean = mean + inc
            variance = (1 - a) * (variance + d * inc)
            n += 1
            return z
        }
    }

    @Test(arguments: [(0.1, 3), (0.05, 1), (0.3, 5)])
    func ewmaMatchesReferenceBitForBit(alpha: Double, warmup: Int) {
        let xs: [Double] = [10, 12, 9, 11, 15, 8, 10.5, 30, 7, 11, 11, 11.25, -4, 0.1, 1e3, 12]
        var ewma = EWMABaseline()
        var ref = Reference()
        var scored = 0
        for (i, x) in xs.enumerated() {
            let meanBefore = ref.mean
            let sdBefore = ref.variance.squareRoot()
            let d = ewma.observe(x, alpha: alpha, warmup: warmup)
            let z = ref.observe(x, alpha: alpha, warmup: warmup)
            #expect(d?.z.bitPattern == z?.bitPattern, "observation \(i)")
            #expect(ewma.mean.bitPattern == ref.mean.bitPattern, "mean after \(i)")
            #expect(ewma.variance.bitPattern == ref.variance.bitPattern, "variance after \(i)")
            #expect(ewma.count == ref.n)
            if let d {
                scored += 1
                #expect(d.value == x)
                #expect(d.centre.bitPattern == meanBefore.bitPattern)
                #expect(d.scale.bitPattern == sdBefore.bitPattern)
            }
        }
        // Nothing is scored before `warmup` observations, nor while the variance is still 0 (after one point).
        #expect(scored == xs.count - max(warmup, 2))
    }

    @Test func ewmaFirstPointAndWarmup() {
        var e = EWMABaseline()
        #expect((e.observe(10, alpha: 0.1, warmup: 2)) == nil)
        #expect(e.count == 1)
        #expect(e.mean == 10)
        #expect(e.variance == 0)
        // Second point: n = 1 < warmup 2, no score; d = 2, inc = 0.2, mean 10.2, var 0.9 * (0 + 2 * 0.2) = 0.36
        #expect((e.observe(12, alpha: 0.1, warmup: 2)) == nil)
        #expect(e.mean == 10 + 0.1 * 2)
        #expect(e.variance == 0.9 * (0 + 2 * (0.1 * 2)))
        // Third point is scored against the state before it: z = (9 - 10.2) / sqrt(0.36) = -2
        let d = e.observe(9, alpha: 0.1, warmup: 2)
        #expect(d != nil)
        #expect(abs((d?.z ?? 0) + 2) < 1e-12)
        #expect(d?.centre == 10 + 0.1 * 2)
    }

    @Test func ewmaWithZeroVarianceScoresNothingUnlessFloored() {
        var e = EWMABaseline()
        for _ in 0..<5 { #expect((e.observe(5, alpha: 0.1, warmup: 1)) == nil) }
        var f = EWMABaseline()
        _ = f.observe(5, alpha: 0.1, warmup: 1)
        let d = f.observe(7, alpha: 0.1, warmup: 1, floorAbsolute: 0.5)
        #expect(d?.scale == 0.5)
        #expect(d?.z == 4)
    }

    // MARK: Score

    @Test func deviationScore() {
        #expect(Deviation.score(z: 0) == 0)
        #expect(Deviation.score(z: 3) == 0.5)
        #expect(Deviation.score(z: -3) == 0.5)
        #expect(Deviation.score(z: 4) == 64.0 / 91.0)
        #expect(Deviation.score(z: .infinity) == 1)
        #expect(Deviation(value: 0, centre: 0, scale: 1, z: -6).score == Deviation.score(z: 6))
    }
}
