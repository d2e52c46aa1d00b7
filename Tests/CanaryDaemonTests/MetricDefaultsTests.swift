import CanaryCore
import Testing
@testable import CanaryDaemon

/// A metric's rule takes its defaults from its own mode, key by key; `check-config --effective` prints
/// what a configuration ends up with.
@Suite struct MetricDefaultsTests {
    @Test func aRawMetricWithSomeRuleKeysKeepsTheRawDefaultsForTheOthers() throws {
        let c = try CanaryConfiguration.parse("""
        [metrics.hr]
        mode = "raw"
        [metrics.hr.rule]
        threshold = 4.5
        """)
        var expected = RuleSettings.rawDefault
        expected.threshold = 4.5
        // Not the daily rule's persistence 3/4, CUSUM and cooldown 7, under which single spikes never alert.
        #expect(c.engine.metrics["hr"]?.rule == expected)
        #expect(c.engine.metrics["hr"]?.baseline == .ewma)
    }

    @Test func aDailyMetricUnderARawDefaultGetsTheDailyDefaults() throws {
        let c = try CanaryConfiguration.parse("""
        [metrics.default]
        mode = "raw"
        [metrics.steps_phone]
        mode = "day"
        aggregate = "sum"
        [metrics.steps_phone.rule]
        direction = "low"
        """)
        #expect(c.engine.defaultMetric.rule == RuleSettings.rawDefault)
        var expected = RuleSettings()
        expected.direction = .low
        #expect(c.engine.metrics["steps_phone"]?.rule == expected)
        #expect(c.engine.metrics["steps_phone"]?.baseline == .robust)
        // A metric of the default's own mode inherits the default's rule.
        let same = try CanaryConfiguration.parse("""
        [metrics.default]
        mode = "raw"
        [metrics.default.rule]
        threshold = 5
        [metrics.hrv]
        alpha = 0.1
        """)
        #expect(same.engine.metrics["hrv"]?.rule?.threshold == 5)
        #expect(same.engine.metrics["hrv"]?.rule?.persistenceN == 1)
    }

    @Test func effectiveRulesReadBackAsTheSameConfiguration() throws {
        let original = try CanaryConfiguration.parse("""
        [metrics.hr]
        mode = "raw"
        [metrics.hr.rule]
        threshold = 4.5
        [metrics.weight]
        mode = "day"
        rule = "off"
        [rules.keystrokes]
        direction = "low"
        floor_rel = 0.2
        [composite.rest]
        features = ["sleep_duration", "steps", "m10"]
        span_days = 3
        clip = 3.5
        """)
        let printed = EffectiveRules.toml(original.engine)
        #expect(printed.contains("[metrics.hr.rule]\ndirection = \"both\"\nthreshold = 4.5\npersistence = \"1/1\"\ncooldown = 0"))
        let again = try CanaryConfiguration.parse(printed)
        #expect(again.engine.rules == original.engine.rules)
        #expect(again.engine.metrics == original.engine.metrics)
        #expect(again.engine.defaultMetric == original.engine.defaultMetric)
        #expect(again.engine.composites == original.engine.composites)
    }
}
