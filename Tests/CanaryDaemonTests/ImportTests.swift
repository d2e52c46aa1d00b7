import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl import --from actigraph-csv | actiwatch`: ActiLife and Actiware exports (fixtures written
/// from the vendors' documented layouts, no personal data) to Canary's activity stream, through the real binary.
@Suite struct ImportTests {
    static func fixture(_ name: String) -> String { TestSupport.fixture("actigraph/\(name)") }

    static func run(_ arguments: [String]) throws -> (status: Int32, rows: [String], diagnostics: [String]) {
        let out = TestSupport.temporaryFile("import-\(UUID().uuidString.prefix(8)).csv")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try ProcessRun.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" > \(out)", DaemonHarness.binary("canaryctl"), "import"] + arguments)
        let rows = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        return (r.status, rows, r.output.split(separator: "\n").map(String.init))
    }

    @Test func rowsWithDateAndTimeColumnsAreConvertedAndBadLinesNamed() throws {
        let r = try Self.run(["--from", "actigraph-csv", "--tz", "Europe/Oslo", "--subject", "p1", Self.fixture("with-columns.csv")])
        #expect(r.status == 1)  // lines were rejected
        #expect(r.rows == ["timestamp,subject,activity",
                           "2026-03-01T22:58:00Z,p1,12.0", "2026-03-01T22:59:00Z,p1,0.0",
                           "2026-03-01T23:01:00Z,p1,7.0", "2026-03-01T23:03:00Z,p1,250.0"])
        #expect(r.diagnostics.contains { $0.hasSuffix("with-columns.csv:line 14: field 'Axis1': the count is not a non-negative number") })
        #expect(r.diagnostics.contains { $0.hasSuffix("with-columns.csv:line 16: expected 12 fields as the column header names, found 5") })
        #expect(r.diagnostics.contains { $0.hasSuffix("4 epochs of p1, rejected lines: 2") })
    }

    /// Without columns, epochs follow from the start; the device clock does not jump at the DST change
    /// (Europe/Oslo, 2026-03-29 02:00), and a rejected row keeps its slot.
    @Test func epochsWithoutColumnsCrossTheDSTChangeOneMinuteApart() throws {
        let r = try Self.run(["--from", "actigraph-csv", "--tz", "Europe/Oslo", Self.fixture("no-columns-dst.csv")])
        #expect(r.status == 1)
        #expect(r.rows == ["timestamp,subject,activity",
                           "2026-03-29T00:58:00Z,no-columns-dst,10.0", "2026-03-29T00:59:00Z,no-columns-dst,0.0",
                           "2026-03-29T01:00:00Z,no-columns-dst,33.0", "2026-03-29T01:01:00Z,no-columns-dst,41.0",
                           "2026-03-29T01:03:00Z,no-columns-dst,8.0"])
        #expect(r.diagnostics.contains { $0.hasSuffix("no-columns-dst.csv:line 15: field 'Axis1': the count is not a non-negative number") })
    }

    @Test func anotherLayoutFailsNamingTheFileAndWhatWasExpected() throws {
        let r = try Self.run(["--from", "actigraph-csv", "--tz", "UTC", Self.fixture("not-actigraph.csv")])
        #expect(r.status == 1 && r.rows == ["timestamp,subject,activity"])
        #expect(r.diagnostics.contains { $0.contains("not-actigraph.csv: not an actigraph-csv export: line 1: expected an ActiLife CSV export") })
        // A header block cut short is named too, and a file with the header only is no silent empty import.
        let cut = TestSupport.temporaryFile("cut-\(UUID().uuidString.prefix(8)).csv")
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let lines = try String(contentsOfFile: Self.fixture("with-columns.csv"), encoding: .utf8).components(separatedBy: "\r\n")
        try (lines[0..<2] + lines[4..<10]).joined(separator: "\n").write(toFile: cut, atomically: true, encoding: .utf8)
        let c = try Self.run(["--from", "actigraph-csv", "--tz", "UTC", cut])
        #expect(c.status == 1 && c.diagnostics.contains { $0.contains("without 'Start Time', 'Start Date' and 'Epoch Period (hh:mm:ss)'") }, "\(c.diagnostics)")
        try (lines[0..<11]).joined(separator: "\n").write(toFile: cut, atomically: true, encoding: .utf8)
        let e = try Self.run(["--from", "actigraph-csv", "--tz", "UTC", cut])
        #expect(e.status == 1 && e.diagnostics.contains { $0.contains("no epoch in the file") }, "\(e.diagnostics)")
    }

    /// Actiware: off-wrist and NaN epochs are left out (non-wear is missing data, not zero), 12-hour times read.
    @Test func actiwatchEpochsLeaveOffWristOutAndNameBadLines() throws {
        let r = try Self.run(["--from", "actiwatch", "--tz", "Europe/Oslo", "--subject", "s1", TestSupport.fixture("actiwatch/epochs.csv")])
        #expect(r.status == 1)
        #expect(r.rows == ["timestamp,subject,activity",
                           "2026-03-28T22:58:00Z,s1,143.0", "2026-03-28T22:59:00Z,s1,0.0",
                           "2026-03-28T23:03:00Z,s1,12.0", "2026-03-29T11:04:00Z,s1,88.0"])
        #expect(r.diagnostics.contains { $0.hasSuffix("epochs.csv:line 18: field 'Activity': the activity is not a non-negative number") })
        #expect(r.diagnostics.contains { $0.hasSuffix("epochs.csv:line 21: expected 9 fields as the epoch-by-epoch column header names, found 3") })
        let none = try Self.run(["--from", "actiwatch", "--tz", "UTC", TestSupport.fixture("actiwatch/no-epochs.csv")])
        #expect(none.status == 1 && none.diagnostics.contains { $0.contains("not an actiwatch export: line 2: no epoch-by-epoch section") })
        let other = try Self.run(["--from", "actiwatch", "--tz", "UTC", Self.fixture("with-columns.csv")])
        #expect(other.status == 1 && other.diagnostics.contains { $0.contains("expected an Actiware CSV export") })
    }

    /// Import, then replay, gives the same features and alerts as the same epochs written by hand in
    /// canonical form.
    @Test func importThenReplayMatchesTheCanonicalFile() throws {
        let dir = TestSupport.temporaryFile("import-rt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 24 days of minute epochs in Europe/Oslo device time from 2026-03-10 00:00 (+01:00), past the DST change.
        var export = """
        ------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.4 Firmware v3.2.1 date format M/d/yyyy at 30 Hz  Filter Normal -----------
        Serial Number: MOS2E22180349
        Start Time 00:00:00
        Start Date 3/10/2026
        Epoch Period (hh:mm:ss) 00:01:00
        Download Time 09:00:00
        Download Date 4/3/2026
        Current Memory Address: 0
        Current Battery Voltage: 4.14     Mode = 61
        --------------------------------------------------
        Date,Time,Axis1,Axis2,Axis3,Steps,Lux,Inclinometer Off,Inclinometer Standing,Inclinometer Sitting,Inclinometer Lying,Vector Magnitude

        """
        var canonical = "timestamp,subject,activity\n"
        let start = 1_773_097_200.0  // 2026-03-09T23:00:00Z = 2026-03-10 00:00 at +01:00
        for i in 0..<(24 * 1440) {
            let minute = i % 1440, day = i / 1440
            let awake = minute >= 7 * 60 + (day % 3) * 10 && minute < 23 * 60
            let count = awake ? 200 + (i * 37) % 400 - (day >= 18 ? 150 : 0) : (i * 13) % 7
            let wall = 1_773_100_800.0 + Double(i) * 60  // the device's wall clock as if it were UTC
            let date = Date(timeIntervalSince1970: wall)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            export += "\(c.month!)/\(c.day!)/\(c.year!),\(String(format: "%02d:%02d:00", c.hour!, c.minute!)),\(count),0,0,0,0,0,0,0,0,\(count)\n"
            canonical += "\(ActiGraphCSV.isoUTC(start + Double(i) * 60)),p1,\(count)\n"
        }
        try export.write(toFile: dir + "/export.csv", atomically: true, encoding: .utf8)
        try canonical.write(toFile: dir + "/canonical.csv", atomically: true, encoding: .utf8)
        let imported = try ProcessRun.run("/bin/sh", ["-c", "exec \"$0\" import --from actigraph-csv --tz Europe/Oslo --subject p1 \(dir)/export.csv > \(dir)/imported.csv",
                                                      DaemonHarness.binary("canaryctl")])
        #expect(imported.status == 0, "\(imported.output)")
        var scores: [String] = []
        for name in ["imported", "canonical"] {
            let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                       ["replay", "--tz", "Europe/Oslo", "--scores", "\(dir)/\(name).scores", "\(dir)/\(name).csv"])
            #expect(r.status == 0, "\(r.output)")
            scores.append(try String(contentsOfFile: "\(dir)/\(name).scores", encoding: .utf8))
        }
        #expect(scores[0] == scores[1])
        // Features were computed (rest, activity and rhythm), not an empty comparison.
        let metrics = Set(scores[0].split(separator: "\n").dropFirst().map { $0.split(separator: ",")[2] })
        #expect(metrics.isSuperset(of: ["steps", "sleep_duration", "interdaily_stability"]), "\(metrics)")
    }
}

/// `canaryctl import --send`: the converted rows go to the running daemon over one connection.
@Suite(.serialized) struct ImportSendTests {
    @Test func sendStreamsTheImportIntoTheDaemon() throws {
        let daemon = try DaemonHarness(consent: ["p1"])
        try daemon.waitReady()
        let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                   ["import", "--from", "actigraph-csv", "--tz", "Europe/Oslo", "--subject", "p1", "--send", "--socket", daemon.socketPath,
                                    ImportTests.fixture("no-columns-dst.csv")])
        // Five epochs go in; the sixth line was rejected by the import (exit 1 says so), none by the daemon.
        #expect(r.status == 1 && r.output.contains("sent: accepted=5 rejected=0"), "\(r.output)")
        #expect(r.output.contains("no-columns-dst.csv:line 15: field 'Axis1'"))
        // Without a daemon: exit 2 and a reason, not a hang or a SIGPIPE.
        let none = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                      ["import", "--from", "actigraph-csv", "--tz", "UTC", "--send", "--socket", daemon.directory + "/nothing.sock",
                                       ImportTests.fixture("with-columns.csv")])
        #expect(none.status == 2 && none.output.contains("cannot connect"), "\(none.output)")
        // A multi-stream export goes over the same one connection, its sections (sleep, samples) and all.
        let oura = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                      ["import", "--from", "oura", "--tz", "Europe/Oslo", "--subject", "p1", "--send", "--socket", daemon.socketPath,
                                       TestSupport.fixture("oura/oura-v2.json")])
        // One sleep period and ten readings; two records were rejected by the import (exit 1), none by the daemon.
        #expect(oura.status == 1 && oura.output.contains("sent: accepted=11 rejected=0"), "\(oura.output)")
        #expect(try daemon.stop() == 0)
    }
}
