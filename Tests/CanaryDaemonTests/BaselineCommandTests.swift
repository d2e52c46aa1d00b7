import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl baseline` against the real daemon: what an operator asks first when an alert arrives.
@Suite(.serialized) struct BaselineCommandTests {
    @Test func aSubjectsBaselinesThroughTheControlSocket() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, consent: ["eli"])
        try daemon.waitReady()
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/sleep.csv"))
        #expect(outcome.accepted == 36)
        let ctl = DaemonHarness.binary("canaryctl")

        let json = try ProcessRun.run(ctl, ["baseline", "eli", "--json", "--last", "3", "--control", daemon.controlPath])
        #expect(json.status == 0, "\(json.output)")
        let report = try JSONDecoder().decode(BaselineReport.self, from: Data(json.output.utf8))
        #expect(report.subject == "eli" && report.streams.map(\.stream) == [.sleep])
        let duration = try #require(report.series.first { $0.name == "sleep_duration" })
        #expect(duration.kind == "day" && duration.centre != nil && duration.scale != nil && duration.last.count == 3)
        #expect(duration.coverage > 14 && duration.rule?.persistenceK == 3 && duration.rule?.persistenceN == 4)
        #expect(duration.last.allSatisfy { $0.z != nil })

        let text = try ProcessRun.run(ctl, ["baseline", "eli", "--feature", "sleep_duration", "--control", daemon.controlPath])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.hasPrefix("subject eli\n  sleep: days from "))
        #expect(text.output.contains("\nsleep_duration: sleep duration\n  baseline  "))
        #expect(text.output.contains("  rules     threshold 3.0 both, 3/4: "))
        #expect(!text.output.contains("sleep_onset"), "--feature shows that feature only")

        let unknown = try ProcessRun.run(ctl, ["baseline", "eli", "--feature", "steps", "--control", daemon.controlPath])
        #expect(unknown.status == 1 && unknown.output.contains("eli has no series steps; it has: sleep_duration"))
        let nobody = try ProcessRun.run(ctl, ["baseline", "ana", "--control", daemon.controlPath])
        #expect(nobody.status == 1 && nobody.output.contains("canaryd holds no evaluation state for ana"))
        #expect(try daemon.stop() == 0)
    }
}
