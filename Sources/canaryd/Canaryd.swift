import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryd`: the Canary daemon.
@main
struct Canaryd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canaryd",
        abstract: "Canary daemon: derives daily features, keeps per-person baselines, emits alerts.",
        discussion: """
        Serves the ingest socket (socket-activated by canaryd.socket, or bound at daemon.socket), \
        reports to systemd (Type=notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING), reloads its \
        configuration on SIGHUP and drains on SIGTERM. Alerts go to journald (or standard error and \
        daemon.alert_log). Exit status 78 when the configuration is refused.

        With --stdin it instead reads one ingest stream on standard input: alerts as JSON Lines on \
        standard output, `ERR <line> <reason>` and a final `OK accepted=N rejected=M` on standard \
        error (exit status 1 when lines were rejected). Consent applies as in the service: only \
        subjects with an active monitor grant in the ledger of state.path (or, before that database \
        exists, the [[consent.grant]] seeds) are taken; the others get ERR <line> no-consent.
        """,
        version: CanaryCoreVersion.string
    )

    static let defaultConfig = "/etc/canary/canary.toml"

    @Option(name: .long, help: "Configuration file (TOML). Default: \(defaultConfig) when it exists, else the built-in defaults.")
    var config: String?

    @Flag(name: .long, help: "Validate the configuration and exit.")
    var checkConfig = false

    @Flag(name: .long, help: "Read one ingest stream on standard input instead of serving the socket.")
    var stdin = false

    func run() async throws {
        let path = config ?? (FileManager.default.fileExists(atPath: Self.defaultConfig) ? Self.defaultConfig : nil)
        var configuration = CanaryConfiguration()
        if let path {
            do {
                configuration = try CanaryConfiguration.load(path: path)
            } catch {
                // Standard error goes to the journal under systemd: no subject ids there.
                FileHandle.standardError.write(Data("canaryd: \(path): \(error.redactingSubjects())\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
        }
        if checkConfig {
            print("configuration ok")
            return
        }
        if stdin {
            let consent: ConsentLedger
            do {
                consent = try StandardInputIngest.ledger(for: configuration)
            } catch {
                FileHandle.standardError.write(Data("canaryd: \(error)\n".utf8))
                throw ExitCode(1)
            }
            let result = StandardInputIngest(configuration: configuration, consent: consent).run()
            if result.rejected > 0 { throw ExitCode(1) }
            return
        }
        // A reader of standard error or of a socket that goes away is a write error to handle, not a reason to die.
        signal(SIGPIPE, SIG_IGN)
        DaemonMain.bootstrapLogging()
        do {
            try await DaemonMain.run(configuration: configuration, configPath: path)
        } catch let error as DaemonError {
            FileHandle.standardError.write(Data("canaryd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
