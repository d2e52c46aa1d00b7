import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl send`: streams files into canaryd's ingest socket.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send data files to canaryd through its ingest socket.",
        discussion: """
        Each FILE ("-" for standard input) goes over its own connection. The daemon's `ERR <line> \
        <reason>` replies are printed on standard error as `FILE: ERR ...`, and a line per file \
        `FILE: accepted=N rejected=M`. Exit status 1 when any line was rejected, 2 when the daemon \
        could not be reached or did not confirm.
        """
    )

    @Option(name: .long, help: "Ingest socket.")
    var socket = "/run/canary/ingest.sock"

    @OptionGroup var input: InputOptions

    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    @Argument(help: "Files to send.")
    var files: [String]

    func run() throws {
        // A daemon that closes first (refusal, drain) must give an error and exit 2, not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let prefix = input.directive
        let client = IngestClient(socketPath: socket)
        var anyRejected = false
        for file in files {
            let outcome: IngestClient.Outcome
            do {
                outcome = try client.send(path: file, prefix: prefix) { line in
                    FileHandle.standardError.write(Data("\(file): \(line)\n".utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("canaryctl: \(error)\n".utf8))
                throw ExitCode(2)
            }
            guard outcome.completed else {
                FileHandle.standardError.write(Data("canaryctl: \(file): the daemon closed the connection without confirming\n".utf8))
                throw ExitCode(2)
            }
            if !quiet {
                let late = outcome.late > 0 ? " late=\(outcome.late) (their days were already evaluated)" : ""
                let duplicate = outcome.duplicate > 0 ? " duplicate=\(outcome.duplicate) (raw samples already observed)" : ""
                print("\(file): accepted=\(outcome.accepted) rejected=\(outcome.rejected)\(late)\(duplicate)")
            }
            if outcome.rejected > 0 { anyRejected = true }
        }
        if anyRejected { throw ExitCode(1) }
    }
}
