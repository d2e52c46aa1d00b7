import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The sample data set in config/sample: eli has an injected episode from 2026-03-26 to 2026-04-01;
/// ana, ben, chen and dara are stable and must raise nothing.
@Suite struct ReplayGoldenTests {
    static let files = ["sleep.csv", "activity.csv", "typing.csv", "samples.csv"].map { TestSupport.root("config/sample/\($0)") }

    static func run(scores: String? = nil) throws -> (alerts: [[String: Any]], summary: Replay.Summary) {
        let configuration = try CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml"))
        let result = try TestSupport.replay(files.map { Replay.Input(path: $0) }, configuration: configuration, scores: scores)
        #expect(result.diagnostics.isEmpty)
        return (result.alerts, result.summary)
    }

    @Test func stableSubjectsRaiseNothingAndTheEpisodeAlertsOnItsDays() throws {
        let (alerts, summary) = try Self.run()
        #expect(summary.counts.totalRejected == 0)
        #expect(summary.counts.accepted[.sleep] == 189)
        #expect(summary.subjects == 5)

        let subjects = Set(alerts.map { $0["subject"] as! String })
        #expect(subjects == ["eli"], "only the subject with the episode alerts")

        let raised = alerts.filter { ($0["kind"] as! String) != "resolved" }
        let periods = Set(raised.map { $0["period"] as! String })
        #expect(periods.allSatisfy { $0 >= "2026-03-26" && $0 <= "2026-04-01" }, "\(periods.sorted())")

        func first(_ rule: String) -> String? {
            raised.filter { ($0["rule"] as! String) == rule }.map { $0["period"] as! String }.min()
        }
        // Persistence 3 of 4: the third episode night/day.
        #expect(first("sleep_duration.threshold") == "2026-03-28")
        #expect(first("steps.threshold") == "2026-03-28")
        #expect(first("flight_median.threshold") == "2026-03-28")
        #expect(first("backspace_rate.threshold") == "2026-03-28")
        // Composite, 2 of 3: a day earlier than any single feature.
        #expect(first("composite.wellbeing") == "2026-03-27")

        // Every raised threshold alert explains itself and carries its numbers.
        let sleep = try #require(raised.first { ($0["rule"] as! String) == "sleep_duration.threshold" })
        #expect(sleep["kind"] as? String == "deviation")
        #expect(sleep["direction"] as? String == "low")
        #expect((sleep["z"] as! Double) < -3)
        let explanation = sleep["explanation"] as! String
        #expect(explanation.hasPrefix("sleep duration "))
        #expect(explanation.contains("usual"))
        #expect(explanation.contains("3 of the last 4 nights"))

        // The episode ends: each alerting rule resolves once eli is back to normal.
        let resolved = alerts.filter { ($0["kind"] as! String) == "resolved" }.map { $0["rule"] as! String }
        #expect(resolved.contains("sleep_duration.threshold"))
        #expect(resolved.contains("composite.wellbeing"))
    }

    @Test func alertIDsAreDeterministic() throws {
        let a = try Self.run().alerts.map { $0["id"] as! String }
        let b = try Self.run().alerts.map { $0["id"] as! String }
        #expect(a == b)
        #expect(Set(a).count == a.count, "no two alerts share an id")
    }

    @Test func scoresFileHasStableColumnsAndComparableScores() throws {
        let path = TestSupport.temporaryFile("scores.csv")
        _ = try Self.run(scores: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "timestamp,subject,metric,value,baseline,scale,z,score")
        var scoreByZ: [(Double, Double)] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: ",")
            #expect(f.count == 8)
            #expect(Double(f[0]) != nil && !f[0].contains("."), "epoch seconds")
            let z = Double(f[6])!, score = Double(f[7])!
            #expect(score >= 0 && score <= 1)
            scoreByZ.append((abs(z), score))
        }
        #expect(scoreByZ.count > 1000)
        // Monotone in |z| across subjects and metrics.
        let sorted = scoreByZ.sorted { $0.0 < $1.0 }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.1 <= b.1) }
        // Clear deviations score near 1, ordinary days do not.
        #expect(sorted.last!.1 > 0.95)
        #expect(sorted[sorted.count / 2].1 < 0.1)
    }

    @Test func aRestartFreeReplayOfOneFileStreamsTheSameAsTheMergedRun() throws {
        // Sleep alone, through the single-file streaming path and the merged path, gives the same alerts.
        let configuration = try CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml"))
        let sleep = Self.files[0]
        let streamed = try TestSupport.replay([.init(path: sleep)], configuration: configuration).alerts
        let empty = TestSupport.temporaryFile("empty.csv")
        try "subject,start,end\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let merged = try TestSupport.replay([.init(path: sleep), .init(path: empty)], configuration: configuration).alerts
        #expect(streamed.map { $0["id"] as! String } == merged.map { $0["id"] as! String })
        #expect(!streamed.isEmpty)
    }
}
