import CanaryCore
import Foundation

/// `canaryctl backtest`: replays files with a configuration and scores its alerts against labelled
/// episodes (`Backtest`), once or for each setting of a sweep.
public struct BacktestRun {
    public var configuration: CanaryConfiguration
    public var inputs: [Replay.Input]
    public var backtest: Backtest
    public var now: Double

    public init(configuration: CanaryConfiguration, inputs: [Replay.Input], backtest: Backtest, now: Double) {
        self.configuration = configuration
        self.inputs = inputs
        self.backtest = backtest
        self.now = now
    }

    /// Replays with `engine` (the configuration's own, or a swept one) and scores the alerts.
    public func run(engine: EngineConfiguration? = nil, diagnostics: @escaping (String) -> Void) throws -> (report: Backtest.Report, summary: Replay.Summary) {
        var configuration = configuration
        if let engine { configuration.engine = engine }
        var replay = Replay(configuration: configuration, inputs: inputs, now: now)
        replay.collect = true
        let summary = try replay.run(alerts: nil, scores: nil, diagnostics: diagnostics, progress: nil)
        let zones = configuration.engine.zones
        var clocks: [String: ZoneClock] = [:]
        func day(_ instant: Double, _ subject: String) -> Int {
            var clock = clocks[subject] ?? ZoneClock(zones.zone(for: subject))
            defer { clocks[subject] = clock }
            return clock.day(of: instant)
        }
        // The local day an alert's period starts on (a raw sample's period is labelled in UTC).
        let flags = summary.alerts.map { a in
            Backtest.Flag(subject: a.subject, day: day(a.periodStart, a.subject), kind: a.kind, rule: a.rule)
        }
        var spans: [String: ClosedRange<Int>] = [:]
        for (subject, span) in summary.spans {
            spans[subject] = day(span.lowerBound, subject)...day(span.upperBound, subject)
        }
        return (backtest.score(flags: flags, spans: spans), summary)
    }
}
