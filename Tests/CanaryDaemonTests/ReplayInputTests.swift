import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

@Suite struct ReplayInputTests {
    /// Real actigraphy (Depresjon): the `timestamp,date,activity` header, local times, real non-wear.
    @Test func readsDepresjonRecordingsWithTheirOwnHeader() throws {
        var configuration = CanaryConfiguration()
        configuration.engine.zones.defaultZone = TimeZone(identifier: "Europe/Oslo")!
        configuration.engine.baseline.minHistoryDays = 3
        let scores = TestSupport.temporaryFile("scores.csv")
        let inputs = ["depresjon-condition_1-head.csv", "depresjon-control_1-head.csv"].map {
            Replay.Input(path: TestSupport.fixture($0), subject: String($0.dropFirst(10).dropLast(9)))
        }
        let (_, summary, diagnostics) = try TestSupport.replay(inputs, configuration: configuration, scores: scores)
        #expect(diagnostics.isEmpty, "\(diagnostics.prefix(3))")
        #expect(summary.counts.accepted[.activity] == 28_800)
        #expect(summary.counts.totalRejected == 0)
        #expect(summary.subjects == 2)

        let rows = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        let steps = rows.filter { $0[2] == "steps" }
        #expect(steps.count >= 8, "days with enough wear are evaluated")
        // Missing data is never zero: an evaluated day has counts.
        #expect(steps.allSatisfy { Double($0[3])! > 0 })
        let nonWear = rows.filter { $0[2] == "non_wear_minutes" }.map { Double($0[3])! }
        #expect(nonWear.contains { $0 >= 90 }, "real non-wear runs are found")
    }

    @Test func rejectedRowsAreReportedAndTheRestGoesThrough() throws {
        let path = TestSupport.temporaryFile("sleep.csv")
        try """
        subject,start,end,asleep_min
        s1,2026-03-01T23:00:00Z,2026-03-02T07:00:00Z,450
        s1,2026-03-02T23:00:00Z,2026-03-02T22:00:00Z,400
        s1,2026-03-03T23:00:00Z,2026-03-04T07:00:00Z,abc
        s1,2026-03-04T23:00:00Z
        s1,2026-03-05T23:00:00Z,2026-03-06T07:00:00Z,NaN
        s1,2026-03-05T23:00:00Z,2026-03-06T07:00:00Z,430
        s1,2026-03-05T23:00:00Z,2026-03-06T07:00:00Z,430

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let (_, summary, diagnostics) = try TestSupport.replay([.init(path: path)], configuration: CanaryConfiguration())
        #expect(summary.counts.accepted[.sleep] == 3)
        #expect(summary.counts.rejected[.sleep] == 4)
        #expect(diagnostics.count == 4)
        #expect(diagnostics[0].hasSuffix(":line 3: field 'end': end is before start"))
        #expect(diagnostics[1].contains("line 4: field 'asleep_min': not a number"))
        #expect(diagnostics[2].contains("line 5: expected 4 columns"))
        #expect(diagnostics[3].contains("line 6: field 'asleep_min': NaN or infinity"))
    }

    @Test func rowsBeyondTheEnginesBoundsAreCountedInTheSummary() throws {
        let path = TestSupport.temporaryFile("samples.csv")
        try "timestamp,subject,metric,value\n1700000000,s1,hr,60\n1700000000,s2,hr,60\n1700000000,s1,rr,12\n1700000060,s1,hr,61\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = CanaryConfiguration()
        configuration.engine.maxSubjects = 1
        configuration.engine.maxMetricsPerSubject = 1
        let (_, summary, _) = try TestSupport.replay([.init(path: path)], configuration: configuration)
        #expect(summary.subjects == 1 && summary.refusedRows == 2)
        #expect(SummaryText.render(summary).contains("refused rows (beyond engine.max_subjects or engine.max_metrics_per_subject, not evaluated)=2"))
    }

    @Test func overLongLinesAreSkippedToTheNextNewline() throws {
        let path = TestSupport.temporaryFile("samples.csv")
        let long = String(repeating: "9", count: 200_000)
        try "timestamp,subject,metric,value\n1700000000,s1,hr,60\n1700000060,s1,hr,\(long)\n1700000120,s1,hr,61\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (_, summary, diagnostics) = try TestSupport.replay([.init(path: path)], configuration: CanaryConfiguration())
        #expect(summary.counts.accepted[.samples] == 2)
        #expect(summary.counts.rejected[.samples] == 1)
        #expect(diagnostics.first?.contains("line 3: line is 200017 bytes, over the limit of 65536") == true, "\(diagnostics)")
    }

    @Test func directivesNameFormatSubjectAndZone() throws {
        let path = TestSupport.temporaryFile("one-person.csv")
        try "#canary format=activity subject=p7 tz=America/New_York\ntimestamp,steps\n2026-03-08 01:59:00,5\n2026-03-08 03:00:00,7\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (_, summary, diagnostics) = try TestSupport.replay([.init(path: path)], configuration: CanaryConfiguration())
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(summary.counts.accepted[.activity] == 2)
        #expect(summary.subjects == 1)
    }

    @Test func aHeaderThatMatchesNoFormatRefusesTheFileWithOneReason() throws {
        let path = TestSupport.temporaryFile("odd.csv")
        try "when,who,what\n1,2,3\n4,5,6\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (_, summary, diagnostics) = try TestSupport.replay([.init(path: path)], configuration: CanaryConfiguration())
        #expect(summary.counts.totalAccepted == 0)
        #expect(summary.counts.rejectedUnknown == 3)
        #expect(diagnostics.count == 1)
        #expect(diagnostics[0].contains("matches no input format"))
    }
}
