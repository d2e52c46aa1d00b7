import Testing
@testable import CanaryCore

/// Calibration of z by the person's own recent spread of z, with plain numbers.
@Suite struct CalibrationTests {
    static func history(_ zs: [Double]) -> FeatureHistory {
        var h = FeatureHistory()
        for (i, z) in zs.enumerated() { h.record(period: i, value: z) }
        return h
    }

    @Test func zIsDividedByTheRootMeanSquareOfPastZ() {
        // Past z alternating ±2: root mean square 2. A z of 6 becomes 3, the scale doubles.
        var h = Self.history((0..<20).map { $0 % 2 == 0 ? 2 : -2 })
        let d = Calibration.apply(Deviation(value: 160, centre: 100, scale: 10, z: 6), period: 20, window: 28, minHistory: 14, history: &h)
        #expect(d == Deviation(value: 160, centre: 100, scale: 20, z: 3))
        // The day's own z is kept uncalibrated for the days after.
        #expect(h.entries.last == FeatureHistory.Entry(period: 20, value: 6))
    }

    @Test func neverSharperThanTheRobustScaleAndOutliersClipped() {
        // Past z small (±0.5): the spread is below 1, nothing changes.
        var quiet = Self.history((0..<20).map { $0 % 2 == 0 ? 0.5 : -0.5 })
        let d = Deviation(value: 130, centre: 100, scale: 10, z: 3)
        #expect(Calibration.apply(d, period: 20, window: 28, minHistory: 14, history: &quiet) == d)
        // One past z of 40 enters as 4: mean square (19·1 + 16)/20 = 1.75.
        var spike = Self.history([Double](repeating: 1, count: 19) + [40])
        let s = Calibration.apply(d, period: 20, window: 28, minHistory: 14, history: &spike)
        #expect(abs(s.z - 3 / 1.75.squareRoot()) < 1e-12)
        // Too little history: unchanged.
        var short = Self.history([Double](repeating: 3, count: 10))
        #expect(Calibration.apply(d, period: 10, window: 28, minHistory: 14, history: &short) == d)
    }

    @Test func theEngineCalibratesWhenAsked() throws {
        var c = EngineConfiguration()
        c.baseline.calibrate = true
        // Usual nights of 7.5 and 7.3 h with a 5 h night every fifth: the robust scale sees only the usual
        // nights (its floor, 5 % of ~444 min), so each short night is z ≈ −6.5 (clipped to 4) and the
        // root mean square of past z is about 1.8; the night under test is another usual one.
        let hours: (Int) -> Double = { $0 % 5 == 4 ? 5 : ($0 % 2 == 0 ? 7.5 : 7.3) }
        let records: [Record] = (0..<41).map { EngineTests.night($0, hours: hours($0)) }
        let plain = EngineTests.run(records, observations: true).observations.last { $0.metric == "sleep_duration" }!
        let calibrated = EngineTests.run(records, configuration: c, observations: true).observations.last { $0.metric == "sleep_duration" }!
        #expect(calibrated.deviation.scale > 1.5 * plain.deviation.scale)
        #expect(calibrated.deviation.centre == plain.deviation.centre)
        #expect(calibrated.deviation.scale >= plain.deviation.scale)
        #expect(abs(calibrated.deviation.z * calibrated.deviation.scale - plain.deviation.z * plain.deviation.scale) < 1e-9)
    }
}
