import Foundation
import Testing
@testable import CanaryCore

/// `ImportMerger` and `ImportEntry`: the day-by-day merge behind the multi-stream vendor imports.
@Suite struct ImportMergerTests {
    static let oslo = TimeZone(identifier: "Europe/Oslo")!
    /// 2026-03-31T21:30:00Z = 23:30 in Oslo (+02:00), the last evening of March.
    static let evening = 1_774_992_600.0

    static func merge(_ buckets: [[ImportEntry]], merger: inout ImportMerger) -> [String] {
        var out: [String] = []
        for entries in buckets {
            let bucket = merger.bucket(of: entries[0])
            merger.merge(entries, bucketEnd: merger.end(ofBucket: bucket)) { out.append($0) }
        }
        merger.finish { out.append($0) }
        return out
    }

    /// A night from the last evening of a month into the next is one session, though its segments
    /// were spooled under two months.
    @Test func aNightAcrossMonthsIsOneSession() {
        var merger = ImportMerger(subject: "p", zone: Self.oslo)
        let march: [ImportEntry] = [.segment(start: Self.evening, end: Self.evening + 1800, stage: .asleep)]
        let april: [ImportEntry] = [.segment(start: Self.evening + 2400, end: Self.evening + 8 * 3600, stage: .asleep),
                                    .segment(start: Self.evening + 1800, end: Self.evening + 2400, stage: .awake)]
        #expect(merger.bucket(of: march[0]) == 2026 * 12 + 2 && merger.bucket(of: april[0]) == 2026 * 12 + 3)
        let out = Self.merge([march, april], merger: &merger)
        #expect(out == ["#canary format=sleep subject=p tz=Europe/Oslo", "start,end,asleep_min,awake_min,efficiency",
                        "2026-03-31T21:30:00Z,2026-04-01T05:30:00Z,470,10,"])
        #expect(merger.counts.sessions == 1)
    }

    /// A night that ended more than `sessionGap` before the month's end is written with its month.
    @Test func aClosedNightIsWrittenWithItsMonth() {
        var merger = ImportMerger(subject: "p", zone: Self.oslo)
        var out: [String] = []
        let night = Self.evening - 86_400
        merger.merge([.segment(start: night, end: night + 7 * 3600, stage: .asleep)], bucketEnd: merger.end(ofBucket: 2026 * 12 + 2)) { out.append($0) }
        #expect(out.last == "2026-03-30T21:30:00Z,2026-03-31T04:30:00Z,420,0,")
        var after: [String] = []
        merger.finish { after.append($0) }
        #expect(after.isEmpty)
    }

    /// Overlapping sources: in-bed alone is a session of time in bed; awake alone is none; the same
    /// session or reading twice counts once.
    @Test func sessionsAndDuplicates() {
        var merger = ImportMerger(subject: "p", zone: TimeZone(identifier: "UTC")!)
        let day = 1_775_000_000.0
        let out = Self.merge([[
            .segment(start: day, end: day + 3600, stage: .inBed),
            .segment(start: day + 6 * 3600, end: day + 6 * 3600 + 600, stage: .awake),
            .session(start: day + 10 * 3600, end: day + 11 * 3600, asleepMinutes: 50, awakeMinutes: 10, efficiency: 83),
            .session(start: day + 10 * 3600, end: day + 11 * 3600, asleepMinutes: 50, awakeMinutes: 10, efficiency: 83),
            .sample(at: day, metric: "heart_rate", value: 61),
            .sample(at: day, metric: "heart_rate", value: 60),
            .sample(at: day, metric: "heart_rate", value: 60),
        ]], merger: &merger)
        // The reading is of 2026-03-31, the sessions of 2026-04-01 (the day they end): days in order.
        #expect(out == ["#canary format=samples subject=p tz=GMT", "timestamp,metric,value",
                        // Two values of one instant both go on (canaryd keeps the first); the same value twice once.
                        "2026-03-31T23:33:20Z,heart_rate,60", "2026-03-31T23:33:20Z,heart_rate,61",
                        "#canary format=sleep subject=p tz=GMT", "start,end,asleep_min,awake_min,efficiency",
                        "2026-03-31T23:33:20Z,2026-04-01T00:33:20Z,,,",
                        "2026-04-01T09:33:20Z,2026-04-01T10:33:20Z,50,10,83"])
        #expect(merger.counts.duplicates == 2 && merger.counts.sessions == 2 && merger.counts.samples == 2)
    }

    /// A count over several minutes is spread by overlap; two sources of one minute: the larger counts;
    /// one record read twice counts once, two records of one source add up.
    @Test func stepsAreSpreadAndSourcesMerged() {
        #expect(ImportEntry.steps(from: 30, to: 150, count: 120, source: 1)
                == [.minuteSteps(minute: 0, source: 1, count: 30, recordStart: 30, recordEnd: 150),
                    .minuteSteps(minute: 60, source: 1, count: 60, recordStart: 30, recordEnd: 150),
                    .minuteSteps(minute: 120, source: 1, count: 30, recordStart: 30, recordEnd: 150)])
        #expect(ImportEntry.steps(from: 90, to: 90, count: 7, source: 0) == [.minuteSteps(minute: 60, source: 0, count: 7, recordStart: 90, recordEnd: 90)])
        var merger = ImportMerger(subject: "p", zone: TimeZone(identifier: "UTC")!)
        let midnight = 1_775_001_600.0  // 2026-04-01T00:00:00Z
        let m = midnight + 60
        let out = Self.merge([[.minuteSteps(minute: m, source: 0, count: 40, recordStart: m, recordEnd: m + 60),
                               .minuteSteps(minute: m, source: 1, count: 30, recordStart: m, recordEnd: m + 30),
                               .minuteSteps(minute: m, source: 1, count: 25, recordStart: m + 30, recordEnd: m + 60),
                               .minuteSteps(minute: m, source: 1, count: 25, recordStart: m + 30, recordEnd: m + 60)]], merger: &merger)
        #expect(out.count == 2 + 1440 && out[3] == "2026-04-01T00:01:00Z,55" && out[2] == "2026-04-01T00:00:00Z,0")
        #expect(merger.counts.duplicates == 1)
    }

    /// A segment starting exactly `sessionGap` after the night's end, on the first instant of the next
    /// month, joins the night as it would mid-month.
    @Test func theGapAtAMonthsEndIsTheGapAnywhere() {
        var merger = ImportMerger(subject: "p", zone: Self.oslo)
        let monthEnd = 1_774_994_400.0  // 2026-04-01T00:00 in Oslo = 2026-03-31T22:00:00Z
        let out = Self.merge([[.segment(start: monthEnd - 7200, end: monthEnd - 3600, stage: .asleep)],
                              [.segment(start: monthEnd, end: monthEnd + 3600, stage: .asleep)]], merger: &merger)
        #expect(out.last == "2026-03-31T20:00:00Z,2026-03-31T23:00:00Z,120,0,", "\(out)")
        #expect(merger.counts.sessions == 1)
    }

    /// Segments that never leave a gap still make sessions of at most `longestSession`.
    @Test func aChainIsBounded() {
        var merger = ImportMerger(subject: "p", zone: TimeZone(identifier: "UTC")!)
        let start = 1_775_001_600.0
        let segments = (0..<80).map { ImportEntry.segment(start: start + Double($0) * 1800, end: start + Double($0 + 1) * 1800, stage: .asleep) }
        _ = Self.merge([segments], merger: &merger)
        #expect(merger.counts.sessions == 2)  // 36 h, then the remaining 4 h
    }

    /// Canonical timestamps: whole seconds, or milliseconds rounded (carrying into the next second).
    @Test func timestampsAreRoundedToTheMillisecond() {
        #expect(ActiGraphCSV.isoUTC(1_774_994_400) == "2026-03-31T22:00:00Z")
        #expect(ActiGraphCSV.isoUTC(1_774_994_400.25) == "2026-03-31T22:00:00.250Z")
        #expect(ActiGraphCSV.isoUTC(1_774_994_459.9996) == "2026-03-31T22:01:00Z")
        #expect(ActiGraphCSV.isoUTC(-2_208_988_800) == "1900-01-01T00:00:00Z")
    }

    @Test func spoolLinesReadBack() {
        let entries: [ImportEntry] = [
            .session(start: 1.5, end: 2e9, asleepMinutes: nil, awakeMinutes: 0.1, efficiency: nil),
            .segment(start: -3, end: 4, stage: .inBed), .minuteSteps(minute: 60, source: 3, count: 1e-7, recordStart: 59.5, recordEnd: 61),
            .sample(at: 1_775_000_000.25, metric: "temperature_deviation", value: -0.21),
        ]
        for e in entries { #expect(ImportEntry(spoolLine: Substring(e.spoolLine)) == e, "\(e.spoolLine)") }
        #expect(ImportEntry(spoolLine: "M,1,,2") == nil && ImportEntry(spoolLine: "X,1") == nil && ImportEntry(spoolLine: "A,1,2,3") == nil)
    }
}
