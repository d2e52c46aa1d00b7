import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

extension VendorImport.Profile: ExpressibleByArgument {}

/// `canaryctl import`: a vendor's export in, Canary's canonical stream out.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a vendor's export into Canary's canonical CSV on standard output.",
        discussion: """
        Profiles: actiwatch (Actiware CSV exports: the epoch-by-epoch section; off-wrist and NaN epochs are left \
        out), actigraph-csv (ActiLife CSV exports of ActiGraph devices: the header block, then one row \
        per epoch with or without Date,Time columns; the Axis1 counts become the activity stream). The \
        device's clock is local time without a zone: give it with --tz (the recording's epochs are \
        converted with the zone's offset at its start; the device clock does not follow daylight \
        saving). Rejected lines go to standard error with their line number and reason; a file in \
        another layout fails with its name and what was expected. Streamed: pipe it on with \
        canaryctl import ... | canaryctl send -
        """
    )
    @Option(name: .long, help: "The export's layout: \(VendorImport.Profile.allCases.map(\.rawValue).joined(separator: ", ")).")
    var from: VendorImport.Profile
    @Option(name: .long, help: "The subject of the rows (default: each file's name without its extension).") var subject: String?
    @Option(name: .long, help: "IANA time zone of the device's clock.") var tz: String
    @Argument(help: "Export files.") var paths: [String]

    func validate() throws {
        if TimeZone(identifier: tz) == nil { throw ValidationError("--tz \(tz) is not an IANA time zone name (for example Europe/Oslo)") }
        if paths.isEmpty { throw ValidationError("name at least one export file") }
    }

    func run() throws {
        let importer = VendorImport(profile: from, zone: TimeZone(identifier: tz)!)
        let out = BufferedWriter(fd: 1)
        let diagnostics = BufferedWriter(fd: 2, capacity: 0)
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
        if failed { throw ExitCode(1) }
    }
}
