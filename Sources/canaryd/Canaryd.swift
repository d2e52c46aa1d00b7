import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryd`: the Canary daemon. This build reads one ingest stream on standard input.
@main
struct Canaryd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canaryd",
        abstract: "Canary daemon: derives daily features, keeps per-person baselines, emits alerts.",
        discussion: """
        Reads newline-delimited input on standard input in the ingest protocol (an optional
        `#canary format=... subject=... tz=...` directive, a CSV header, rows; typing also as JSON
        Lines). Alerts are written to standard output as JSON Lines as soon as they are decided;
        `ERR <line> <reason>` for each rejected line and a final `OK accepted=N rejected=M` go to
        standard error. Exit status 1 when lines were rejected.
        """,
        version: CanaryCoreVersion.string
    )

    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String?

    @Flag(name: .long, help: "Validate the configuration and exit.")
    var checkConfig = false

    func run() throws {
        var configuration = CanaryConfiguration()
        if let config {
            do {
                configuration = try CanaryConfiguration.load(path: config)
            } catch {
                FileHandle.standardError.write(Data("canaryd: \(config): \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
        }
        if checkConfig {
            print("configuration ok")
            return
        }
        let result = StandardInputIngest(configuration: configuration).run()
        if result.rejected > 0 { throw ExitCode(1) }
    }
}
