import Testing
@testable import CanaryCore

@Suite("Robust and circular statistics")
struct CircularStatisticsTests {
    @Test(arguments: [
        (10.0, 1430.0, 20.0),     // 00:10 is 20 minutes after 23:50
        (1430, 10, -20),
        (5, 5, 0),
        (0, 719, -719),
        (720, 0, 720),            // half a day: the result lies in (-720, 720]
        (0, 720, 720),
        (2890, 10, 0),            // two days later, same clock time
        (-30, 30, -60),
        (1380, 60, -120),         // 23:00 is two hours before 01:00
    ])
    func circularDifference(a: Double, b: Double, expected: Double) {
        #expect(RobustStatistics.circularDifference(a, b) == expected)
    }

    @Test func circularDifferenceWithOtherPeriod() {
        // Hours on a 24-hour circle.
        #expect(RobustStatistics.circularDifference(1, 23, period: 24) == 2)
        #expect(RobustStatistics.circularDifference(23, 1, period: 24) == -2)
    }

    @Test func circularMeanAcrossMidnight() throws {
        let m = try #require(RobustStatistics.circularMean([1430, 10]))   // 23:50 and 00:10
        #expect(m >= 0 && m <= 1440)   // 0, or 1440 when rounding lands just below zero before wrapping
        #expect(abs(RobustStatistics.circularDifference(m, 0)) < 1e-9)
        // The arithmetic mean would say noon; the circular mean must not.
        #expect(abs(m - 720) > 700)
    }

    @Test(arguments: [
        ([1380.0, 60.0], 0.0),            // 23:00 and 01:00 -> midnight
        ([600, 660], 630),
        ([1410, 1420, 1430, 0, 10], 1430),
        ([90], 90),
        ([1439], 1439),
    ] as [([Double], Double)])
    func circularMean(values: [Double], expected: Double) throws {
        let m = try #require(RobustStatistics.circularMean(values))
        #expect(m >= 0 && m <= 1440)
        #expect(abs(RobustStatistics.circularDifference(m, expected)) < 1e-9)
    }

    @Test func circularMeanUndefined() {
        #expect(RobustStatistics.circularMean([]) == nil)
        #expect(RobustStatistics.circularMean([0, 720]) == nil)          // opposite times cancel
        #expect(RobustStatistics.circularMean([0, 480, 960]) == nil)     // evenly spread
    }

    @Test func median() {
        #expect(RobustStatistics.median([]) == nil)
        #expect(RobustStatistics.median([7]) == 7)
        #expect(RobustStatistics.median([3, 1, 2]) == 2)
        #expect(RobustStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(RobustStatistics.median([10, 12, 11, 13, 9, 10, 14, 12, 11, 30]) == 11.5)
        #expect(RobustStatistics.median([-5, 100, 0]) == 0)
    }

    @Test func medianAbsoluteDeviation() {
        #expect(RobustStatistics.mad([], around: 0) == nil)
        // |1-3|,|2-3|,|3-3|,|4-3|,|100-3| = 2,1,0,1,97 -> median 1: one outlier does not move it.
        #expect(RobustStatistics.mad([1, 2, 3, 4, 100], around: 3) == 1)
        // deviations from 11.5: 1.5,0.5,1.5,0.5,2.5,1.5,2.5,0.5,0.5,18.5 -> median 1.5
        #expect(RobustStatistics.mad([10, 12, 11, 13, 9, 10, 14, 12, 11, 30], around: 11.5) == 1.5)
        #expect(RobustStatistics.mad([480, 480, 480], around: 480) == 0)
    }

    @Test func madToSigmaIsTheNormalConsistencyConstant() {
        // 1 / Phi^-1(3/4) = 1 / 0.6744897501960817
        #expect(abs(RobustStatistics.madToSigma - 1 / 0.674_489_750_196_081_7) < 1e-12)
    }

    @Test(arguments: [(-30.0, 1410.0), (1500, 60), (1440, 0), (0, 0), (1439.5, 1439.5), (-1440, 0), (-2880.5, 1439.5)])
    func wrap(value: Double, expected: Double) {
        #expect(RobustStatistics.wrap(value) == expected)
    }
}
