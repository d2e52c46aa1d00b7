import CanaryCore
import Foundation

/// `canaryctl import`: reads vendor exports and writes Canary's canonical streams, streaming (the
/// file is read in chunks and each line converted as it comes: memory stays flat in the export's size).
public struct VendorImport {
    /// The vendor layouts canaryctl reads.
    public enum Profile: String, CaseIterable, Sendable {
        /// ActiLife CSV exports of ActiGraph devices (`ActiGraphCSV`): minute or finer epochs, Axis1 counts.
        case actigraphCSV = "actigraph-csv"
        /// Actiware CSV exports of Philips Respironics Actiwatch devices (`ActiwatchCSV`): off-wrist epochs left out.
        case actiwatch
        /// A Fitbit account export (Google Takeout, `FitbitTakeout`): sleep logs, minute steps, heart rate.
        case fitbitTakeout = "fitbit-takeout"
        /// Oura API v2 JSON (`OuraExport`): sleep periods, daily activity and readiness, heart rate.
        case oura
        /// The Health app's `export.xml` (`AppleHealthRecords`): sleep analysis, steps, heart rate, HRV.
        case appleHealth = "apple-health"

        /// Profiles whose export holds several streams: written as day-by-day sections, one subject.
        public var isMultiStream: Bool {
            switch self {
            case .actigraphCSV, .actiwatch: false
            case .fitbitTakeout, .oura, .appleHealth: true
            }
        }
    }

    /// What one file came to.
    public struct Counts: Sendable, Equatable {
        public var epochs = 0
        public var rejected = 0
    }

    public let profile: Profile
    public let zone: TimeZone
    /// How `fitbit-takeout` reads the clock of its minute series.
    public let fitbitSeriesClock: FitbitTakeout.SeriesClock

    public init(profile: Profile, zone: TimeZone, fitbitSeriesClock: FitbitTakeout.SeriesClock = .utc) {
        self.profile = profile
        self.zone = zone
        self.fitbitSeriesClock = fitbitSeriesClock
    }

    /// The canonical header of the stream a single-stream profile writes.
    public var header: String {
        "timestamp,subject,activity"
    }

    /// Converts one file, writing rows of `subject` to `out` and each rejected line to `rejected`.
    /// Throws when the file cannot be read or is not in the profile's layout (nothing of it counts then).
    public func convert(path: String, subject: String, to out: BufferedWriter, rejected: (RowError) -> Void) throws -> Counts {
        switch profile {
        case .actigraphCSV: try convert(path: path, subject: subject, parser: ActiGraphCSV(zone: zone), to: out, rejected: rejected)
        case .actiwatch: try convert(path: path, subject: subject, parser: ActiwatchCSV(zone: zone), to: out, rejected: rejected)
        case .fitbitTakeout, .oura, .appleHealth: throw ImportError("\(profile.rawValue) exports are converted with convertExport")
        }
    }

    private func convert<P: EpochExport>(path: String, subject: String, parser: P, to out: BufferedWriter,
                                         rejected: (RowError) -> Void) throws -> Counts {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError("\(path): cannot open the file") }
        defer { try? handle.close() }
        var parser = parser
        var lines = 0
        var splitter = LineSplitter(maxLineBytes: 64 * 1024)
        var counts = Counts()
        var layout: ActiGraphCSV.LayoutError?
        func take(_ piece: LineSplitter.Piece) {
            guard layout == nil else { return }
            switch piece {
            case .tooLong(let number, let bytes):
                counts.rejected += 1
                rejected(RowError.lineTooLong(line: number, bytes: bytes, limit: 64 * 1024))
            case .line(let bytes, let number):
                lines = number
                let line = String(decoding: bytes, as: UTF8.self)
                do {
                    switch try parser.feed(Substring(line), number: number) {
                    case .epoch(let e):
                        counts.epochs += 1
                        out.write(ActiGraphCSV.isoUTC(e.instant))
                        out.write(",")
                        out.write(subject)
                        out.write(",")
                        out.write(e.count)
                        out.write(byte: UInt8(ascii: "\n"))
                    case .rejected(let e):
                        counts.rejected += 1
                        rejected(e)
                    case .none:
                        break
                    }
                } catch {
                    layout = error
                }
            }
        }
        while true {
            let data: Data
            do {
                data = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw ImportError("\(path): \(error.localizedDescription)")
            }
            if data.isEmpty { break }
            data.withUnsafeBytes { raw in splitter.feed(raw.bindMemory(to: UInt8.self)) { take($0) } }
            if let layout { throw ImportError("\(path): not an \(profile.rawValue) export: \(layout)") }
        }
        splitter.finish { take($0) }
        if layout == nil {
            do { try parser.finish(lines: lines) } catch { layout = error }
        }
        if let layout { throw ImportError("\(path): not an \(profile.rawValue) export: \(layout)") }
        guard counts.epochs > 0 else {
            throw ImportError("\(path): no epoch in the file (an \(profile.rawValue) export has a header block, then one row per epoch)")
        }
        return counts
    }
}

/// Why a file could not be imported: it names the file and what was expected.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
