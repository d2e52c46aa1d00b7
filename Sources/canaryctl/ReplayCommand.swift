import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

extension InputFormat: ExpressibleByArgument {}

/// `canaryctl replay`: the engine over files, alerts as JSON Lines.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the engine over data files and print alerts as JSON Lines.",
        discussion: """
        Reads each DATA file (samples, sleep, activity or typing CSV with a header row, or typing as \
        JSON Lines), runs the same engine canaryd runs, and prints every alert as one JSON object per \
        line on standard output. Rejected rows are reported on standard error with file, line, field \
        and reason; the rest of the input still goes through. A summary follows on standard error.
        """
    )

    @Option(name: .long, help: "Configuration file (TOML). Without it the documented defaults apply.")
    var config: String?

    @Option(name: .long, help: "Also write every evaluated observation to this CSV file: timestamp,subject,metric,value,baseline,scale,z,score.")
    var scores: String?

    @OptionGroup var input: InputOptions

    @Flag(name: .long, help: "Use each file's name (without extension) as the subject of files that have no subject column.")
    var subjectFromFilename = false

    @Option(name: .long, help: "How many rejected rows to show per file (the summary counts them all).")
    var maxErrors = 20

    @Argument(help: "Data files.")
    var data: [String]

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one DATA file") }
        if input.subject != nil && subjectFromFilename {
            throw ValidationError("--subject and --subject-from-filename exclude each other")
        }
    }

    func run() throws {
        let configuration = try input.configuration(path: config)
        let inputs = data.map { path in
            let fileSubject = subjectFromFilename ? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent : input.subject
            return Replay.Input(path: path, format: input.format, subject: fileSubject)
        }
        var replay = Replay(configuration: configuration, inputs: inputs, now: Date().timeIntervalSince1970)
        replay.maxErrorsShownPerFile = maxErrors
        let alerts = BufferedWriter(fd: 1)
        let scoresWriter: BufferedWriter?
        do {
            scoresWriter = try scores.map { try BufferedWriter(path: $0) }
        } catch {
            throw CleanExit.message("canaryctl: \(error.localizedDescription)")
        }
        let diagnostics = BufferedWriter(fd: 2, capacity: 0)
        let summary: Replay.Summary
        do {
            summary = try replay.run(alerts: alerts, scores: scoresWriter,
                                     diagnostics: { diagnostics.write($0 + "\n") },
                                     progress: ProgressReporter.forTerminal())
        } catch let error as ReplayError {
            FileHandle.standardError.write(Data("canaryctl: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardError.write(Data(SummaryText.render(summary).utf8))
    }
}
