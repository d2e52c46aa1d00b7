import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Group commit of alerts: an alert's commit holds the alert and the state of its subject (the state
/// that decided it), not every subject the engine changed meanwhile; those go with the next full one.
@Suite struct AlertCommitTests {
    static let rule = """
        [metrics.default]
        mode = "raw"
        warmup = 5
        [metrics.default.rule]
        threshold = 4.0
        persistence = "1/1"
        cooldown = 0
        [gaps]
        samples = "off"
        [composite]
        """

    static func submit(_ loop: EngineLoop, _ records: [Record]) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in loop.submit(records) { _ in c.resume() } }
    }

    @Test func anAlertsCommitHoldsItsSubjectsStateOnly() async throws {
        let configuration = try CanaryConfiguration.parse(Self.rule)
        let loop = try EngineLoop(configuration: configuration.engine, channels: { _ in ["journal"] },
                                  notifier: ServiceNotifier(systemd: RecordingSystemd()), maxCloseInterval: 3600)
        loop.start()
        let t0 = 1_767_225_600.0
        var rows: [Record] = []
        for i in 0..<20 {
            for s in ["a", "b", "c"] {
                rows.append(.sample(SampleRecord(timestamp: t0 + Double(i) * 60, subject: s, metric: "hr", value: 60 + Double(i % 3))))
            }
        }
        await Self.submit(loop, rows)
        // Everything so far goes with a full snapshot: all three subjects, no alert.
        let first = try #require(await loop.snapshot())
        #expect(Set(first.states.keys) == ["a", "b", "c"] && first.alerts.isEmpty)

        // b and c move on quietly; a spikes.
        await Self.submit(loop, [
            .sample(SampleRecord(timestamp: t0 + 1200, subject: "b", metric: "hr", value: 61)),
            .sample(SampleRecord(timestamp: t0 + 1200, subject: "a", metric: "hr", value: 400)),
            .sample(SampleRecord(timestamp: t0 + 1200, subject: "c", metric: "hr", value: 62)),
        ])
        let alertsOnly = try #require(await loop.snapshot(alertsOnly: true))
        #expect(alertsOnly.alerts.map(\.alert.subject) == ["a"])
        #expect(Set(alertsOnly.states.keys) == ["a"], "the state that decided the alert, and only that")
        let decided = try #require(alertsOnly.states["a"]).encoded()
        #expect(String(decoding: decided, as: UTF8.self).contains("1767226800"), "a's state includes the spike's instant")

        // b's and c's changes were not lost: the next full snapshot holds them (and not a, unchanged since).
        let next = try #require(await loop.snapshot())
        #expect(Set(next.states.keys) == ["b", "c"] && next.alerts.isEmpty)
        await loop.stop()
    }
}
