import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl report`: one person's report as a self-contained HTML file, from the running canaryd or offline from files.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one person's report (charts of each feature against their usual range, alerts explained) as an HTML file.",
        discussion: """
        From the running canaryd:  canaryctl report SUBJECT [--from DATE] [--to DATE] --out FILE.html
        (the days canaryd still holds: its baseline window; consent and monitor apply; the person is \
        named as the journal names them). Offline over files, with the replay engine: \
        canaryctl report --config C --subject S DATA... --out FILE.html (every day of the files). \
        The file needs no network and no script: it opens from an email attachment and prints on A4.
        """
    )
    @OptionGroup var connection: ConsentCommand.Connection
    @Option(name: .long, help: "Configuration file (TOML), for a report over files.") var config: String?
    @OptionGroup var input: InputOptions
    @Option(name: .long, help: "First day (2026-03-01, the person's local date); default: the first day with data.") var from: String?
    @Option(name: .long, help: "Last day, included; default: the last day with data.") var to: String?
    @Option(name: .long, help: "The HTML file to write.") var out: String
    @Argument(help: "The subject (from the running canaryd), or with --subject the data files (offline).") var arguments: [String] = []

    func validate() throws {
        if input.subject == nil && arguments.count != 1 {
            throw ValidationError("name one subject (from the running canaryd), or --subject S with data files (offline)")
        }
        if input.subject != nil && arguments.isEmpty {
            throw ValidationError("--subject makes a report over files: name the data files")
        }
    }

    func run() throws {
        let now = Date().timeIntervalSince1970
        let data: ReportData
        let name: String
        let source: String
        if let subject = input.subject {
            let configuration = try input.configuration(path: config)
            var replay = Replay(configuration: configuration, inputs: arguments.map { Replay.Input(path: $0, format: input.format, subject: subject) },
                                now: now)
            replay.reportSubject = subject
            let diagnostics = BufferedWriter(fd: 2, capacity: 0)
            let summary: Replay.Summary
            do {
                summary = try replay.run(alerts: nil, scores: nil, diagnostics: { diagnostics.write($0 + "\n") }, progress: nil)
            } catch let error as ReplayError {
                throw CleanExit.message("canaryctl: \(error.description)")
            }
            guard let report = summary.report else { throw CleanExit.message("canaryctl: the files hold no evaluated day of \(subject)") }
            (data, name, source) = (report, subject, "replayed from \(arguments.count) file\(arguments.count == 1 ? "" : "s")")
        } else {
            let r = try connection.send(ControlRequest(cmd: .report, subject: arguments[0]))
            guard let report = r.report else { throw ExitCode(1) }
            (data, name, source) = (report, report.subject, "from canaryd (the days it holds)")
        }
        do {
            let html = try ReportRenderer.html(data, name: name, from: from, to: to, generated: now, source: source)
            try html.write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            throw CleanExit.message("canaryctl: \(error)")
        }
        FileHandle.standardError.write(Data("\(out): report of \(name), \(data.series.filter { !$0.points.isEmpty }.count) features, \(data.alerts.count) alerts and resolved events\n".utf8))
    }
}
