import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// A restart continues where the daemon was: the same data in one run, or split across a restart,
/// gives the same alerts.
@Suite(.serialized) struct RestartTests {
    static func alertKeys(_ alerts: [[String: Any]]) -> [String] {
        alerts.map { "\($0["id"]!)" }.sorted()
    }

    @Test func theSameDataSplitAcrossARestartGivesTheSameAlerts() throws {
        let lines = try String(contentsOfFile: TestSupport.root("config/sample/sleep.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let header = lines[0]
        // Split by time: sessions ending before 2026-03-24 first (the baselines), the rest (the episode) after.
        let rows = lines.dropFirst()
        let early = rows.filter { $0.split(separator: ",")[2] < "2026-03-24" }
        let late = rows.filter { $0.split(separator: ",")[2] >= "2026-03-24" }
        let whole = TestSupport.temporaryFile("whole.csv"), first = TestSupport.temporaryFile("first.csv"), second = TestSupport.temporaryFile("second.csv")
        try ([header] + rows).joined(separator: "\n").appending("\n").write(toFile: whole, atomically: true, encoding: .utf8)
        try ([header] + early).joined(separator: "\n").appending("\n").write(toFile: first, atomically: true, encoding: .utf8)
        try ([header] + late).joined(separator: "\n").appending("\n").write(toFile: second, atomically: true, encoding: .utf8)
        let noGaps = DaemonLifecycleTests.noGaps

        // One run with everything.
        // One installation key for every run: alert ids are keyed with it.
        let keyFile = TestSupport.temporaryFile("pseudonym.key")
        let single = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile)
        try single.waitReady()
        #expect(try IngestClient(socketPath: single.socketPath).send(path: whole).accepted == rows.count)
        let expected = try single.waitForAlerts(atLeast: 10)
        sleep(2)
        #expect(try single.stop() == 0)
        let expectedKeys = Self.alertKeys(single.alerts())
        #expect(expected.count == expectedKeys.count)

        // The same data in two runs of canaryd that share a state directory.
        let stateDirectory = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        // The first run stops with its last days still open (its data has not moved past them and max_lateness
        // is an hour): they are saved so, and closed by the second run's data.
        let before = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile, stateDirectory: stateDirectory, maxLateness: "1h")
        try before.waitReady()
        #expect(try IngestClient(socketPath: before.socketPath).send(path: first).accepted == early.count)
        #expect(try before.stop() == 0)
        let beforeKeys = Self.alertKeys(before.alerts())

        let after = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile, stateDirectory: stateDirectory)
        try after.waitReady()
        try after.notify.wait(for: "the restored subjects in STATUS") { $0.contains("STATUS=5 subjects") }
        #expect(try IngestClient(socketPath: after.socketPath).send(path: second).accepted == late.count)
        sleep(3)
        #expect(try after.stop() == 0)
        let afterKeys = Self.alertKeys(after.alerts())

        #expect((beforeKeys + afterKeys).sorted() == expectedKeys, "split across a restart: \(beforeKeys.count) + \(afterKeys.count) alerts, one run: \(expectedKeys.count)")
        #expect(!afterKeys.isEmpty, "the episode after the restart alerts against the restored baselines")
    }
}
