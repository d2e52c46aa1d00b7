import Foundation
import Testing
@testable import CanaryCore

@Suite("Timestamps and zones")
struct TimestampTests {
    // MARK: Instants

    @Test(arguments: [
        ("1767225600", 1_767_225_600.0),
        ("1767225600.25", 1_767_225_600.25),
        ("2026-01-01T00:00:00Z", 1_767_225_600),
        ("2026-01-01t00:00:00z", 1_767_225_600),
        ("2026-01-01T00:00Z", 1_767_225_600),
        ("2026-03-05T07:30:00+01:00", 1_772_692_200),
        ("2026-03-05T07:30:00+0100", 1_772_692_200),
        ("2026-03-05T07:30:00+01", 1_772_692_200),
        ("2026-03-05T07:30:00-05:00", 1_772_713_800),
        ("2026-03-05T07:30:00+05:30", 1_772_676_000),
        ("2026-03-05T07:30:00.5Z", 1_772_695_800.5),
        ("2026-03-05T07:30:00,25Z", 1_772_695_800.25),
        ("2026-03-05T07:30:00.125+01:00", 1_772_692_200.125),
        ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("2016-12-31T23:59:60Z", 1_483_228_799),  // a leap second is read as :59
        ("1970-01-01T00:00:00Z", 0),
    ])
    func instantIsParsed(text: String, expected: Double) throws {
        let parsed = try #require(parseTimestamp(text))
        #expect(parsed == .instant(expected))
    }

    @Test(arguments: [
        ("2026-03-05 07:30:00", 1_772_695_800.0),
        ("2026-03-05T07:30:00", 1_772_695_800),
        ("2026-03-05 07:30", 1_772_695_800),
        ("2026-03-05 07:30:00.5", 1_772_695_800.5),
    ])
    func localTimeNeedsAZone(text: String, wall: Double) throws {
        let parsed = try #require(parseTimestamp(text))
        #expect(parsed == .local(wall))
    }

    @Test(arguments: [
        "20260305",               // a date without dashes is not epoch seconds in 1970
        "2026",                   // nor is a bare year
        "0",                      // epoch seconds are plausible: 1973 .. 2286
        "99999999999",
        "2026-02-30T00:00:00Z",   // no 30 February
        "2026-13-01T00:00:00Z",   // month 13
        "2026-00-10T00:00:00Z",   // month 0
        "2026-04-31T00:00:00Z",   // April has 30 days
        "2025-02-29T00:00:00Z",   // not a leap year
        "2100-02-29T00:00:00Z",   // century, not a leap year
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T12:60:00Z",
        "2026-01-01T12:00:61Z",
        "2026-01-01",
        "2026-01-01T12:00:00+1",
        "2026-01-01T12:00:00+24:00",
        "2026-01-01T12:00:00Q",
        "2026-01-01T12:00:00.Z",
        "2026-01-01X12:00:00Z",
        "2026/01/01T00:00:00Z",
        "tomorrow",
        "-5",
        "",
        "1e999",
    ])
    func invalidTimestampIsRejected(text: String) {
        #expect(parseTimestamp(text) == nil)
    }

    @Test func civilDayRoundTrip() {
        #expect(TimestampParser.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(TimestampParser.daysFromCivil(year: 2026, month: 1, day: 1) == Fixture.dayIndex0)
        #expect(TimestampParser.daysFromCivil(year: 2024, month: 2, day: 29) == 19_782)
        for day in [-1, 0, 59, 19_782, 20_454, 20_541, 40_000] {
            let c = TimestampParser.civil(fromDays: day)
            #expect(TimestampParser.daysFromCivil(year: c.year, month: c.month, day: c.day) == day)
        }
        #expect(TimestampParser.civil(fromDays: 20_541) == (2026, 3, 29))
        #expect(TimestampParser.daysIn(month: 2, year: 2000) == 29)
        #expect(TimestampParser.daysIn(month: 2, year: 1900) == 28)
    }

    // MARK: Local times through ZoneClock

    static func resolve(_ text: String, in zone: TimeZone) throws -> Double {
        guard case .local(let wall)? = parseTimestamp(text) else {
            Issue.record("\(text) did not parse as a local time")
            return .nan
        }
        var clock = ZoneClock(zone)
        return clock.instant(fromLocal: wall)
    }

    @Test(arguments: [
        // Europe/Oslo: CET (+1) in winter, CEST (+2) in summer.
        ("2026-01-15 12:00:00", "Europe/Oslo", 1_768_474_800.0),
        ("2026-07-01 12:00:00", "Europe/Oslo", 1_782_900_000),
        // Spring forward 2026-03-29 at 02:00 local: 02:30 does not exist, moved forward to 03:30 CEST = 01:30Z.
        ("2026-03-29 02:30:00", "Europe/Oslo", 1_774_747_800),
        ("2026-03-29 01:59:00", "Europe/Oslo", 1_774_745_940),   // 00:59Z, last minute of CET
        ("2026-03-29 03:00:00", "Europe/Oslo", 1_774_746_000),   // 01:00Z, first minute of CEST
        // Fall back 2026-10-25 at 03:00 local: 02:30 happens twice; the first occurrence (CEST) is 00:30Z.
        ("2026-10-25 02:30:00", "Europe/Oslo", 1_792_888_200),
        ("2026-10-25 03:30:00", "Europe/Oslo", 1_792_895_400),   // 02:30Z, after the change
        // America/New_York: EST (-5) / EDT (-4).
        ("2026-01-15 12:00:00", "America/New_York", 1_768_496_400),
        ("2026-07-01 12:00:00", "America/New_York", 1_782_921_600),
        // Spring forward 2026-03-08 at 02:00: 02:30 is moved to 03:30 EDT = 07:30Z.
        ("2026-03-08 02:30:00", "America/New_York", 1_772_955_000),
        // Fall back 2026-11-01 at 02:00: 01:30 is ambiguous; first occurrence (EDT) = 05:30Z.
        ("2026-11-01 01:30:00", "America/New_York", 1_793_511_000),
        // Pacific/Auckland: NZST (+12) / NZDT (+13), further east than 12 hours in summer.
        ("2026-01-15 12:00:00", "Pacific/Auckland", 1_768_431_600),
        ("2026-07-01 12:00:00", "Pacific/Auckland", 1_782_864_000),
        // Fall back 2026-04-05 at 03:00 NZDT: 02:30 is ambiguous; first occurrence (NZDT) = 04-04T13:30Z.
        ("2026-04-05 02:30:00", "Pacific/Auckland", 1_775_309_400),
        // Spring forward 2026-09-27 at 02:00 NZST: 02:30 is moved forward to 03:30 NZDT = 09-26T14:30Z.
        ("2026-09-27 02:30:00", "Pacific/Auckland", 1_790_433_000),
        ("2026-01-15 12:00:00", "UTC", 1_768_478_400),
    ])
    func localTimeIsResolvedInItsZone(text: String, zone: String, expected: Double) throws {
        let tz = try #require(TimeZone(identifier: zone))
        #expect(try Self.resolve(text, in: tz) == expected)
    }

    @Test func osloSpringForwardIsA23HourDay() {
        var clock = ZoneClock(Fixture.oslo)
        let day = 20_541  // 2026-03-29
        let start = clock.startOfDay(day)
        let next = clock.startOfDay(day + 1)
        #expect(start == 1_774_738_800)          // 2026-03-28T23:00Z
        #expect(next == 1_774_821_600)           // 2026-03-29T22:00Z
        #expect(next - start == 23 * 3600)
        #expect((clock.day(of: start)) == day)
        #expect((clock.day(of: start - 1)) == day - 1)
        #expect((clock.day(of: next - 1)) == day)
        #expect((clock.day(of: next)) == day + 1)
        #expect((clock.minuteOfDay(start)) == 0)
        #expect((clock.minuteOfDay(1_774_744_200)) == 90)    // 00:30Z = 01:30 CET
        #expect((clock.minuteOfDay(1_774_746_000)) == 180)   // 01:00Z = 03:00 CEST
        #expect((clock.minuteOfDay(1_774_747_800)) == 210)   // 01:30Z = 03:30 CEST
        #expect((clock.minuteOfDay(next - 60)) == 1439)
        #expect((clock.offset(at: start)) == 3600)
        #expect((clock.offset(at: next)) == 7200)
    }

    @Test func osloFallBackIsA25HourDay() {
        var clock = ZoneClock(Fixture.oslo)
        let day = 20_751  // 2026-10-25
        let start = clock.startOfDay(day)
        let next = clock.startOfDay(day + 1)
        #expect(start == 1_792_879_200)          // 2026-10-24T22:00Z
        #expect(next == 1_792_969_200)           // 2026-10-25T23:00Z
        #expect(next - start == 25 * 3600)
        #expect((clock.day(of: start)) == day)
        #expect((clock.day(of: next - 1)) == day)
        #expect((clock.day(of: next)) == day + 1)
        // 02:30 local occurs twice: at 00:30Z (CEST) and at 01:30Z (CET).
        #expect((clock.minuteOfDay(1_792_888_200)) == 150)
        #expect((clock.minuteOfDay(1_792_891_800)) == 150)
        #expect((clock.minuteOfDay(next - 60)) == 1439)
    }

    @Test func clockCacheIsCorrectAcrossTransitionsInAnyOrder() {
        // One clock used forwards and backwards across the spring-forward instant (01:00Z).
        var clock = ZoneClock(Fixture.oslo)
        let before = 1_774_744_200.0   // 00:30Z, CET
        let after = 1_774_747_800.0    // 01:30Z, CEST
        #expect((clock.offset(at: before)) == 3600)
        #expect((clock.offset(at: after)) == 7200)
        #expect((clock.offset(at: before)) == 3600)
        #expect((clock.offset(at: 1_774_745_999)) == 3600)
        #expect((clock.offset(at: 1_774_746_000)) == 7200)
        // A week later and a year later still right.
        #expect((clock.offset(at: after + 7 * 86_400)) == 7200)
        #expect((clock.offset(at: 1_792_891_800)) == 3600)
    }

    @Test func dayAndMinuteInUTC() {
        var clock = ZoneClock(Fixture.utc)
        #expect((clock.day(of: Fixture.day0)) == Fixture.dayIndex0)
        #expect((clock.day(of: Fixture.day0 - 0.001)) == Fixture.dayIndex0 - 1)
        #expect((clock.minuteOfDay(Fixture.day0 + 23 * 3600 + 30 * 60)) == 1410)
        #expect((clock.startOfDay(Fixture.dayIndex0 + 1)) == Fixture.day0 + 86_400)
        #expect((clock.local(Fixture.day0)) == Fixture.day0)
    }

    @Test func zoneBookFallsBackToDefault() {
        let book = ZoneBook(defaultZone: Fixture.oslo, subjects: ["ny": Fixture.newYork])
        #expect(book.zone(for: "ny") == Fixture.newYork)
        #expect(book.zone(for: "anyone") == Fixture.oslo)
        #expect(ZoneBook().zone(for: "x").secondsFromGMT(for: Date(timeIntervalSince1970: Fixture.day0 + 180 * 86_400)) == 0)
    }
}
