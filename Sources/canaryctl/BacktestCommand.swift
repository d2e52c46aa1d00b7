import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl backtest`: how a configuration does on labelled data, and its operating curve.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Score a configuration's alerts against labelled episodes.",
        discussion: """
        Runs the same engine as `replay` over the DATA files and compares its alerts with EPISODES.csv \
        (subject,start,end[,label]; local dates, inclusive). Prints, per episode, whether it was detected \
        and the delay in days from its start to the first deviation or composite alert; the detection \
        rate with a Wilson 95 % interval; median and mean delay; false alerts per 100 person-days (alerts \
        outside every episode window, after the warm-up); the alert load; and which rules produced the \
        true and the false alerts. `resolved` and `gap` alerts are counted apart.

        --sweep KEY=FROM:TO:STEP runs once per setting (for example rules.*.threshold=2:5:0.25 or \
        composite.wellbeing.alpha=0.001:0.02:0.001) and prints the operating curve; --plot FILE writes \
        it as SVG.
        """
    )

    @Option(name: .long, help: "Configuration file (TOML). Without it the documented defaults apply.")
    var config: String?

    @Option(name: .long, help: "Labelled episodes: subject,start,end[,label] (dates YYYY-MM-DD, inclusive).")
    var episodes: String

    @Option(name: .long, help: "Days at the start of each subject's data that are warm-up (no baseline yet): their alerts are not scored.")
    var warmupDays = 14

    @Option(name: .long, help: "An alert up to this many days after an episode's end still detects it (and is not false).")
    var graceDays = 3

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: "Vary one key: KEY=FROM:TO:STEP (rules.NAME.KEY, rules.*.KEY, composite.NAME.alpha, baseline.window_days ...).")
    var sweep: String?

    @Option(name: .long, help: "With --sweep: write the operating curve to this SVG file.")
    var plot: String?

    @OptionGroup var input: InputOptions

    @Argument(help: "Data files.")
    var data: [String]

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one DATA file") }
        guard warmupDays >= 0, graceDays >= 0 else { throw ValidationError("--warmup-days and --grace-days must not be negative") }
        if plot != nil && sweep == nil { throw ValidationError("--plot draws the curve of a --sweep") }
    }

    func run() throws {
        let configuration = try input.configuration(path: config)
        let labelled: [Episode]
        do {
            labelled = try Episode.parse(String(contentsOfFile: episodes, encoding: .utf8))
        } catch let error as EpisodeFileError {
            throw CleanExit.message("canaryctl: \(episodes): \(error)")
        } catch {
            throw CleanExit.message("canaryctl: \(episodes): \(error.localizedDescription)")
        }
        let sweepSpec: Sweep?
        do {
            sweepSpec = try sweep.map { try Sweep.parse($0) }
        } catch let error as SweepError {
            throw CleanExit.message("canaryctl: --sweep: \(error)")
        }
        let backtest = Backtest(episodes: labelled, warmupDays: warmupDays, graceDays: graceDays)
        let runner = BacktestRun(configuration: configuration,
                                 inputs: data.map { Replay.Input(path: $0, format: input.format, subject: input.subject) },
                                 backtest: backtest, now: Date().timeIntervalSince1970)
        var shown = 0
        let diagnostics: (String) -> Void = { line in
            shown += 1
            if shown <= 20 { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
        do {
            guard let sweepSpec else {
                let (report, _) = try runner.run(diagnostics: diagnostics)
                if json {
                    let data = try JSONSerialization.data(withJSONObject: BacktestText.json(report, backtest: backtest), options: [.prettyPrinted, .sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(BacktestText.render(report, backtest: backtest), terminator: "")
                }
                return
            }
            var points: [OperatingCurve.Point] = []
            var rows: [[String: Any]] = []
            if !json { print("\(sweepSpec.key)  detected  (95% interval)  false/100 person-days  median delay") }
            for value in sweepSpec.values {
                var engine = configuration.engine
                try sweepSpec.apply(value, to: &engine)
                let (report, _) = try runner.run(engine: engine, diagnostics: diagnostics)
                points.append(OperatingCurve.Point(setting: value, falsePer100: report.falsePer100, detection: report.detection.rate))
                let ci = report.detection.interval
                if json {
                    var row = BacktestText.json(report, backtest: backtest)
                    row["setting"] = value
                    row["episodes"] = nil
                    rows.append(row)
                } else {
                    print(String(format: "%@  %5.1f%%  (%4.1f–%5.1f%%)  %6.2f  %@", Explanation.formatSetting(value) as NSString,
                                 report.detection.rate * 100, ci.lowerBound * 100, ci.upperBound * 100, report.falsePer100,
                                 (report.medianDelay.map { String(format: "%.1f d", $0) } ?? "-") as NSString))
                }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["key": sweepSpec.key, "curve": rows], options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
            if let plot {
                try OperatingCurve.svg(key: sweepSpec.key, points: points).write(toFile: plot, atomically: true, encoding: .utf8)
            }
        } catch let error as ReplayError {
            throw CleanExit.message("canaryctl: \(error.description)")
        } catch let error as SweepError {
            throw CleanExit.message("canaryctl: --sweep: \(error)")
        }
        if shown > 20 { FileHandle.standardError.write(Data("canaryctl: \(shown - 20) more rejected rows not shown\n".utf8)) }
    }
}
