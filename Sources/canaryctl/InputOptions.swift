import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// What to assume about input files that do not say it themselves; shared by `send`, `replay` and `backtest`.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "Format of files whose header does not say (samples, sleep, activity, typing).")
    var format: InputFormat?

    @Option(name: .long, help: "Subject of files that have no subject column.")
    var subject: String?

    @Option(name: .long, help: "IANA time zone of --subject (for local timestamps and local days).")
    var tz: String?

    func validate() throws {
        if let tz, TimeZone(identifier: tz) == nil {
            throw ValidationError("--tz \(tz) is not an IANA time zone name (for example Europe/Oslo)")
        }
    }

    /// The configuration at `path` (the documented defaults without one), with `--tz` applied: to
    /// `--subject` when given, else as the default zone. A file that cannot be used ends the command
    /// with its reason.
    func configuration(path: String?) throws -> CanaryConfiguration {
        var configuration = CanaryConfiguration()
        if let path {
            do {
                configuration = try CanaryConfiguration.load(path: path)
            } catch {
                throw CleanExit.message("canaryctl: \(path): \(error)")
            }
        }
        if let tz, let zone = TimeZone(identifier: tz) {
            if let subject { configuration.engine.zones.subjects[subject] = zone } else { configuration.engine.zones.defaultZone = zone }
        }
        return configuration
    }

    /// The same assumptions as a `#canary` directive line, for the socket; nil when there are none.
    var directive: String? {
        var parts: [String] = []
        if let format { parts.append("format=\(format.rawValue)") }
        if let subject { parts.append("subject=\(subject)") }
        if let tz { parts.append("tz=\(tz)") }
        return parts.isEmpty ? nil : "#canary " + parts.joined(separator: " ")
    }
}
