import ArgumentParser
import CanaryDaemon
import Foundation

/// `canaryctl reload`: the running canaryd reads its configuration again; the unit's `ExecReload=`.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make canaryd read its configuration file again (what systemctl reload canaryd runs).",
        discussion: """
        Asks canaryd over the control socket and waits for the answer: exit status 0 when the file \
        was applied, 1 with the reason when it was refused (the previous configuration stays in force), \
        2 when canaryd cannot be reached. With --pid, when there is no control socket to ask (the \
        configuration turned it off or moved it), sends the process SIGHUP instead; the outcome is then \
        in the journal (MESSAGE_ID 9d51297879b64de681b4f9f1b0ff9c41 when refused) and in systemctl status.
        """
    )
    @OptionGroup var connection: ConsentCommand.Connection

    @Option(name: .long, help: "canaryd's process id, signalled (SIGHUP) when the control socket does not exist ($MAINPID in the unit).")
    var pid: Int32?

    func run() throws {
        if let pid, !FileManager.default.fileExists(atPath: connection.control) {
            guard pid > 1, kill(pid, SIGHUP) == 0 else {
                FileHandle.standardError.write(Data("canaryctl: no control socket at \(connection.control), and SIGHUP to \(pid) failed: \(String(cString: strerror(errno)))\n".utf8))
                throw ExitCode(2)
            }
            print("no control socket at \(connection.control): sent SIGHUP to \(pid); the outcome is in the journal")
            return
        }
        let r = try connection.send(ControlRequest(cmd: .reload))
        print(r.reloaded ?? "configuration reloaded")
    }
}
