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

    @Flag(name: .long, help: "Also print every rule as it takes effect (feature rules, metrics, composites), defaults included, as TOML.")
    var effective = false

    func run() throws {
        do {
            let c = try CanaryConfiguration.load(path: path)
            print("\(path): ok (\(c.engine.rules.count) feature rules, \(c.engine.metrics.count) metrics, "
                + "\(c.engine.composites.count) composite rules, \(c.engine.zones.subjects.count) subject time zones)")
            if effective { print(EffectiveRules.toml(c.engine), terminator: "") }
        } catch {
            FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
