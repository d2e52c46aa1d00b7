import Testing
@testable import CanaryCore

/// Backtest scoring with plain numbers: detection, delay, false alerts per person-day, Wilson intervals,
/// the episodes file and sweeps.
@Suite struct BacktestTests {
    static let d0 = Episode.day("2026-01-05")!

    static func flag(_ subject: String, _ day: Int, _ kind: AlertKind = .deviation, _ rule: String = "steps.threshold") -> Backtest.Flag {
        Backtest.Flag(subject: subject, day: d0 + day, kind: kind, rule: rule)
    }

    @Test func scoresDetectionDelayAndFalseAlerts() {
        let episodes = [
            Episode(subject: "a", start: Self.d0 + 30, end: Self.d0 + 36, label: "depressive"),
            Episode(subject: "b", start: Self.d0 + 30, end: Self.d0 + 39, label: "manic"),
            Episode(subject: "z", start: Self.d0 + 30, end: Self.d0 + 39, label: "manic"),   // no data: not scored
        ]
        let backtest = Backtest(episodes: episodes, warmupDays: 14, graceDays: 3)
        let flags = [
            Self.flag("a", 5),                                     // warm-up: not scored
            Self.flag("a", 20),                                    // false
            Self.flag("a", 32, .composite, "composite.wellbeing"), // detects a, delay 2
            Self.flag("a", 33),                                    // in the episode, not false
            Self.flag("a", 33, .resolved),
            Self.flag("b", 43),                                    // after b's end + grace (39 + 3 = 42): false, b missed
            Self.flag("b", 50, .gap, "gap.activity"),
            Self.flag("c", 40),                                    // a subject without episodes: false
        ]
        let spans = ["a": Self.d0...(Self.d0 + 55), "b": Self.d0...(Self.d0 + 55), "c": Self.d0...(Self.d0 + 55)]
        let r = backtest.score(flags: flags, spans: spans)
        #expect(r.outcomes.map(\.detected) == [true, false, false])
        #expect(r.outcomes.map(\.unobserved) == [false, false, true])
        #expect(r.outcomes[0].delay == 2 && r.outcomes[0].firstRule == "composite.wellbeing")
        #expect(r.detection == Backtest.Rate(detected: 1, total: 2))
        #expect(r.byLabel["depressive"] == Backtest.Rate(detected: 1, total: 1))
        #expect(r.byLabel["manic"] == Backtest.Rate(detected: 0, total: 1))
        #expect(r.medianDelay == 2 && r.meanDelay == 2)
        #expect(r.falseAlerts == 3)
        // Days 14…55 per subject (42); outside the windows: a loses 30…39 (10), b loses 30…42 (13).
        #expect(r.personDays == 42 * 3 - 10 - 13)
        #expect(abs(r.falsePer100 - 300.0 / Double(42 * 3 - 23)) < 1e-12)
        #expect(abs(r.alertLoad - 500.0 / Double(42 * 3)) < 1e-12)
        #expect(r.resolved == 1 && r.gaps == 1)
        #expect(r.rules["steps.threshold"] == Backtest.RuleCount(inEpisodes: 1, outside: 3))
        #expect(r.rules["composite.wellbeing"] == Backtest.RuleCount(inEpisodes: 1, outside: 0))
    }

    @Test func wilsonIntervalMatchesHandComputedValues() {
        // 8 of 10: centre (0.8 + 1.9208/10) / 1.38415 = 0.71674, half 1.96·sqrt(0.016 + 0.0009604)/1.38415 = 0.18440.
        let ci = Backtest.wilson(8, 10)
        #expect(abs(ci.lowerBound - 0.49016) < 1e-4 && abs(ci.upperBound - 0.94332) < 1e-4)
        #expect(Backtest.wilson(0, 0) == 0...1)
        #expect(Backtest.wilson(0, 20).lowerBound == 0)
        #expect(abs(Backtest.wilson(20, 20).upperBound - 1) < 1e-12)
    }

    @Test func readsEpisodesAndNamesBadLines() throws {
        let parsed = try Episode.parse("subject,start,end,label\ns1,2026-02-03,2026-02-10,depressive\n\n# note\ns2, 2026-02-01 ,2026-02-01\n")
        #expect(parsed == [Episode(subject: "s1", start: Episode.day("2026-02-03")!, end: Episode.day("2026-02-10")!, label: "depressive"),
                           Episode(subject: "s2", start: Episode.day("2026-02-01")!, end: Episode.day("2026-02-01")!)])
        #expect(throws: EpisodeFileError(line: 2, "field 'end': '2026-02-30' is not a date YYYY-MM-DD")) {
            try Episode.parse("subject,start,end\ns1,2026-02-03,2026-02-30\n")
        }
        #expect(throws: EpisodeFileError(line: 1, "field 'end': 2026-02-01 is before start 2026-02-03")) {
            try Episode.parse("s1,2026-02-03,2026-02-01")
        }
        #expect(throws: EpisodeFileError(line: 1, "expected subject,start,end[,label], found 2 fields")) {
            try Episode.parse("s1,2026-02-03")
        }
    }

    @Test func sweepsParseAndApply() throws {
        let s = try Sweep.parse("rules.*.threshold=2:3:0.25")
        #expect(s.values == [2, 2.25, 2.5, 2.75, 3])
        var c = EngineConfiguration()
        try s.apply(2.5, to: &c)
        #expect(c.rules.values.allSatisfy { $0.threshold == 2.5 })
        let one = try Sweep.parse("rules.steps.threshold=4:4:1")
        var d = EngineConfiguration()
        try one.apply(4, to: &d)
        #expect(d.rules["steps"]!.threshold == 4 && d.rules["sleep_duration"]!.threshold == 3)
        let alpha = try Sweep.parse("composite.wellbeing.alpha=0.001:0.003:0.001")
        #expect(alpha.values.count == 3)
        try alpha.apply(0.002, to: &d)
        #expect(d.composites[0].alpha == 0.002)
        #expect(throws: SweepError.self) { try Sweep.parse("rules.nothing.threshold=1:2:1") }
        #expect(throws: SweepError.self) { try Sweep.parse("rules.*.direction=1:2:1") }
        #expect(throws: SweepError.self) { try Sweep.parse("rules.*.threshold=3:2:1") }
        #expect(throws: SweepError.self) { try Sweep.parse("composite.wellbeing.alpha=0:1:0.5") }
    }

    @Test func operatingCurveIsAnSVGWithItsNumbersInText() {
        let svg = OperatingCurve.svg(key: "rules.*.threshold", points: [
            .init(setting: 2.5, falsePer100: 3.2, detection: 0.9), .init(setting: 3, falsePer100: 0.8, detection: 0.75),
        ])
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("<desc>") && svg.contains("2.5: 90% detected, 3.20 false") && svg.contains("3: 75% detected, 0.80 false"))
        #expect(svg.components(separatedBy: "<circle").count == 3)
    }
}
