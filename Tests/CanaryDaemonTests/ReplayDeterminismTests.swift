import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The same rows give the same bytes: every sum and mean adds its observations in time order, never in
/// a dictionary's or set's order (which differs between runs and between copies of the same state).
@Suite struct ReplayDeterminismTests {
    static func run(_ files: [String], configuration: CanaryConfiguration) throws -> (alerts: String, scores: String) {
        let alertsPath = TestSupport.temporaryFile("alerts.jsonl")
        let scoresPath = TestSupport.temporaryFile("scores.csv")
        do {
            let replay = Replay(configuration: configuration, inputs: files.map { Replay.Input(path: $0) }, now: 1_900_000_000)
            _ = try replay.run(alerts: try BufferedWriter(path: alertsPath), scores: try BufferedWriter(path: scoresPath),
                               diagnostics: { _ in }, progress: nil)
        }
        return (try String(contentsOfFile: alertsPath, encoding: .utf8), try String(contentsOfFile: scoresPath, encoding: .utf8))
    }

    @Test(arguments: ["sleep.csv", "samples.csv", "typing.csv"])
    func replayingTheSameFileTwiceGivesTheSameBytes(name: String) throws {
        let configuration = try CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml"))
        let file = TestSupport.root("config/sample/\(name)")
        let first = try Self.run([file], configuration: configuration)
        #expect(first.scores.split(separator: "\n").count > 10)
        for _ in 0..<3 {
            let again = try Self.run([file], configuration: configuration)
            #expect(again.alerts == first.alerts)
            #expect(again.scores == first.scores)
        }
    }

    /// Day-aggregated and hour-aggregated metrics (means of many observations), several per minute of activity.
    @Test func periodMeansAndSharedMinutesDoNotDependOnTheOrderOfADictionary() throws {
        var configuration = CanaryConfiguration()
        configuration.engine.baseline.minHistoryDays = 3
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        var samples = ["timestamp,subject,metric,value"]
        var activity = ["timestamp,subject,activity"]
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let start = 1_767_225_600  // 2026-01-01T00:00:00Z
        for minute in 0..<(20 * 1440) {
            let t = start + minute * 60
            samples.append("\(t),s1,hr,\(60 + 10 * next())")
            samples.append("\(t),s1,resting_hr,\(55 + 10 * next())")
            // Two epochs in one minute, with fractional counts.
            activity.append("\(t),s1,\(100 * next())")
            activity.append("\(t + 20),s1,\(100 * next())")
        }
        let samplesPath = directory + "/samples.csv"
        let activityPath = directory + "/activity.csv"
        try (samples.joined(separator: "\n") + "\n").write(toFile: samplesPath, atomically: true, encoding: .utf8)
        try (activity.joined(separator: "\n") + "\n").write(toFile: activityPath, atomically: true, encoding: .utf8)
        var hourly = MetricSettings()
        hourly.mode = .hour
        configuration.engine.metrics["resting_hr"] = hourly
        for path in [samplesPath, activityPath] {
            let first = try Self.run([path], configuration: configuration)
            #expect(first.scores.split(separator: "\n").count > 10)
            for _ in 0..<3 {
                #expect(try Self.run([path], configuration: configuration).scores == first.scores)
            }
        }
    }
}
