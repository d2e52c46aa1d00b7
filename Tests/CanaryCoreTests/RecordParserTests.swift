import Foundation
import Testing
@testable import CanaryCore

@Suite("RecordParser")
struct RecordParserTests {
    static let samplesHeader = "timestamp,subject,metric,value"
    static let sleepHeader = "subject,start,end,asleep_min,awake_min,efficiency"
    static let activityHeader = "timestamp,subject,steps"
    static let typingHeader = "timestamp,subject,hold_ms,flight_ms,key"

    static func parser(_ header: String, defaultSubject: String? = nil, zones: ZoneBook = ZoneBook(),
                       latestAccepted: Double = .infinity) throws -> RecordParser {
        let layout = try InputLayout.detect(header: header, defaultSubject: defaultSubject)
        return RecordParser(layout: layout, zones: zones, latestAccepted: latestAccepted)
    }

    // MARK: Accepted rows

    @Test func samplesRowIsAccepted() throws {
        let p = try Self.parser(Self.samplesHeader)
        let r = parseLine(p, "1767225600,p1,hr,61.5")
        #expect(r.record == .sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "hr", value: 61.5)))
    }

    @Test func samplesAcceptNegativeValuesQuotesAndCRLF() throws {
        let p = try Self.parser(Self.samplesHeader)
        #expect(parseLine(p, "1767225600,p1,temp_delta,-0.25").record
            == .sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "temp_delta", value: -0.25)))
        #expect(parseLine(p, "1767225600,\"p1\", hr ,7\r").record
            == .sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "hr", value: 7)))
        #expect(parseLine(p, "2026-01-01T01:00:00+01:00,p1,hr,1e2").record
            == .sample(SampleRecord(timestamp: 1_767_225_600, subject: "p1", metric: "hr", value: 100)))
    }

    @Test func sleepRowIsAcceptedWithOptionalColumns() throws {
        let p = try Self.parser(Self.sleepHeader)
        // 23:00Z -> 07:00Z, efficiency given as a percentage.
        let full = parseLine(p, "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,450,20,85")
        #expect(full.record == .sleep(SleepRecord(subject: "p1", start: 1_767_308_400, end: 1_767_337_200,
                                                  asleepMinutes: 450, awakeMinutes: 20, efficiency: 0.85)))
        let bare = parseLine(p, "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,,,")
        #expect(bare.record == .sleep(SleepRecord(subject: "p1", start: 1_767_308_400, end: 1_767_337_200)))
        let fraction = parseLine(p, "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,,,0.9")
        #expect(fraction.record == .sleep(SleepRecord(subject: "p1", start: 1_767_308_400, end: 1_767_337_200, efficiency: 0.9)))
        // The record is ordered by its end: a night is known when it ends.
        #expect(full.record?.timestamp == 1_767_337_200)
    }

    @Test func sleepMinutesDerivation() {
        let inBed = SleepRecord(subject: "p", start: 0, end: 480 * 60)
        #expect(inBed.inBedMinutes == 480)
        #expect(inBed.sleepMinutes == 480)
        #expect(SleepRecord(subject: "p", start: 0, end: 480 * 60, asleepMinutes: 450).sleepMinutes == 450)
        #expect(SleepRecord(subject: "p", start: 0, end: 480 * 60, asleepMinutes: 481).sleepMinutes == 480)
        #expect(SleepRecord(subject: "p", start: 0, end: 480 * 60, awakeMinutes: 30).sleepMinutes == 450)
        #expect(SleepRecord(subject: "p", start: 0, end: 480 * 60, efficiency: 0.75).sleepMinutes == 360)
    }

    @Test func activityRowIsAccepted() throws {
        let p = try Self.parser(Self.activityHeader)
        #expect(parseLine(p, "1767225600,p1,0").record == .activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p1", count: 0)))
        #expect(parseLine(p, "1767225660.5,p1,12").record == .activity(ActivityRecord(timestamp: 1_767_225_660.5, subject: "p1", count: 12)))
    }

    @Test(arguments: [("char", KeyClass.char), ("space", .space), ("backspace", .backspace), ("enter", .enter), ("other", .other)])
    func typingCSVKeyClasses(text: String, key: KeyClass) throws {
        let p = try Self.parser(Self.typingHeader)
        let r = parseLine(p, "1767225600,p1,95,180,\(text)")
        #expect(r.record == .typing(TypingRecord(timestamp: 1_767_225_600, subject: "p1", holdMilliseconds: 95,
                                                 flightMilliseconds: 180, key: key)))
    }

    // MARK: Rejected rows

    struct Rejection: Sendable, CustomTestStringConvertible {
        var header: String
        var line: String
        var kind: RowError.Kind
        var field: String?
        var testDescription: String { "\(line) -> \(kind.rawValue) \(field ?? "-")" }
    }

    static let rejections: [Rejection] = [
        // samples
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,abc", kind: .notANumber, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,12abc", kind: .notANumber, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,0x10", kind: .notANumber, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,nan", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,NaN", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,inf", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,-Infinity", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,1e999", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,-1e999", kind: .notFinite, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr", kind: .wrongColumnCount, field: nil),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,1,2", kind: .wrongColumnCount, field: nil),
        Rejection(header: samplesHeader, line: "", kind: .wrongColumnCount, field: nil),
        Rejection(header: samplesHeader, line: "1767225600,p1,,1", kind: .emptyField, field: "metric"),
        Rejection(header: samplesHeader, line: "1767225600,p1,hr,", kind: .emptyField, field: "value"),
        Rejection(header: samplesHeader, line: "1767225600,,hr,1", kind: .emptyField, field: "subject"),
        Rejection(header: samplesHeader, line: ",p1,hr,1", kind: .emptyField, field: "timestamp"),
        Rejection(header: samplesHeader, line: "1767225600,p 1,hr,1", kind: .badIdentifier, field: "subject"),
        Rejection(header: samplesHeader, line: "1767225600,p1,heart rate,1", kind: .badIdentifier, field: "metric"),
        Rejection(header: samplesHeader, line: "1767225600,\"p,1\",hr,1", kind: .badIdentifier, field: "subject"),
        Rejection(header: samplesHeader, line: "1767225600,\(String(repeating: "x", count: 129)),hr,1", kind: .badIdentifier, field: "subject"),
        Rejection(header: samplesHeader, line: "yesterday,p1,hr,1", kind: .badTimestamp, field: "timestamp"),
        Rejection(header: samplesHeader, line: "-5,p1,hr,1", kind: .badTimestamp, field: "timestamp"),
        Rejection(header: samplesHeader, line: "2026-02-30T00:00:00Z,p1,hr,1", kind: .badTimestamp, field: "timestamp"),
        Rejection(header: samplesHeader, line: "2026-13-01T00:00:00Z,p1,hr,1", kind: .badTimestamp, field: "timestamp"),
        // sleep
        Rejection(header: sleepHeader, line: "p1,2026-01-02T07:00:00Z,2026-01-01T23:00:00Z,,,", kind: .endBeforeStart, field: "end"),
        Rejection(header: sleepHeader, line: "p1,2026-01-02T07:00:00Z,2026-01-02T07:00:00Z,,,", kind: .endBeforeStart, field: "end"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T00:00:00Z,2026-01-02T13:00:00Z,,,", kind: .outOfRange, field: "end"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,600,,", kind: .outOfRange, field: "asleep_min"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,-5,,", kind: .outOfRange, field: "asleep_min"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,,500,", kind: .outOfRange, field: "awake_min"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,,,150", kind: .outOfRange, field: "efficiency"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,x,,", kind: .notANumber, field: "asleep_min"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z,,nan,", kind: .notFinite, field: "awake_min"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,,,,", kind: .emptyField, field: "end"),
        Rejection(header: sleepHeader, line: "p1,soon,2026-01-02T07:00:00Z,,,", kind: .badTimestamp, field: "start"),
        Rejection(header: sleepHeader, line: "p1,2026-01-01T23:00:00Z,2026-01-02T07:00:00Z", kind: .wrongColumnCount, field: nil),
        // activity
        Rejection(header: activityHeader, line: "1767225600,p1,-5", kind: .outOfRange, field: "steps"),
        Rejection(header: activityHeader, line: "1767225600,p1,1e999", kind: .notFinite, field: "steps"),
        Rejection(header: activityHeader, line: "1767225600,p1,inf", kind: .notFinite, field: "steps"),
        Rejection(header: activityHeader, line: "1767225600,p1,", kind: .emptyField, field: "steps"),
        Rejection(header: activityHeader, line: "1767225600,p1,many", kind: .notANumber, field: "steps"),
        Rejection(header: activityHeader, line: "1767225600,p1", kind: .wrongColumnCount, field: nil),
        Rejection(header: "timestamp,subject,activity", line: "1767225600,p1,-1", kind: .outOfRange, field: "activity"),
        // typing (CSV)
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,shift", kind: .unknownKeyClass, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,CHAR", kind: .unknownKeyClass, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,a", kind: .keyContent, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,ab", kind: .keyContent, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,é", kind: .keyContent, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180,", kind: .emptyField, field: "key"),
        Rejection(header: typingHeader, line: "1767225600,p1,-1,180,char", kind: .outOfRange, field: "hold_ms"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,inf,char", kind: .notFinite, field: "flight_ms"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,,char", kind: .emptyField, field: "flight_ms"),
        Rejection(header: typingHeader, line: "1767225600,p1,95,180", kind: .wrongColumnCount, field: nil),
    ]

    @Test(arguments: rejections)
    func rowIsRejected(_ c: Rejection) throws {
        let p = try Self.parser(c.header)
        let e = try #require(parseLine(p, c.line, 17).error)
        #expect(e.kind == c.kind)
        #expect(e.field == c.field)
        #expect(e.line == 17)
        #expect(!e.reason.isEmpty)
    }

    @Test func rejectedValueIsNotEchoedBeyondAShortExcerpt() throws {
        let p = try Self.parser(Self.samplesHeader)
        let long = String(repeating: "z", count: 200)
        let e = try #require(parseLine(p, "1767225600,p1,hr,\(long)").error)
        #expect(e.kind == .notANumber)
        #expect(e.reason.count < 80)
        #expect(e.description.hasPrefix("line 2: field 'value': "))
    }

    @Test func rowAfterARejectedRowIsStillParsed() throws {
        let p = try Self.parser(Self.activityHeader)
        #expect(parseLine(p, "1767225600,p1,x", 2).error?.kind == .notANumber)
        #expect(parseLine(p, "1767225600,p1,3", 3).record == .activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p1", count: 3)))
    }

    // MARK: Future timestamps

    @Test func timestampsPastLatestAcceptedAreRefused() throws {
        let latest = 1_767_225_600.0 + 86_400
        let samples = try Self.parser(Self.samplesHeader, latestAccepted: latest)
        #expect(parseLine(samples, "1767312000,p1,hr,1").record != nil)  // exactly at the limit
        let e = try #require(parseLine(samples, "1767312001,p1,hr,1", 5).error)
        #expect(e.kind == .tooFarInFuture)
        #expect(e.field == "timestamp")
        #expect(e.line == 5)

        let sleep = try Self.parser(Self.sleepHeader, latestAccepted: latest)
        let s = try #require(parseLine(sleep, "p1,2026-01-01T23:00:00Z,2026-01-02T00:00:01Z,,,").error)
        #expect(s.kind == .tooFarInFuture)
        #expect(s.field == "end")

        let typing = try Self.parser(Self.typingHeader, latestAccepted: latest)
        #expect(parseLine(typing, "2026-01-03T00:00:00Z,p1,95,180,char").error?.kind == .tooFarInFuture)
        let json = RecordParser(layout: .typingJSON(), latestAccepted: latest)
        #expect(parseLine(json, #"{"timestamp":1767312001,"subject":"p1","hold_ms":95,"flight_ms":180,"key":"char"}"#).error?.kind
            == .tooFarInFuture)
    }

    // MARK: Header detection

    @Test(arguments: [
        ("timestamp,subject,metric,value", InputFormat.samples, 4),
        ("subject,start,end", .sleep, 3),
        ("subject,start,end,asleep_min,awake_min,efficiency", .sleep, 6),
        ("timestamp,subject,steps", .activity, 3),
        ("timestamp,subject,counts,extra", .activity, 4),
        (" Timestamp , Subject , Steps ", .activity, 3),
        ("\"timestamp\",\"subject\",\"activity\"", .activity, 3),
        ("timestamp,subject,hold_ms,flight_ms,key", .typing, 5),
    ])
    func headerIsRecognised(header: String, format: InputFormat, columns: Int) throws {
        let layout = try InputLayout.detect(header: header)
        #expect(layout.format == format)
        #expect(layout.columnCount == columns)
        #expect(layout.defaultSubject == nil)
    }

    @Test func depresjonHeaderWithDefaultSubject() throws {
        let layout = try InputLayout.detect(header: "timestamp,date,activity", defaultSubject: "condition_1")
        #expect(layout.format == .activity)
        #expect(layout.columnCount == 3)
        #expect(layout.defaultSubject == "condition_1")
        let utc = RecordParser(layout: layout)
        #expect(parseLine(utc, "2003-05-07 12:00:00,2003-05-07,0").record
            == .activity(ActivityRecord(timestamp: 1_052_308_800, subject: "condition_1", count: 0)))
        // The same local time in Oslo (CEST, +02:00) is two hours earlier in UTC.
        let oslo = RecordParser(layout: layout, zones: ZoneBook(defaultZone: Fixture.oslo))
        #expect(parseLine(oslo, "2003-05-07 12:00:00,2003-05-07,143").record
            == .activity(ActivityRecord(timestamp: 1_052_301_600, subject: "condition_1", count: 143)))
        // Errors name the actual count column.
        #expect(parseLine(oslo, "2003-05-07 12:00:00,2003-05-07,-1").error?.field == "activity")
    }

    @Test func emptySubjectFallsBackToDefault() throws {
        let p = try Self.parser(Self.activityHeader, defaultSubject: "solo")
        #expect(parseLine(p, "1767225600,,4").record == .activity(ActivityRecord(timestamp: 1_767_225_600, subject: "solo", count: 4)))
        #expect(parseLine(p, "1767225600,p2,4").record == .activity(ActivityRecord(timestamp: 1_767_225_600, subject: "p2", count: 4)))
    }

    @Test func headerWithoutSubjectAndNoDefaultIsRefused() throws {
        let e = #expect(throws: HeaderError.self) {
            try InputLayout.detect(header: "timestamp,date,activity")
        }
        #expect(e?.reason.contains("subject") == true)
    }

    @Test(arguments: [
        ("foo,bar", InputFormat?.none, "matches no input format"),
        ("timestamp,subject,hold_ms,flight_ms", nil, "key"),
        ("subject,start", InputFormat.sleep, "end"),
        ("timestamp,subject,steps", InputFormat.samples, "metric, value"),
    ])
    func badHeaderIsRefused(header: String, format: InputFormat?, mentions: String) {
        let e = #expect(throws: HeaderError.self) {
            try InputLayout.detect(header: header, format: format)
        }
        #expect(e?.reason.contains(mentions) == true, "\(e?.reason ?? "")")
    }

    @Test func looksLikeHeader() {
        #expect(InputLayout.looksLikeHeader("timestamp,subject,steps"))
        #expect(!InputLayout.looksLikeHeader("1767225600,p1,3"))
        #expect(!InputLayout.looksLikeHeader("{\"timestamp\":1}"))
        #expect(!InputLayout.looksLikeHeader(""))
    }

    // MARK: Typing JSON Lines

    @Test func typingJSONIsAccepted() throws {
        let p = RecordParser(layout: .typingJSON())
        let r = parseLine(p, #"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":180,"key":"char"}"#)
        #expect(r.record == .typing(TypingRecord(timestamp: 1_767_225_600, subject: "p1", holdMilliseconds: 95,
                                                 flightMilliseconds: 180, key: .char)))
        let s = parseLine(p, #"{"timestamp":"2026-01-01T01:00:00+01:00","subject":"p1","hold_ms":95.5,"flight_ms":"180","key":"backspace"}"#)
        #expect(s.record == .typing(TypingRecord(timestamp: 1_767_225_600, subject: "p1", holdMilliseconds: 95.5,
                                                 flightMilliseconds: 180, key: .backspace)))
    }

    @Test func typingJSONUsesDefaultSubject() throws {
        let p = RecordParser(layout: .typingJSON(defaultSubject: "p9"))
        #expect(parseLine(p, #"{"timestamp":1767225600,"hold_ms":95,"flight_ms":180,"key":"space"}"#).record
            == .typing(TypingRecord(timestamp: 1_767_225_600, subject: "p9", holdMilliseconds: 95, flightMilliseconds: 180, key: .space)))
    }

    @Test(arguments: [
        (#"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":180,"key":"a"}"#, RowError.Kind.keyContent, "key"),
        (#"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":180,"key":"shift"}"#, .unknownKeyClass, "key"),
        (#"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":180}"#, .emptyField, "key"),
        (#"{"timestamp":1767225600,"hold_ms":95,"flight_ms":180,"key":"char"}"#, .emptyField, "subject"),
        (#"{"subject":"p1","hold_ms":95,"flight_ms":180,"key":"char"}"#, .emptyField, "timestamp"),
        (#"{"timestamp":1767225600,"subject":"p 1","hold_ms":95,"flight_ms":180,"key":"char"}"#, .badIdentifier, "subject"),
        (#"{"timestamp":1767225600,"subject":"p1","hold_ms":-3,"flight_ms":180,"key":"char"}"#, .outOfRange, "hold_ms"),
        (#"{"timestamp":1767225600,"subject":"p1","hold_ms":95,"flight_ms":"nan","key":"char"}"#, .notFinite, "flight_ms"),
        (#"{"timestamp":"later","subject":"p1","hold_ms":95,"flight_ms":180,"key":"char"}"#, .badTimestamp, "timestamp"),
    ])
    func typingJSONIsRejected(line: String, kind: RowError.Kind, field: String) throws {
        let p = RecordParser(layout: .typingJSON())
        let e = try #require(parseLine(p, line, 9).error)
        #expect(e.kind == kind)
        #expect(e.field == field)
        #expect(e.line == 9)
    }

    @Test func malformedJSONIsRejected() throws {
        let p = RecordParser(layout: .typingJSON())
        let e = try #require(parseLine(p, #"{"timestamp":1767225600,"subject":"#, 4).error)
        #expect(e.kind == .badJSON)
        #expect(e.field == nil)
        #expect(e.line == 4)
    }

    // MARK: Local timestamps per subject

    @Test func localTimestampsUseTheSubjectsZone() throws {
        let zones = ZoneBook(defaultZone: Fixture.utc, subjects: ["p2": Fixture.oslo])
        let p = try Self.parser(Self.samplesHeader, zones: zones)
        #expect(parseLine(p, "2026-01-15 12:00:00,p1,hr,1").record?.timestamp == 1_768_478_400)
        #expect(parseLine(p, "2026-01-15 12:00:00,p2,hr,1").record?.timestamp == 1_768_474_800)
    }
}
