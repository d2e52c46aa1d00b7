import Foundation
import Testing
@testable import CanaryCore

/// An open day of activity holds a slot per minute, not a row per epoch.
@Suite struct MinuteEpochsTests {
    static let day = 1_767_225_600.0   // 2026-01-01T00:00:00Z

    @Test func aDayOfMinutesInAnyOrderIsTheSameAndBounded() throws {
        var forward = MinuteEpochs(), shuffled = MinuteEpochs()
        let minutes = (0..<1440).map { (Self.day + Double($0) * 60, Double($0 % 97)) }
        for (t, c) in minutes { let ok = forward.insertFirst(c, at: t); #expect(ok) }
        var rng = ShortestDoubleTests.Seeded(state: 3)
        for (t, c) in minutes.shuffled(using: &rng) { let ok = shuffled.insertFirst(c, at: t); #expect(ok) }
        #expect(forward == shuffled && forward.count == 1440)
        #expect(forward.epochs.map(\.instant) == minutes.map(\.0))
        // A resend of the whole day is all duplicates and holds nothing more.
        let before = forward.heldBytes
        for (t, c) in minutes { let again = forward.insertFirst(c + 1, at: t); #expect(!again) }
        #expect(forward.heldBytes == before && forward.count == 1440)
        #expect(before <= 16 * 1024, "one open subject-day of minute activity: \(before) bytes")
    }

    @Test func theSameEpochsWithGapsAreEqualWhateverTheOrder() {
        // Empty minutes are NaN inside: equality must compare the epochs, not the slots.
        var a = MinuteEpochs(), b = MinuteEpochs()
        for t in [0.0, 180, 600] { _ = a.insertFirst(1, at: Self.day + t) }
        for t in [600.0, 0, 180] { _ = b.insertFirst(1, at: Self.day + t) }
        #expect(a == b)
        _ = b.insertFirst(2, at: Self.day + 60)
        #expect(a != b)
    }

    @Test func subMinuteEpochsGoByInstantInTimeOrder() {
        var e = MinuteEpochs()
        let inserted = [e.insertFirst(5, at: Self.day + 90),    // 00:01:30
                        e.insertFirst(7, at: Self.day + 60),    // 00:01:00, a whole minute
                        e.insertFirst(1, at: Self.day + 75.5),
                        e.insertFirst(9, at: Self.day + 90)]    // a repeat
        #expect(inserted == [true, true, true, false])
        #expect(e.epochs.map(\.instant) == [Self.day + 60, Self.day + 75.5, Self.day + 90])
        #expect(e.epochs.map(\.count) == [7, 1, 5] && e.count == 3)
    }

    @Test func savedAsInstantCountPairsAndReadBackFromTheEarlierLayout() throws {
        var e = MinuteEpochs()
        _ = e.insertFirst(3, at: Self.day + 120)
        _ = e.insertFirst(4, at: Self.day + 61.25)
        let data = try JSONEncoder().encode(e)
        // The layout of earlier versions' [Double: Double]: what a saved state of theirs holds.
        let earlier = try JSONEncoder().encode([Self.day + 120: 3.0, Self.day + 61.25: 4.0])
        #expect(try JSONDecoder().decode([Double: Double].self, from: data) == [Self.day + 120: 3.0, Self.day + 61.25: 4.0])
        #expect(try JSONDecoder().decode(MinuteEpochs.self, from: earlier) == e)
    }
}
