import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl baseline`: a subject's baselines, recent values and rule states, from the running canaryd.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Show a subject's baselines, last values with their z-scores, and rule states (canaryd must be running).",
        discussion: """
        For each feature: the centre and scale the next day (or hour) is judged against and how many \
        days of the window hold a value; the last values with the z each was judged with; the rules' \
        state: deviating periods of the persistence window, the CUSUM sums against their decision \
        interval, open excursions and cooldowns. Raw metrics show their exponentially weighted baseline. \
        Health values: the control socket is for authorised operators only.
        """
    )
    @OptionGroup var connection: ConsentCommand.Connection
    @Argument(help: "The subject id.") var subject: String
    @Option(name: .long, help: "One feature or metric only.") var feature: String?
    @Option(name: .long, help: "How many of the last values to show.") var last = 7
    @Flag(name: .long, help: "JSON instead of text.") var json = false

    func run() throws {
        let r = try connection.send(ControlRequest(cmd: .baseline, subject: subject, limit: last, feature: feature))
        guard let report = r.baseline else { throw ExitCode(1) }
        if json { try AlertsCommand.printJSON(report) } else { print(BaselineText.render(report), terminator: "") }
    }
}
