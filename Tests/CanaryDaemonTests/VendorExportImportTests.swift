import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl import --from fitbit-takeout | oura | apple-health`: one person's export to day-by-day
/// sections of Canary's canonical streams, through the real binary. The fixtures are written from the
/// vendors' documented layouts (no personal data).
@Suite struct VendorExportImportTests {
    /// The output without the activity minutes that carry no steps (a day with step data has all 1440).
    static func nonZero(_ rows: [String]) -> [String] { rows.filter { !$0.hasSuffix(",0") || $0.hasPrefix("#") } }

    @Test func fitbitTakeoutIsConvertedDayByDayWithItsClocks() throws {
        let r = try ImportTests.run(["--from", "fitbit-takeout", "--tz", "Europe/Oslo", "--subject", "p1", TestSupport.fixture("fitbit")])
        #expect(r.status == 1)  // records were rejected
        #expect(Self.nonZero(r.rows) == [
            "#canary format=sleep subject=p1 tz=Europe/Oslo",
            "start,end,asleep_min,awake_min,efficiency",
            // Local device time at +01:00.
            "2026-03-27T22:10:00Z,2026-03-28T06:04:30Z,421,53,93",
            "#canary format=activity subject=p1 tz=Europe/Oslo",
            "timestamp,steps",
            // The minute series is UTC; the day is Oslo's (2026-03-27T23:00Z .. 2026-03-28T23:00Z).
            "2026-03-28T06:01:00Z,12", "2026-03-28T06:03:00Z,40",
            "#canary format=samples subject=p1 tz=Europe/Oslo",
            "timestamp,metric,value",
            "2026-03-28T06:00:05Z,heart_rate,61", "2026-03-28T06:00:15Z,heart_rate,63",
            // Resting heart rate at local noon; the day Fitbit could not estimate (0) is left out.
            "2026-03-28T11:00:00Z,resting_heart_rate,58.4",
            "#canary format=sleep subject=p1 tz=Europe/Oslo",
            "start,end,asleep_min,awake_min,efficiency",
            // Across the DST change (02:00 -> 03:00 on 2026-03-29): 23:30 at +01:00 to 07:00 at +02:00.
            "2026-03-28T22:30:00Z,2026-03-29T05:00:00Z,350,40,90",
            "2026-03-29T13:00:00Z,2026-03-29T13:40:00Z,36,4,90",
        ])
        // A day with step data has every minute: the ones without a count are 0 steps.
        #expect(r.rows.filter { $0.hasPrefix("2026-03-2") && $0.split(separator: ",").count == 2 }.count == 1440)
        let dir = "Fitbit/Global Export Data"
        #expect(r.diagnostics.contains { $0.hasSuffix("\(dir)/sleep-2026-03-28.json: record 3: field 'endTime': the session ends before it starts") })
        #expect(r.diagnostics.contains { $0.hasSuffix("\(dir)/steps-2026-03-28.json: record 3: field 'value': not a non-negative number") })
        #expect(r.diagnostics.contains { $0.hasSuffix("\(dir)/steps-2026-03-28.json: record 5: field 'dateTime': expected MM/dd/yy HH:mm:ss, as Fitbit's export writes it") })
        #expect(r.diagnostics.contains { $0.hasSuffix("\(dir)/heart_rate-2026-03-28.json: record 3: field 'value': expected {\"bpm\": …}") })
        #expect(r.diagnostics.last == "p1: 4 files, 10 records imported, rejected records: 4, unreadable files: 0; "
                + "written: 3 sleep sessions, 1440 activity minutes, 3 samples", "\(r.diagnostics)")

        // --series-clock local: the minute series is read in Oslo time, an hour earlier in UTC.
        let local = try ImportTests.run(["--from", "fitbit-takeout", "--tz", "Europe/Oslo", "--subject", "p1", "--series-clock", "local",
                                         TestSupport.fixture("fitbit")])
        #expect(Self.nonZero(local.rows).contains("2026-03-28T05:01:00Z,12"))
        #expect(Self.nonZero(local.rows).contains("2026-03-28T05:00:05Z,heart_rate,61"))
    }

    @Test func ouraAPIDocumentsAreConverted() throws {
        let r = try ImportTests.run(["--from", "oura", "--tz", "Europe/Oslo", "--subject", "p2", TestSupport.fixture("oura/oura-v2.json")])
        #expect(r.status == 1)
        #expect(r.rows == [
            "#canary format=samples subject=p2 tz=Europe/Oslo",
            "timestamp,metric,value",
            // The night's 5-minute heart rate, nulls skipped.
            "2026-03-28T22:20:00Z,heart_rate,58", "2026-03-28T22:30:00Z,heart_rate,55",
            "#canary format=sleep subject=p2 tz=Europe/Oslo",
            "start,end,asleep_min,awake_min,efficiency",
            // bedtime_start at +01:00, bedtime_end at +02:00 (the night of the DST change); the rest period is skipped.
            "2026-03-28T22:20:00Z,2026-03-29T05:10:00Z,390,40,91",
            "#canary format=samples subject=p2 tz=Europe/Oslo",
            "timestamp,metric,value",
            "2026-03-29T05:10:00Z,hrv_rmssd,48", "2026-03-29T05:10:00Z,resting_heart_rate,47",
            // Daily values at local noon.
            "2026-03-29T10:00:00Z,daily_steps,9120", "2026-03-29T10:00:00Z,heart_rate,72",
            "2026-03-29T10:00:00Z,readiness_score,79", "2026-03-29T10:00:00Z,sleep_score,81",
            "2026-03-29T10:00:00Z,temperature_deviation,-0.21",
            "2026-03-29T10:05:00Z,heart_rate,75",
        ])
        #expect(r.diagnostics.contains { $0.hasSuffix("oura-v2.json: daily_activity record 2: field 'steps': negative") })
        #expect(r.diagnostics.contains { $0.hasSuffix("oura-v2.json: sleep record 3: field 'bedtime_end': 'yesterday' is not a date-time such as 2026-03-01T23:14:07+01:00") })
    }

    @Test func appleHealthExportIsStreamedAndItsSourcesMerged() throws {
        let r = try ImportTests.run(["--from", "apple-health", "--tz", "Europe/Oslo", "--subject", "p3", TestSupport.fixture("apple-health")])
        #expect(r.status == 1)
        #expect(Self.nonZero(r.rows) == [
            "#canary format=sleep subject=p3 tz=Europe/Oslo",
            "start,end,asleep_min,awake_min,efficiency",
            // The phone's in-bed 23:00-07:00 and the watch's stages chain into one night: asleep is the
            // union of core, deep and the overlapping REM (160 + 260 min), awake the 20 minutes between.
            "2026-03-29T21:00:00Z,2026-03-30T05:00:00Z,420,20,",
            // The afternoon nap is a session of its own (more than an hour after the night).
            "2026-03-30T12:00:00Z,2026-03-30T12:25:00Z,25,0,",
            "#canary format=activity subject=p3 tz=Europe/Oslo",
            "timestamp,steps",
            // The phone's 100 steps over 08:00-08:02 are 50 a minute; at 08:01 the watch counted 75: the
            // larger source counts, not the sum.
            "2026-03-30T06:00:00Z,50", "2026-03-30T06:01:00Z,75",
            "#canary format=samples subject=p3 tz=Europe/Oslo",
            "timestamp,metric,value",
            "2026-03-29T22:00:00Z,resting_heart_rate,55",
            "2026-03-30T01:10:00Z,hrv_sdnn,41.5",
            "2026-03-30T06:05:00Z,heart_rate,88",
        ])
        #expect(r.diagnostics.contains { $0.hasSuffix("export.xml: record 4, line 41: field 'value': not a non-negative number") }, "\(r.diagnostics)")
        #expect(r.diagnostics.contains { $0.hasSuffix("export.xml: record 6, line 45: field 'startDate': '30/03/2026 08:06' is not a date such as 2026-03-01 07:50:00 +0100") })
        #expect(r.diagnostics.contains { $0.hasSuffix("export.xml: record 15, line 54: field 'value': 'HKCategoryValueSleepAnalysisDozing' is not a sleep analysis value (InBed, Asleep…, Awake)") })
    }

    /// Another layout fails naming the file and what was expected; a file cut short keeps what came before.
    @Test func otherLayoutsFailNamingTheFileAndWhatWasExpected() throws {
        let dir = TestSupport.temporaryFile("layouts")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let empty = try ImportTests.run(["--from", "fitbit-takeout", "--tz", "UTC", "--subject", "p", dir])
        #expect(empty.status == 1 && empty.rows.isEmpty)
        #expect(empty.diagnostics.contains { $0.contains("\(dir): expected the files of a Fitbit account export: sleep-YYYY-MM-DD.json") }, "\(empty.diagnostics)")
        #expect(empty.diagnostics.contains { $0.contains("nothing imported from \(dir)") })

        try "{\"sleep\": 3}".write(toFile: dir + "/sleep-2026-03-01.json", atomically: true, encoding: .utf8)
        let object = try ImportTests.run(["--from", "fitbit-takeout", "--tz", "UTC", "--subject", "p", dir + "/sleep-2026-03-01.json"])
        #expect(object.status == 1 && object.diagnostics.contains {
            $0.contains("sleep-2026-03-01.json: not a fitbit-takeout export: expected a JSON array of sleep records, as Fitbit's export writes them; found an object with keys sleep")
        }, "\(object.diagnostics)")

        // Renamed fields: a changed layout, said once for the file.
        try "[{\"time\": \"03/01/26 00:00:00\", \"steps\": \"0\"}, {\"time\": \"03/01/26 00:01:00\", \"steps\": \"3\"}]"
            .write(toFile: dir + "/steps-2026-03-01.json", atomically: true, encoding: .utf8)
        let renamed = try ImportTests.run(["--from", "fitbit-takeout", "--tz", "UTC", "--subject", "p", dir + "/steps-2026-03-01.json"])
        #expect(renamed.status == 1 && renamed.diagnostics.contains {
            $0.contains("steps-2026-03-01.json: not a fitbit-takeout export: none of its 2 records reads as a steps record of Fitbit's export "
                        + "(record 1: field 'dateTime': expected MM/dd/yy HH:mm:ss")
        } && !renamed.diagnostics.contains { $0.contains("record 2") }, "\(renamed.diagnostics)")

        let notOura = try ImportTests.run(["--from", "oura", "--tz", "UTC", "--subject", "p",
                                           TestSupport.fixture("fitbit/Takeout/Fitbit/Global Export Data/steps-2026-03-28.json")])
        #expect(notOura.status == 1 && notOura.diagnostics.contains {
            $0.contains("steps-2026-03-28.json: not a oura export: no record is an Oura sleep (bedtime_start)")
        }, "\(notOura.diagnostics)")

        let notXML = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", TestSupport.fixture("oura/oura-v2.json")])
        #expect(notXML.status == 1 && notXML.diagnostics.contains {
            $0.contains("oura-v2.json: not an apple-health export: expected the Health app's export.xml, an XML document whose root is <HealthData>")
        }, "\(notXML.diagnostics)")
        try "<?xml version=\"1.0\"?>\n<Other/>\n".write(toFile: dir + "/export.xml", atomically: true, encoding: .utf8)
        let other = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", dir])
        #expect(other.status == 1 && other.diagnostics.contains { $0.contains("export.xml: not an apple-health export: line 2: expected the Health app's export.xml, whose root element is <HealthData>; found <Other>") },
                "\(other.diagnostics)")

        // Cut short after two records: they are written, and the fault is named with its line.
        let whole = try String(contentsOfFile: TestSupport.fixture("apple-health/export.xml"), encoding: .utf8)
        let cut = whole.components(separatedBy: "\n").prefix(47).joined(separator: "\n") + "\n <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceN"
        try cut.write(toFile: dir + "/export.xml", atomically: true, encoding: .utf8)
        let short = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", dir + "/export.xml"])
        #expect(short.status == 1 && short.diagnostics.contains { $0.contains("the XML is malformed or cut short") && $0.contains("the 4 records before it were imported") },
                "\(short.diagnostics)")
        #expect(Self.nonZero(short.rows).contains("2026-03-30T06:05:00Z,heart_rate,88"))

        // The multi-stream profiles are one person's export: the subject must be named.
        let unnamed = try ImportTests.run(["--from", "oura", "--tz", "UTC", TestSupport.fixture("oura/oura-v2.json")])
        #expect(unnamed.status != 0 && unnamed.diagnostics.contains { $0.contains("--from oura needs --subject") }, "\(unnamed.diagnostics)")
        // A subject the ingest would refuse in its directive is refused before anything is read.
        let spaced = try ImportTests.run(["--from", "oura", "--tz", "UTC", "--subject", "p 1", TestSupport.fixture("oura/oura-v2.json")])
        #expect(spaced.status != 0 && spaced.rows.isEmpty && spaced.diagnostics.contains { $0.contains("--subject 'p 1': a subject is 1 to 128 bytes without spaces") },
                "\(spaced.diagnostics)")
    }
}

/// Files written to hurt: entity expansion, external entities, times far away, a step count over
/// years, a series of absurd length. Each is refused with a reason, quickly and without a crash.
@Suite struct HostileExportTests {
    static func file(_ name: String, _ text: String) throws -> String {
        let path = TestSupport.temporaryFile(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let record = "<Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"W\" unit=\"count/min\" "
        + "startDate=\"2026-03-30 08:05:00 +0200\" endDate=\"2026-03-30 08:05:00 +0200\" value=\"88\"/>"

    @Test func entityExpansionAndExternalEntitiesAreNotFollowed() throws {
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE HealthData [\n<!ENTITY l0 \"lol\">\n"
        for i in 1...12 { laughs += "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">\n" }
        laughs += "]>\n<HealthData>\n \(Self.record)\n <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"&l12;\" unit=\"count/min\" "
            + "startDate=\"2026-03-30 08:06:00 +0200\" endDate=\"2026-03-30 08:06:00 +0200\" value=\"90\"/>\n</HealthData>\n"
        let bomb = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", try Self.file("export.xml", laughs)])
        #expect(bomb.status == 1 && bomb.diagnostics.contains { $0.contains("the XML is malformed or cut short") }, "\(bomb.diagnostics)")
        #expect(!bomb.rows.contains { $0.contains("lollol") })

        let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE HealthData [\n<!ENTITY x SYSTEM \"file:///etc/passwd\">\n]>\n<HealthData>\n \(Self.record)\n"
            + " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"W\" unit=\"count/min\" startDate=\"2026-03-30 08:06:00 +0200\" "
            + "endDate=\"2026-03-30 08:06:00 +0200\" value=\"90\">&x;</Record>\n</HealthData>\n"
        let external = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", try Self.file("export.xml", xxe)])
        #expect(!(external.rows + external.diagnostics).contains { $0.contains("root:") }, "\(external.diagnostics)")
        #expect(external.rows.contains("2026-03-30T06:05:00Z,heart_rate,88"), "\(external.rows)")
    }

    @Test func farTimesAndOverlongRecordsAreRefused() throws {
        let xml = "<?xml version=\"1.0\"?>\n<HealthData>\n \(Self.record)\n"
            + " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"W\" unit=\"count\" startDate=\"1900-01-01 00:00:00 +0000\" "
            + "endDate=\"2026-03-30 08:00:00 +0200\" value=\"5\"/>\n"
            + " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"W\" unit=\"count/min\" startDate=\"1850-03-30 08:05:00 +0200\" "
            + "endDate=\"1850-03-30 08:05:00 +0200\" value=\"70\"/>\n</HealthData>\n"
        let apple = try ImportTests.run(["--from", "apple-health", "--tz", "UTC", "--subject", "p", try Self.file("export.xml", xml)])
        #expect(apple.status == 1 && apple.rows.contains("2026-03-30T06:05:00Z,heart_rate,88"))
        #expect(apple.diagnostics.contains { $0.hasSuffix("record 2, line 4: field 'endDate': a step count over more than a day cannot be placed in minutes") },
                "\(apple.diagnostics)")
        #expect(apple.diagnostics.contains { $0.hasSuffix("record 3, line 5: field 'startDate': the time is outside 1900..2200") })

        let oura = "{\"data\": [{\"bedtime_start\": \"2026-03-28T23:20:00+01:00\", \"bedtime_end\": \"2026-03-29T07:10:00+02:00\", \"type\": \"long_sleep\", "
            + "\"heart_rate\": {\"interval\": 1e300, \"items\": [60, 61], \"timestamp\": \"2026-03-28T23:20:00+01:00\"}}, "
            + "{\"bedtime_start\": \"2026-03-29T23:20:00+02:00\", \"bedtime_end\": \"2026-03-30T07:10:00+02:00\", \"type\": \"long_sleep\", "
            + "\"heart_rate\": {\"interval\": 300, \"items\": [60, 61], \"timestamp\": \"9999-03-28T23:20:00+01:00\"}}]}"
        let far = try ImportTests.run(["--from", "oura", "--tz", "UTC", "--subject", "p", try Self.file("oura.json", oura)])
        #expect(far.status == 1)
        #expect(far.diagnostics.contains { $0.hasSuffix("record 1: field 'heart_rate.interval': not a number of seconds in (0, 3600]") }, "\(far.diagnostics)")
        #expect(far.diagnostics.contains { $0.hasSuffix("record 2: field 'heart_rate.timestamp': the time is outside 1900..2200") }, "\(far.diagnostics)")
    }
}

/// The spool of a multi-stream import holds health values: none of it may stay on disk, even when
/// the import is killed half-way.
@Suite struct ImportSpoolPrivacyTests {
    @Test func aKilledImportLeavesNothingInTheTemporaryDirectory() throws {
        let dir = TestSupport.temporaryFile("spool")
        let tmp = dir + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/export.xml"
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.binary("canaryctl"))
        process.arguments = ["import", "--from", "apple-health", "--tz", "UTC", "--subject", "p", fifo]
        process.environment = ["TMPDIR": tmp]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // 160,000 heart-rate readings, more than the 4 MB the spool buffers before it writes; the
        // document is left open, so the import waits for more with its spool on disk.
        let writer = try #require(FileHandle(forWritingAtPath: fifo))
        writer.write(Data("<?xml version=\"1.0\"?>\n<HealthData locale=\"en_GB\">\n".utf8))
        for chunk in 0..<16 {
            var text = ""
            for i in 0..<10_000 {
                let iso = ActiGraphCSV.isoUTC(Double(1_775_000_000 + (chunk * 10_000 + i) * 60))
                let date = iso.dropLast().replacingOccurrences(of: "T", with: " ") + " +0000"
                text += " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Watch\" unit=\"count/min\" "
                    + "startDate=\"\(date)\" endDate=\"\(date)\" value=\"\(60 + i % 30)\"/>\n"
            }
            writer.write(Data(text.utf8))
        }
        // The spool's files are open in the import (it has read past the 4 MB), yet the directory is empty.
        var spooled = 0
        for _ in 0..<200 {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd")) ?? []
            spooled = fds.filter { ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.processIdentifier)/fd/\($0)")) ?? "").hasPrefix(tmp) }.count
            if spooled > 0 { break }
            usleep(50_000)
        }
        #expect(spooled > 0, "the import never wrote its spool")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? writer.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }
}
