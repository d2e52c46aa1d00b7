import Foundation
import Testing
@testable import CanaryCore

@Suite("Ingest stream and line splitting")
struct IngestStreamTests {
    /// Feeds lines 1, 2, 3, ... and returns the outcome of each; a `tz=` directive naming a subject is
    /// applied, as a caller that admits every subject would.
    static func feed(_ stream: inout IngestStream, _ lines: [String]) -> [IngestStream.Outcome] {
        lines.enumerated().map { i, line in
            let outcome = Array(line.utf8).withUnsafeBufferPointer { stream.feed($0, number: i + 1) }
            if let d = stream.takeZoneDirective() { stream.assignZone(d.zone, to: d.subject) }
            return outcome
        }
    }

    @Test func headerThenRows() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, ["timestamp,subject,metric,value", "1767225600,p1,hr,61", "1767225660,p1,hr,x", "1767225720,p2,hr,63"])
        #expect(out[0] == .control)
        #expect(out[1] == .record(.sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "hr", value: 61))))
        guard case .rejected(let e) = out[2] else { Issue.record("expected a rejection, got \(out[2])"); return }
        #expect(e.kind == .notANumber)
        #expect(e.line == 3)
        #expect(out[3] == .record(.sample(SampleRecord(timestamp: 1_767_225_720, subject: "p2", metric: "hr", value: 63))))
        #expect(s.parser?.layout.format == .samples)
    }

    @Test func leadingCommentsAndBlankLinesAreControl() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, ["", "  ", "# exported by a watch", "\r", "timestamp,subject,steps", "1767225600,p1,5"])
        #expect(out[0...4].allSatisfy { $0 == .control })
        #expect(out[5] == .record(.activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p1", count: 5))))
    }

    @Test func blankLineAfterTheHeaderIsNotARejectedRow() {
        // `.control` is documented for blank lines; a trailing empty line must not count as a bad row.
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, ["timestamp,subject,steps", "1767225600,p1,5", "", "\r", "1767225660,p1,6"])
        #expect(out[2] == .control)
        #expect(out[3] == .control)
        #expect(out[4] == .record(.activity(ActivityRecord(timestamp: 1_767_225_660, subject: "p1", count: 6))))
    }

    @Test func directiveNamesFormatSubjectAndZone() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, ["#canary format=activity subject=p7 tz=Europe/Oslo", "timestamp,steps", "2026-01-01 01:00:00,12"])
        #expect(out[0] == .control)
        #expect(out[1] == .control)
        // 01:00 in Oslo (CET) is midnight UTC.
        #expect(out[2] == .record(.activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p7", count: 12))))
        #expect(s.effectiveZones.zone(for: "p7") == Fixture.oslo)
        #expect(s.effectiveZones.zone(for: "other").secondsFromGMT(for: Date(timeIntervalSince1970: Fixture.day0)) == 0)
    }

    /// A directive after rows starts a section: its header comes next, the directive's format and
    /// subject apply to it only (the stream's own come back), a refused section refuses its own rows,
    /// and `#canaryish` lines stay comments.
    @Test func aDirectiveAfterRowsStartsANewSection() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, [
            "#canary format=activity subject=p7",
            "timestamp,steps",
            "1767225600,12",
            "#canaryish comment",
            "#canary format=sleep",
            "subject,start,end",
            "p8,1767225600,1767254400",
            "#canary format=samples",
            "this is no header",
            "1767225600,p9,hr,60",
            "#canary",
            "timestamp,subject,metric,value",
            "1767225600,p9,hr,61",
        ])
        #expect(out[2] == .record(.activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p7", count: 12))))
        #expect(out[3] == .control && out[4] == .control && out[5] == .control)
        #expect(out[6] == .record(.sleep(SleepRecord(subject: "p8", start: 1_767_225_600, end: 1_767_254_400))))
        #expect(out[7] == .control)
        guard case .refused = out[8], case .refused = out[9] else { Issue.record("expected the section refused: \(out[8]) \(out[9])"); return }
        #expect(out[10] == .control && out[11] == .control)
        #expect(out[12] == .record(.sample(SampleRecord(timestamp: 1_767_225_600, subject: "p9", metric: "hr", value: 61))))
        #expect(s.parser?.layout.format == .samples)
        // The subject p7 of the first section's directive does not carry over: a headerless activity
        // section without a subject column is refused.
        var t = IngestStream(zones: ZoneBook())
        let again = Self.feed(&t, ["#canary format=activity subject=p7", "timestamp,steps", "1767225600,12",
                                   "#canary format=activity", "timestamp,steps"])
        guard case .refused = again[4] else { Issue.record("expected a refused header, got \(again[4])"); return }
    }

    @Test func subjectZoneDirectiveWaitsForTheCaller() {
        // The stream holds nothing for a subject the caller has not admitted: the directive is only offered.
        var s = IngestStream(zones: ZoneBook())
        let out = Array("#canary format=activity subject=p7 tz=Europe/Oslo".utf8).withUnsafeBufferPointer { s.feed($0, number: 1) }
        #expect(out == .control)
        #expect(s.effectiveZones.subjects.isEmpty)
        let taken = s.takeZoneDirective()
        #expect(taken?.subject == "p7" && taken?.zone == Fixture.oslo)
        #expect(s.takeZoneDirective() == nil)
        #expect(s.effectiveZones.subjects.isEmpty)
    }

    @Test(arguments: [
        ("#canary format=steps", "format"),
        ("#canary tz=Mars/Olympus", "tz"),
        ("#canary colour=blue", "colour"),
        ("#canary format", "format"),
    ])
    func badDirectiveIsRejected(line: String, field: String) {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, [line])
        guard case .rejected(let e) = out[0] else { Issue.record("expected a rejection, got \(out[0])"); return }
        #expect(e.kind == .badIdentifier)
        #expect(e.field == field)
        #expect(e.line == 1)
    }

    @Test func unusableHeaderRefusesTheRestOfTheInput() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, ["when,who,what", "1,2,3", "4,5,6"])
        guard case .refused(let h) = out[0] else { Issue.record("expected refusal, got \(out[0])"); return }
        #expect(h.reason.hasPrefix("line 1: "))
        #expect(out[1] == .refused(h))
        #expect(out[2] == .refused(h))
        #expect(s.headerError == h)
    }

    @Test func subjectForAHeaderWithoutSubjectColumn() {
        var s = IngestStream(subject: "condition_1", zones: ZoneBook())
        let out = Self.feed(&s, ["timestamp,date,activity", "2003-05-07 12:00:00,2003-05-07,7"])
        #expect(out[1] == .record(.activity(ActivityRecord(timestamp: 1_052_308_800, subject: "condition_1", count: 7))))
    }

    @Test func jsonLinesNeedNoHeader() {
        var s = IngestStream(zones: ZoneBook())
        let out = Self.feed(&s, [#"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":180,"key":"enter"}"#,
                                 #"{"timestamp":1767225601,"subject":"p1","hold_ms":90,"flight_ms":170,"key":"x"}"#])
        #expect(out[0] == .record(.typing(TypingRecord(timestamp: 1_767_225_600, subject: "p1", holdMilliseconds: 95,
                                                       flightMilliseconds: 180, key: .enter))))
        guard case .rejected(let e) = out[1] else { Issue.record("expected a rejection, got \(out[1])"); return }
        #expect(e.kind == .keyContent)
        #expect(e.line == 2)
    }

    @Test func futureRowsAreRefusedThroughTheStream() {
        var s = IngestStream(zones: ZoneBook(), latestAccepted: 1_767_225_600)
        let out = Self.feed(&s, ["timestamp,subject,steps", "1767225600,p1,1", "1767225601,p1,1"])
        #expect(out[1] != .control)
        guard case .rejected(let e) = out[2] else { Issue.record("expected a rejection, got \(out[2])"); return }
        #expect(e.kind == .tooFarInFuture)
    }

    @Test func parserIsReusedAcrossManyRows() {
        // One parser for many rows: names seen before must still be validated against their own bytes.
        var s = IngestStream(zones: ZoneBook())
        var lines = ["timestamp,subject,metric,value"]
        for i in 0..<200 { lines.append("\(1_767_225_600 + i),p\(i % 7),m\(i % 3),\(i)") }
        lines.append("1767225600,p 1,m0,1")
        lines.append("1767225600,p1,m 0,1")
        lines.append("1767225600,p1,m0,1")
        let out = Self.feed(&s, lines)
        for i in 0..<200 {
            #expect(out[i + 1] == .record(.sample(SampleRecord(timestamp: 1_767_225_600 + Double(i), subject: "p\(i % 7)",
                                                               metric: "m\(i % 3)", value: Double(i)))))
        }
        guard case .rejected(let a) = out[201], case .rejected(let b) = out[202] else { Issue.record("expected rejections"); return }
        #expect(a.field == "subject")
        #expect(b.field == "metric")
        #expect(out[203] == .record(.sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "m0", value: 1))))
    }

    @Test func manyDistinctNamesKeepTheirOwnIdentity() {
        // More distinct subjects than any small name cache has slots: every row keeps its own subject.
        var s = IngestStream(zones: ZoneBook())
        _ = Self.feed(&s, ["timestamp,subject,steps"])
        var wrong = 0
        for i in 0..<6000 {
            let subject = "s\(i * 7919 % 100_003)"
            let outcome = Array("1767225600,\(subject),1".utf8).withUnsafeBufferPointer { s.feed($0, number: i + 2) }
            if outcome != .record(.activity(ActivityRecord(timestamp: 1_767_225_600, subject: subject, count: 1))) { wrong += 1 }
        }
        #expect(wrong == 0)
        // And a bad name after thousands of good ones is still refused.
        let bad = Array("1767225600,s 1,1".utf8).withUnsafeBufferPointer { s.feed($0, number: 9000) }
        guard case .rejected(let e) = bad else { Issue.record("expected a rejection, got \(bad)"); return }
        #expect(e.kind == .badIdentifier)
    }

    // MARK: LineSplitter

    enum Piece: Equatable {
        case line(String, Int)
        case tooLong(Int, Int)
    }

    static func split(_ chunks: [String], max: Int = 64 * 1024) -> [Piece] {
        var splitter = LineSplitter(maxLineBytes: max)
        var pieces: [Piece] = []
        func take(_ p: LineSplitter.Piece) {
            switch p {
            case .line(let b, let n): pieces.append(.line(String(decoding: b, as: UTF8.self), n))
            case .tooLong(let n, let bytes): pieces.append(.tooLong(n, bytes))
            }
        }
        for c in chunks { Array(c.utf8).withUnsafeBufferPointer { splitter.feed($0, take) } }
        splitter.finish(take)
        return pieces
    }

    @Test func linesAcrossChunks() {
        #expect(Self.split(["a,b\nc", "d\n", "e"]) == [.line("a,b", 1), .line("cd", 2), .line("e", 3)])
        #expect(Self.split(["x\n\ny\n"]) == [.line("x", 1), .line("", 2), .line("y", 3)])
        #expect(Self.split(["a", "b", "c"]) == [.line("abc", 1)])
        #expect(Self.split([]) == [])
        #expect(Self.split(["no newline"]) == [.line("no newline", 1)])
    }

    @Test func overlongLinesAreReportedAndSkipped() {
        #expect(Self.split(["abcdefgh\nok\n"], max: 4) == [.tooLong(1, 8), .line("ok", 2)])
        // Across chunks: the long line is never buffered, but its full length is reported.
        #expect(Self.split(["abc", "def", "ghi\nok\n"], max: 4) == [.tooLong(1, 9), .line("ok", 2)])
        #expect(Self.split(["ab", "cdef\n"], max: 4) == [.tooLong(1, 6)])
        #expect(Self.split(["abcdef"], max: 4) == [.tooLong(1, 6)])
        #expect(Self.split(["abcd\n"], max: 4) == [.line("abcd", 1)])
    }
}
