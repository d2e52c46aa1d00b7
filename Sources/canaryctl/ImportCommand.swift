import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

extension VendorImport.Profile: ExpressibleByArgument {}
extension FitbitTakeout.SeriesClock: ExpressibleByArgument {}

/// `canaryctl import`: a vendor's export in, Canary's canonical stream out.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a vendor's export into Canary's canonical CSV on standard output.",
        discussion: """
        Single-stream profiles, research actigraphs, written as the activity stream (timestamp,subject,activity): \
        actiwatch (Actiware CSV exports: the epoch-by-epoch section; off-wrist and NaN epochs are left \
        out), actigraph-csv (ActiLife CSV exports of ActiGraph devices: the header block, then one row \
        per epoch with or without Date,Time columns; the Axis1 counts). The device's clock is local time \
        without a zone: give it with --tz, default this machine's zone (the recording's epochs are converted with the zone's offset at \
        its start; the device clock does not follow daylight saving).

        Multi-stream profiles, one person's export (name --subject; PATH may be the export's directory), \
        written as day-by-day sections (#canary format=sleep|activity|samples subject=ID tz=ZONE, then \
        a header and rows): fitbit-takeout (the JSON files of a Fitbit account export: sleep logs to \
        sleep, minute steps to activity, heart rate and resting heart rate to samples; sleep logs are \
        local time in --tz, the minute series UTC unless --series-clock local; a clock check on standard \
        error counts the steps inside the logged sleep on either reading and says when the other fits), \
        oura (Oura API v2 JSON: \
        sleep periods to sleep, HRV, lowest and 5-minute heart rate, daily steps, readiness and sleep \
        scores, temperature deviation to samples), apple-health (the Health app's export.xml, read by a \
        streaming parser: sleep analysis chained into sessions, step counts to activity per minute with \
        overlapping devices merged, heart rate, resting heart rate and HRV SDNN to samples; its dates \
        carry their offsets, --tz is the person's zone for their days).

        Rejected lines and records go to standard error with their line or record number and reason; \
        a file in another layout fails with its name and what was expected. Streamed: with --send the \
        rows go straight to canaryd over one connection (as canaryctl import ... | canaryctl send - would).
        """
    )
    @Option(name: .long, help: "The export's layout: \(VendorImport.Profile.allCases.map(\.rawValue).joined(separator: ", ")).")
    var from: VendorImport.Profile
    @Option(name: .long, help: "The subject of the rows (default: each file's name without its extension; required for the multi-stream profiles).") var subject: String?
    @Option(name: .long, help: "IANA time zone of the device's clock (of the person, for the multi-stream profiles); default: this machine's zone.")
    var tz: String?

    @Option(name: .long, help: "fitbit-takeout: the clock of the minute series (steps, heart rate): utc or local.")
    var seriesClock: FitbitTakeout.SeriesClock = .utc
    @Flag(name: .long, help: "Send the rows to canaryd instead of writing them to standard output.") var send = false
    @Option(name: .long, help: "Ingest socket, with --send.") var socket = "/run/canary/ingest.sock"
    @Argument(help: "Export files (or, for the multi-stream profiles, the export's directory).") var paths: [String]

    /// The zone named by --tz, or this machine's.
    private var zone: TimeZone { tz.flatMap { TimeZone(identifier: $0) } ?? TimeZone.current }

    func validate() throws {
        if let tz, TimeZone(identifier: tz) == nil { throw ValidationError("--tz \(tz) is not an IANA time zone name (for example Europe/Oslo)") }
        if paths.isEmpty { throw ValidationError("name at least one export file") }
        if let subject, !IngestStream.isValidSubject(subject) {
            throw ValidationError("--subject '\(subject)': \(IngestStream.subjectRule)")
        }
        if from.isMultiStream && subject == nil {
            throw ValidationError("--from \(from.rawValue) needs --subject: the export is one person's and does not name them")
        }
    }

    func run() throws {
        guard send else {
            if !convertAll(to: BufferedWriter(fd: 1)) { throw ExitCode(1) }
            return
        }
        // The rows stream through a pipe into one ingest connection, converted while they are sent. A daemon
        // (or a pipe) that closes first must give an error, not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw CleanExit.message("canaryctl: cannot make a pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let converted = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var ok = true
        let command = self
        Thread.detachNewThread {
            do {
                let out = BufferedWriter(fd: writeEnd, ownsDescriptor: true)
                ok = command.convertAll(to: out)
            }
            converted.signal()
        }
        let outcome: IngestClient.Outcome
        do {
            outcome = try IngestClient(socketPath: socket).send(path: "/dev/fd/\(readEnd)") { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        } catch {
            close(readEnd)
            converted.wait()
            FileHandle.standardError.write(Data("canaryctl: \(error)\n".utf8))
            throw ExitCode(2)
        }
        close(readEnd)
        converted.wait()
        guard outcome.completed else {
            FileHandle.standardError.write(Data("canaryctl: the daemon did not confirm the rows (no final OK); send them again\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardError.write(Data("sent: accepted=\(outcome.accepted) rejected=\(outcome.rejected)\n".utf8))
        if !ok || outcome.rejected > 0 { throw ExitCode(1) }
    }

    /// Converts every file into `out` (flushed and released at the end); false when a line or a file was refused.
    private func convertAll(to out: BufferedWriter) -> Bool {
        let importer = VendorImport(profile: from, zone: zone, fitbitSeriesClock: seriesClock)
        let diagnostics = BufferedWriter(fd: 2, capacity: 0)
        if tz == nil { diagnostics.write("canaryctl: reading local times in \(zone.identifier), this machine's zone (--tz to name another)\n") }
        if from.isMultiStream, let subject {
            defer { out.flush() }
            do {
                let summary = try importer.convertExport(paths: paths, subject: subject, to: out) { diagnostics.write($0 + "\n") }
                diagnostics.write("\(subject): \(summary.description)\n")
                return summary.rejected == 0 && summary.failedFiles == 0
            } catch {
                diagnostics.write("canaryctl: \(error)\n")
                return false
            }
        }
        out.write(importer.header + "\n")
        var failed = false
        for path in paths {
            let subject = self.subject ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            do {
                let counts = try importer.convert(path: path, subject: subject, to: out) { diagnostics.write("\(path):\($0.description)\n") }
                diagnostics.write("\(path): \(counts.epochs) epochs of \(subject), rejected lines: \(counts.rejected)\n")
                if counts.rejected > 0 { failed = true }
            } catch {
                diagnostics.write("canaryctl: \(error)\n")
                failed = true
            }
        }
        out.flush()
        return !failed
    }
}
