import ArgumentParser
import CanaryDaemon
import Foundation

/// `canaryctl subject resolve`: maps a pseudonymous token from the journal back to a subject id.
struct SubjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subject",
        abstract: "Work with subject ids and their pseudonymous journal tokens.",
        subcommands: [Resolve.self]
    )

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the subject id a journal token stands for (control socket; authorised operators only).")
        @OptionGroup var connection: ConsentCommand.Connection
        @Argument(help: "A token such as ps-3f2a... from CANARY_SUBJECT.") var token: String

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .resolve, token: token))
            print(r.subject ?? "")
        }
    }
}
