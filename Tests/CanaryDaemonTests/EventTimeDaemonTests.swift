import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Event time in the running daemon: streams of one person sent one after another, with pauses, are
/// all judged.
@Suite struct EventTimeDaemonTests {
    /// The new user's scenario of issue 10: the sleep file, three seconds' pause, the samples file. The
    /// second file's rows were all `late` (the subject's days had closed by the clock after the first),
    /// and its resting-heart-rate episode was never seen.
    @Test func aSecondStreamSentAfterAPauseIsJudged() throws {
        // `settle` as the earlier versions read it (this one ignores it): the test fails on them as the user saw it.
        let daemon = try DaemonHarness(daemonKeys: "settle = \"1s\"", maxLateness: nil)
        try daemon.waitReady()
        let sleep = try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/sleep.csv"))
        #expect(sleep.accepted == 189 && sleep.late == 0, "\(sleep)")
        Thread.sleep(forTimeInterval: 3)
        let samples = try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/samples.csv"))
        #expect(samples.accepted == 4196 && samples.rejected == 0 && samples.late == 0, "\(samples)")

        // The episode's alerts, as a replay of both files finds them (decided by the data, not the clock).
        var configuration = try CanaryConfiguration.parse("[engine]\ntimezone = \"Europe/Oslo\"\nmax_past = \"36500d\"\n")
        configuration.engine.maxPastSeconds = 36_500 * 86_400
        let replayed = try TestSupport.replay(["sleep", "samples"].map { Replay.Input(path: TestSupport.root("config/sample/\($0).csv")) },
                                              configuration: configuration).alerts
        func key(_ a: [String: Any]) -> String { "\(a["rule"]!) \(a["period"]!) \(a["value"]!)" }
        let episode = Set(replayed.filter { ($0["rule"] as! String).hasPrefix("resting_hr") && $0["kind"] as? String == "deviation" }.map(key))
        #expect(!episode.isEmpty)
        let deadline = Date().addingTimeInterval(20)
        var served: Set<String> = []
        while Date() < deadline {
            served = Set(daemon.alerts().map(key))
            if episode.isSubset(of: served) { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(episode.isSubset(of: served), "missing: \(episode.subtracting(served))")
        #expect(try daemon.stop() == 0)
        #expect(daemon.log.contains("daemon.settle has no effect"), "the obsolete key is reported")
    }
}
