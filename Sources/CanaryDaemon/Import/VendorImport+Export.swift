import CanaryCore
import Foundation

extension VendorImport {
    /// What one person's export came to.
    public struct ExportSummary: Sendable, Equatable {
        public var files = 0
        /// Records imported (a sleep log, a minute of steps, a heart-rate reading, ...).
        public var records = 0
        public var rejected = 0
        /// Files that could not be read in the profile's layout.
        public var failedFiles = 0
        public var written = ImportMerger.Counts()
        public var clockCheck = ImportMerger.ClockCheck()

        public var description: String {
            "\(files) files, \(records) records imported, rejected records: \(rejected), unreadable files: \(failedFiles); "
                + "written: \(written.sessions) sleep sessions, \(written.minutes) activity minutes, \(written.samples) samples"
                + (written.duplicates > 0 ? ", \(written.duplicates) duplicates dropped" : "")
        }
    }

    /// Converts one person's export of a multi-stream profile (files, or directories searched for the
    /// profile's files) into day-by-day sections of `subject` on `out`. Each rejected record and each
    /// unreadable file goes to `diagnostic`, naming the file; throws when nothing at all could be
    /// imported (never a silent empty import) or the spool cannot be written.
    public func convertExport(paths: [String], subject: String, to out: BufferedWriter,
                              diagnostic: @escaping (String) -> Void) throws -> ExportSummary {
        let spool = ImportSpool(subject: subject, zone: zone)
        spool.otherClock = fitbitSeriesClock == .utc ? 1 : -1
        var summary = ExportSummary()
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostic("\(path): no such file or directory")
                summary.failedFiles += 1
                continue
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let found = exportFiles(under: path)
            if found.isEmpty {
                diagnostic("\(path): \(expectedFiles)")
                summary.failedFiles += 1
            }
            files += found
        }
        var fitbit = FitbitTakeout(zone: zone, seriesClock: fitbitSeriesClock)
        var oura = OuraExport(zone: zone)
        // A file named twice (a directory and a file in it) is read once.
        var seen = Set<String>()
        files = files.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path).inserted }
        for file in files {
            summary.files += 1
            var spoolError: (any Error)?
            func add(_ e: ImportEntry) {
                guard spoolError == nil else { return }
                do { try spool.add(e) } catch { spoolError = error }
            }
            func reject(_ r: ImportRejection) {
                summary.rejected += 1
                diagnostic("\(file): \(r)")
            }
            do {
                switch profile {
                case .fitbitTakeout:
                    guard let kind = FitbitTakeout.kind(ofFileNamed: URL(fileURLWithPath: file).lastPathComponent) else {
                        throw ImportLayoutError(expectedFiles)
                    }
                    summary.records += try fitbit.read(try Self.contents(file), kind: kind, into: add, rejected: reject)
                case .oura:
                    summary.records += try oura.read(try Self.contents(file), into: add, rejected: reject).records
                case .appleHealth:
                    let r = try AppleHealthReader.read(path: file, add: spool.add, rejected: reject)
                    summary.records += r.read
                    if let fault = r.fault {
                        diagnostic("\(file): \(fault)")
                        summary.failedFiles += 1
                    }
                case .actigraphCSV, .actiwatch:
                    throw ImportError("\(profile.rawValue) is a single-stream profile")
                }
            } catch let e as ImportLayoutError {
                diagnostic("\(file): not a \(profile.rawValue) export: \(e)")
                summary.failedFiles += 1
            } catch {
                diagnostic("canaryctl: \(error)")
                summary.failedFiles += 1
            }
            if let spoolError { throw spoolError }
        }
        guard summary.records > 0 else {
            throw ImportError("nothing imported from \(paths.joined(separator: " ")): \(expectedFiles)")
        }
        try spool.finish(to: out)
        summary.written = spool.counts
        summary.clockCheck = spool.clockCheck
        if profile == .fitbitTakeout, let check = clockCheckNote(spool.clockCheck) { diagnostic(check) }
        return summary
    }

    /// What the clock check of a Fitbit export says: the steps an hour inside the logged sleep on
    /// either reading of the minute series, and which reading fits (nil with under a week of nights).
    func clockCheckNote(_ c: ImportMerger.ClockCheck) -> String? {
        guard c.minutes >= 7 * 6 * 60 else { return nil }
        let hours = Double(c.minutes) / 60
        let asRead = (c.stepsAsRead / hours).rounded(), other = (c.stepsOtherClock / hours).rounded()
        let (read, alternative) = fitbitSeriesClock == .utc ? ("UTC", "local") : ("local", "utc")
        var note = "clock check: \(Int(hours)) hours of logged sleep hold \(Int(asRead)) steps an hour with the minute series "
            + "read as \(read) time, \(Int(other)) read as \(alternative) time"
        if other * 3 < asRead && asRead >= 30 {
            note += ": the series look like \(alternative) time; import again with --series-clock \(alternative)"
        }
        return note
    }

    /// The files of this profile under `directory`, in name order.
    private func exportFiles(under directory: String) -> [String] {
        guard let walk = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let relative = walk.nextObject() as? String {
            let name = URL(fileURLWithPath: relative).lastPathComponent
            let take = switch profile {
            case .fitbitTakeout: FitbitTakeout.kind(ofFileNamed: name) != nil
            case .oura: name.hasSuffix(".json")
            case .appleHealth: name == "export.xml"
            case .actigraphCSV, .actiwatch: false
            }
            if take { found.append(directory + "/" + relative) }
        }
        return found.sorted()
    }

    /// What a directory of this profile's export holds.
    private var expectedFiles: String {
        switch profile {
        case .fitbitTakeout:
            "expected the files of a Fitbit account export: sleep-YYYY-MM-DD.json, steps-YYYY-MM-DD.json, heart_rate-YYYY-MM-DD.json "
                + "or resting_heart_rate-YYYY-MM-DD.json (Takeout/Fitbit/Global Export Data)"
        case .oura: "expected Oura API v2 JSON files (*.json) of sleep, daily_activity, daily_readiness or heartrate records"
        case .appleHealth: "expected the Health app's export.xml (apple_health_export/export.xml in the exported archive)"
        case .actigraphCSV, .actiwatch: "expected \(profile.rawValue) files"
        }
    }

    private static func contents(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImportError("\(path): cannot read the file: \(error.localizedDescription)")
        }
    }
}
