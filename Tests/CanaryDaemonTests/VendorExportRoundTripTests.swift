import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Import, then replay, gives the same features as the same data written by hand in canonical form:
/// for each multi-stream profile, 30 days of a generated export in Europe/Oslo across the DST change
/// of 2026-03-29, and the canonical `sleep`, `activity` and `samples` files of the same days, their
/// instants computed here with Foundation's calendar (not the importer's clock).
@Suite struct VendorExportRoundTripTests {
    static let zone = TimeZone(identifier: "Europe/Oslo")!
    static let days = 30

    static var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        return c
    }

    /// The instant of a local wall time: `minute` minutes after midnight of day `d` after 2026-03-10
    /// (negative: the evening before). Foundation's calendar normalises the components.
    static func local(day d: Int, minute: Int) -> Double {
        calendar.date(from: DateComponents(year: 2026, month: 3, day: 10 + d, hour: 0, minute: minute))!.timeIntervalSince1970
    }

    static func iso(_ t: Double) -> String { ActiGraphCSV.isoUTC(t) }

    /// The zone's offset at `t`, in seconds.
    static func offset(_ t: Double) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)) }

    /// `yyyy-MM-dd HH:mm:ss` of the local wall clock at `t` (`T` between date and time with `t`).
    static func wall(_ t: Double, separator: String = " ") -> String {
        String(iso(t + Double(offset(t))).dropLast().replacingOccurrences(of: "T", with: separator))
    }

    /// `+0100` (or `+01:00` with `colon`).
    static func offsetText(_ t: Double, colon: Bool = false) -> String {
        let o = offset(t)
        return String(format: colon ? "%@%02d:%02d" : "%@%02d%02d", o < 0 ? "-" : "+", abs(o) / 3600, abs(o) / 60 % 60)
    }

    /// `MM/dd/yy HH:mm:ss` of `t` in UTC (Fitbit's minute series).
    static func fitbitUTC(_ t: Double) -> String {
        let s = iso(t)  // 2026-03-10T07:31:00Z
        let y = s.prefix(4).suffix(2), mo = s.dropFirst(5).prefix(2), d = s.dropFirst(8).prefix(2), time = s.dropFirst(11).prefix(8)
        return "\(mo)/\(d)/\(y) \(time)"
    }

    /// Minutes of the 30 local days, and a step count for each: walking by day, still by night.
    static var minutes: [(t: Double, steps: Int)] {
        let start = local(day: 0, minute: 0), end = local(day: days, minute: 0)
        return stride(from: start, to: end, by: 60).enumerated().map { i, t in
            let m = (Int(t) + offset(t)) / 60 % 1440
            let awake = m >= 7 * 60 && m < 22 * 60 + 30
            return (t, awake && i % 3 != 0 ? 20 + (i * 37) % 90 : 0)
        }
    }

    /// Replays `files` and returns the scores file's rows, without its header.
    static func scores(_ files: [String], in dir: String, name: String) throws -> [String] {
        let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                   ["replay", "--tz", "Europe/Oslo", "--scores", "\(dir)/\(name).scores"] + files)
        #expect(r.status == 0, "\(r.output)")
        let rows = try String(contentsOfFile: "\(dir)/\(name).scores", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(rows.first == "timestamp,subject,metric,value,baseline,scale,z,score")
        return Array(rows.dropFirst())
    }

    /// Imports `export`, replays it and the canonical files, and compares; returns what the import said.
    @discardableResult
    static func roundTrip(profile: String, export: String, canonical: [String], in dir: String, options: String = "") throws -> String {
        let imported = try ProcessRun.run("/bin/sh", ["-c", "exec \"$0\" import --from \(profile) --tz Europe/Oslo --subject p1 \(options) \"$1\" > \(dir)/imported.csv",
                                                      DaemonHarness.binary("canaryctl"), export])
        #expect(imported.status == 0, "\(imported.output)")
        // The same rows; their order within a day follows the order the streams come in (sections by
        // day against one file per stream), so they are compared sorted.
        let a = try scores(["\(dir)/imported.csv"], in: dir, name: "imported").sorted()
        let b = try scores(canonical, in: dir, name: "canonical").sorted()
        #expect(a.count > 100 && a == b, "\(a.count) vs \(b.count) rows; first difference: \(zip(a, b).first { $0 != $1 }.map { "\($0) | \($1)" } ?? "-")")
        let metrics = Set(a.map { $0.split(separator: ",")[2] })
        let expected: Set<Substring> = canonical.contains { $0.hasSuffix("activity.csv") }
            ? ["sleep_duration", "sleep_efficiency", "heart_rate", "steps", "active_minutes", "relative_amplitude"]
            : ["sleep_duration", "sleep_efficiency", "heart_rate", "daily_steps", "readiness_score", "hrv_rmssd"]
        #expect(metrics.isSuperset(of: expected), "\(metrics)")
        return imported.output
    }

    static func directory() throws -> String {
        let dir = TestSupport.temporaryFile("vendor-rt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The minute series in UTC, as the account export writes them: the clock check finds the nights
    /// still; an export whose series are local time is found out, and `--series-clock local` reads it.
    @Test(arguments: [false, true]) func fitbitTakeout(localSeries: Bool) throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let export = dir + "/Global Export Data"
        try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
        var sleep: [String] = [], canonicalSleep = "subject,start,end,asleep_min,awake_min,efficiency\n"
        var rest: [String] = [], canonicalSamples = "timestamp,subject,metric,value\n"
        for d in 0..<Self.days {
            // Asleep from 23:00-23:45 to 06:30-06:54, before the first steps at 07:00.
            let start = Self.local(day: d, minute: 23 * 60 - 1440 + (d % 4) * 15), end = Self.local(day: d, minute: 6 * 60 + 30 + (d % 5) * 6)
            let asleep = Int((end - start) / 60) - 30 - d % 7, awake = 22 + d % 5, efficiency = 88 + d % 9
            sleep.append("{\"logId\":\(d),\"startTime\":\"\(Self.wall(start, separator: "T")).000\",\"endTime\":\"\(Self.wall(end, separator: "T")).000\","
                         + "\"minutesAsleep\":\(asleep),\"minutesAwake\":\(awake),\"efficiency\":\(efficiency),\"mainSleep\":true,\"type\":\"stages\"}")
            canonicalSleep += "p1,\(Self.iso(start)),\(Self.iso(end)),\(asleep),\(awake),\(efficiency)\n"
            let noon = Self.local(day: d, minute: 12 * 60)
            let day = String(Self.fitbitUTC(noon).prefix(8))
            rest.append("{\"dateTime\":\"\(day) 00:00:00\",\"value\":{\"date\":\"\(day)\",\"value\":\(55 + d % 6).5,\"error\":4.1}}")
            canonicalSamples += "\(Self.iso(noon)),p1,resting_heart_rate,\(55 + d % 6).5\n"
        }
        var steps: [String] = [], heart: [String] = [], canonicalActivity = "timestamp,subject,steps\n"
        for (i, m) in Self.minutes.enumerated() {
            let stamp = Self.fitbitUTC(localSeries ? m.t + Double(Self.offset(m.t)) : m.t)
            steps.append("{\"dateTime\":\"\(stamp)\",\"value\":\"\(m.steps)\"}")
            canonicalActivity += "\(Self.iso(m.t)),p1,\(m.steps)\n"
            if i % 10 == 0 {
                heart.append("{\"dateTime\":\"\(stamp)\",\"value\":{\"bpm\":\(60 + i % 25),\"confidence\":2}}")
                canonicalSamples += "\(Self.iso(m.t)),p1,heart_rate,\(60 + i % 25)\n"
            }
        }
        for (name, records) in [("sleep", sleep), ("steps", steps), ("heart_rate", heart), ("resting_heart_rate", rest)] {
            try ("[" + records.joined(separator: ",\n") + "]").write(toFile: "\(export)/\(name)-2026-03-10.json", atomically: true, encoding: .utf8)
        }
        try canonicalSleep.write(toFile: dir + "/sleep.csv", atomically: true, encoding: .utf8)
        try canonicalActivity.write(toFile: dir + "/activity.csv", atomically: true, encoding: .utf8)
        try canonicalSamples.write(toFile: dir + "/samples.csv", atomically: true, encoding: .utf8)
        let canonical = ["sleep.csv", "activity.csv", "samples.csv"].map { "\(dir)/\($0)" }
        guard localSeries else {
            let said = try Self.roundTrip(profile: "fitbit-takeout", export: export, canonical: canonical, in: dir)
            // 30 nights of about 7.5 h: no step as read; an hour or two of walking each night the other way.
            #expect(said.contains("clock check: 2") && said.contains("hours of logged sleep hold 0 steps an hour with the minute series read as UTC time")
                    && !said.contains("look like"), "\(said)")
            return
        }
        let wrong = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["import", "--from", "fitbit-takeout", "--tz", "Europe/Oslo", "--subject", "p1", export])
        #expect(wrong.output.contains("the series look like local time; import again with --series-clock local"), "\(wrong.output.suffix(400))")
        let said = try Self.roundTrip(profile: "fitbit-takeout", export: export, canonical: canonical, in: dir, options: "--series-clock local")
        #expect(said.contains("steps an hour with the minute series read as local time") && !said.contains("look like"), "\(said)")
    }

    @Test func oura() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var sleep: [String] = [], activity: [String] = [], readiness: [String] = []
        var canonicalSleep = "subject,start,end,asleep_min,awake_min,efficiency\n"
        var canonicalSamples = "timestamp,subject,metric,value\n"
        for d in 0..<Self.days {
            let start = Self.local(day: d, minute: 23 * 60 - 1440 + (d % 4) * 15), end = Self.local(day: d, minute: 7 * 60 + (d % 5) * 6)
            let asleep = (Int(end - start) / 60 - 30 - d % 7) * 60, awake = (22 + d % 5) * 60, efficiency = 88 + d % 9
            let noon = Self.local(day: d, minute: 12 * 60)
            let day = String(Self.iso(noon).prefix(10))
            let hr = (0..<12).map { "\(50 + ($0 + d) % 9)" }.joined(separator: ",")
            sleep.append("{\"bedtime_start\":\"\(Self.wall(start, separator: "T"))\(Self.offsetText(start, colon: true))\",\"bedtime_end\":\"\(Self.wall(end, separator: "T"))\(Self.offsetText(end, colon: true))\","
                         + "\"day\":\"\(day)\",\"type\":\"long_sleep\",\"total_sleep_duration\":\(asleep),\"awake_time\":\(awake),\"efficiency\":\(efficiency),"
                         + "\"average_hrv\":\(40 + d % 11),\"lowest_heart_rate\":\(46 + d % 4),"
                         + "\"heart_rate\":{\"interval\":300.0,\"items\":[\(hr)],\"timestamp\":\"\(Self.wall(start, separator: "T")).000\(Self.offsetText(start, colon: true))\"}}")
            canonicalSleep += "p1,\(Self.iso(start)),\(Self.iso(end)),\(asleep / 60),\(awake / 60),\(efficiency)\n"
            canonicalSamples += "\(Self.iso(end)),p1,hrv_rmssd,\(40 + d % 11)\n\(Self.iso(end)),p1,resting_heart_rate,\(46 + d % 4)\n"
            for k in 0..<12 { canonicalSamples += "\(Self.iso(start + Double(k) * 300)),p1,heart_rate,\(50 + (k + d) % 9)\n" }
            activity.append("{\"day\":\"\(day)\",\"score\":80,\"steps\":\(6000 + d * 97 % 3000),\"class_5_min\":\"0123\"}")
            canonicalSamples += "\(Self.iso(noon)),p1,daily_steps,\(6000 + d * 97 % 3000)\n"
            readiness.append("{\"day\":\"\(day)\",\"score\":\(70 + d % 20),\"temperature_deviation\":0.\(d % 5),\"contributors\":{\"hrv_balance\":80}}")
            canonicalSamples += "\(Self.iso(noon)),p1,readiness_score,\(70 + d % 20)\n\(Self.iso(noon)),p1,temperature_deviation,0.\(d % 5)\n"
        }
        let json = "{\"sleep\":{\"data\":[\(sleep.joined(separator: ",\n"))],\"next_token\":null},\n\"daily_activity\":[\(activity.joined(separator: ",\n"))],\n"
            + "\"daily_readiness\":[\(readiness.joined(separator: ",\n"))]}"
        try json.write(toFile: dir + "/oura.json", atomically: true, encoding: .utf8)
        try canonicalSleep.write(toFile: dir + "/sleep.csv", atomically: true, encoding: .utf8)
        try canonicalSamples.write(toFile: dir + "/samples.csv", atomically: true, encoding: .utf8)
        try Self.roundTrip(profile: "oura", export: dir + "/oura.json", canonical: ["sleep.csv", "samples.csv"].map { "\(dir)/\($0)" }, in: dir)
    }

    @Test func appleHealth() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func date(_ t: Double) -> String { Self.wall(t) + " " + Self.offsetText(t) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record)*)>\n"
            + "<!ATTLIST Record\n  type CDATA #REQUIRED\n  unit CDATA #IMPLIED\n  value CDATA #IMPLIED\n>\n]>\n<HealthData locale=\"en_GB\">\n"
            + " <ExportDate value=\"2026-04-10 09:00:00 +0200\"/>\n <Me HKCharacteristicTypeIdentifierBiologicalSex=\"HKBiologicalSexNotSet\"/>\n"
        var canonicalSleep = "subject,start,end,asleep_min,awake_min,efficiency\n"
        var canonicalActivity = "timestamp,subject,steps\n", canonicalSamples = "timestamp,subject,metric,value\n"
        // Records grouped by type, as the Health app writes them: sleep first, then steps, then heart rate.
        for d in 0..<Self.days {
            let start = Self.local(day: d, minute: 23 * 60 - 1440 + (d % 4) * 15)
            let wake = start + Double(3 * 3600 + d * 60), back = wake + 900, end = Self.local(day: d, minute: 7 * 60 + (d % 5) * 6)
            for (s, e, v) in [(start, wake, "AsleepCore"), (wake, back, "Awake"), (back, end, "AsleepDeep")] {
                xml += " <Record type=\"HKCategoryTypeIdentifierSleepAnalysis\" sourceName=\"Watch\" sourceVersion=\"10.4\" creationDate=\"\(date(end))\" "
                    + "startDate=\"\(date(s))\" endDate=\"\(date(e))\" value=\"HKCategoryValueSleepAnalysis\(v)\"/>\n"
            }
            canonicalSleep += "p1,\(Self.iso(start)),\(Self.iso(end)),\(Int(end - start - 900) / 60),15,\n"
        }
        for (i, m) in Self.minutes.enumerated() {
            canonicalActivity += "\(Self.iso(m.t)),p1,\(m.steps)\n"
            // Minutes without steps have no record at all: the import counts them as 0 on a day with data.
            if m.steps > 0 {
                xml += " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"Watch\" unit=\"count\" startDate=\"\(date(m.t))\" "
                    + "endDate=\"\(date(m.t + 60))\" value=\"\(m.steps)\"/>\n"
            }
            if i % 10 == 0 {
                xml += " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Watch\" unit=\"count/min\" startDate=\"\(date(m.t))\" "
                    + "endDate=\"\(date(m.t))\" value=\"\(60 + i % 25)\">\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"0\"/>\n </Record>\n"
                canonicalSamples += "\(Self.iso(m.t)),p1,heart_rate,\(60 + i % 25)\n"
            }
        }
        xml += "</HealthData>\n"
        try xml.write(toFile: dir + "/export.xml", atomically: true, encoding: .utf8)
        try canonicalSleep.write(toFile: dir + "/sleep.csv", atomically: true, encoding: .utf8)
        try canonicalActivity.write(toFile: dir + "/activity.csv", atomically: true, encoding: .utf8)
        try canonicalSamples.write(toFile: dir + "/samples.csv", atomically: true, encoding: .utf8)
        try Self.roundTrip(profile: "apple-health", export: dir + "/export.xml",
                           canonical: ["sleep.csv", "activity.csv", "samples.csv"].map { "\(dir)/\($0)" }, in: dir)
    }
}
