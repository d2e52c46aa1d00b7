import ArgumentParser
import CanaryDaemon
import Foundation

/// `canaryctl check-config`: validates a configuration file the way canaryd will.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; prints the reason and exits 1 when it is refused."
    )

    @Argument(help: "Configuration file (TOML).")
    var path: String

    func run() throws {
        do {
            let c = try CanaryConfiguration.load(path: path)
            print("\(path): ok (\(c.engine.rules.count) feature rules, \(c.engine.metrics.count) metrics, "
                + "\(c.engine.composites.count) composite rules, \(c.engine.zones.subjects.count) subject time zones)")
        } catch {
            FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
