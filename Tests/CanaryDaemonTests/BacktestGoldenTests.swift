import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl backtest` on the sample set, as a user runs it: eli's injected episode is detected the day
/// after it starts, a made-up episode of ana is missed, nothing alerts outside them.
@Suite struct BacktestGoldenTests {
    static let files = ["sleep.csv", "activity.csv", "typing.csv", "samples.csv"].map { TestSupport.root("config/sample/\($0)") }

    static func episodes() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("episodes-\(UUID().uuidString).csv").path
        try "subject,start,end,label\neli,2026-03-26,2026-04-01,low mood\nana,2026-03-16,2026-03-20,unlabelled dip\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func scoresTheSampleEpisode() throws {
        let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                   ["backtest", "--config", TestSupport.root("config/sample/canary.toml"), "--episodes", try Self.episodes(), "--json"] + Self.files)
        #expect(r.status == 0, "\(r.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
        let episodes = try #require(json["episodes"] as? [[String: Any]])
        #expect(episodes.map { $0["detected"] as? Bool } == [true, false])
        #expect(episodes[0]["delay_days"] as? Int == 1)
        #expect(episodes[0]["first_rule"] as? String == "composite.wellbeing")
        let detection = try #require(json["detection"] as? [String: Any])
        #expect(detection["detected"] as? Int == 1 && detection["total"] as? Int == 2)
        #expect(json["false_alerts"] as? Int == 0)
        // 5 subjects × (35 days − 14 warm-up) − eli's 7 + 3 grace days − ana's 5 + 3.
        #expect(json["person_days"] as? Int == 87)
        #expect(json["resolved"] as? Int == 11)
        let rules = try #require(json["rules"] as? [String: [String: Int]])
        #expect(rules["steps.threshold"] == ["in_episodes": 1, "false": 0])
        #expect(rules.values.allSatisfy { $0["false"] == 0 })
    }

    @Test func sweepsAThresholdAndDrawsTheCurve() throws {
        let plot = FileManager.default.temporaryDirectory.appendingPathComponent("curve-\(UUID().uuidString).svg").path
        let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                   ["backtest", "--config", TestSupport.root("config/sample/canary.toml"), "--episodes", try Self.episodes(),
                                    "--sweep", "composite.wellbeing.alpha=0.01:0.03:0.01", "--plot", plot] + Self.files)
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("composite.wellbeing.alpha  detected") == true)
        #expect(lines.dropFirst().map { $0.split(separator: " ").first.map(String.init) } == ["0.01", "0.02", "0.03"])
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<circle").count == 4)
    }

    @Test func badEpisodeFilesAndSweepsAreNamed() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).csv").path
        try "subject,start,end\neli,2026-03-26,yesterday\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["backtest", "--episodes", bad] + Self.files)
        #expect(r.output.contains("\(bad): line 2: field 'end': 'yesterday' is not a date YYYY-MM-DD"), "\(r.output)")
        let s = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                   ["backtest", "--episodes", try Self.episodes(), "--sweep", "rules.nothing.threshold=1:2:1"] + Self.files)
        #expect(s.output.contains("--sweep: rules.nothing: the configuration has no rule for this feature"), "\(s.output)")
    }
}
