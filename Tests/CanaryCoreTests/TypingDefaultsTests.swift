import Testing
@testable import CanaryCore

/// The default configuration flags a person typing far less than usual (withdrawal), with steady rhythm.
@Suite struct TypingDefaultsTests {
    /// `count` keystrokes on day `i`, from 10:00, one every 2 s, the same rhythm every day (small
    /// day-to-day variation in the count).
    static func day(_ i: Int, count: Int) -> [Record] {
        (0..<count).map { (k: Int) -> Record in
            let t: Double = Fixture.day(i) + 36_000 + Double(k) * 2
            let hold: Double = 90 + Double(k % 7)
            let flight: Double = 180 + Double(k % 11)
            return .typing(TypingRecord(timestamp: t, subject: "p1", holdMilliseconds: hold, flightMilliseconds: flight, key: .char))
        }
    }

    @Test func typingFarLessThanUsualAlerts() throws {
        let usual = [2000, 2200, 1900, 2100, 2050, 1950, 2150]
        let records = (0..<20).flatMap { Self.day($0, count: usual[$0 % 7]) } + (20..<24).flatMap { Self.day($0, count: 400) }
        let alerts = EngineTests.run(records).alerts.filter { $0.rule == "keystrokes.threshold" && $0.kind == .deviation }
        let a = try #require(alerts.first)
        // The third of four low days (persistence 3/4); the floor is a fifth of the usual ~2050 (405).
        #expect(a.period == EngineTests.label(22))
        #expect(a.direction == .low)
        #expect(a.value == 400)
        #expect(a.explanation.hasPrefix("keystrokes 400, usual 2025 ± 405 (z -4.0), 3 of the last 4 days"))
        // Typing a little less (1700 of ~2050) is inside the floor: nothing.
        let mild = (0..<20).flatMap { Self.day($0, count: usual[$0 % 7]) } + (20..<24).flatMap { Self.day($0, count: 1700) }
        #expect(!EngineTests.run(mild).alerts.contains { $0.rule.hasPrefix("keystrokes") && $0.kind == .deviation })
    }
}
