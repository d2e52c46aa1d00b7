import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Resending what was not acknowledged is harmless: a raw sample already observed counts once.
@Suite(.serialized) struct ResendTests {
    static func alertsFingerprint(_ alerts: [[String: Any]]) -> [String] {
        alerts.map { "\($0["id"]!) \($0["value"]!) \($0["z"]!)" }.sorted()
    }

    @Test func rawSamplesSentTwiceAreObservedOnceAndReportedAsDuplicates() throws {
        let keyFile = TestSupport.temporaryFile("pseudonym.key")
        let first = try ConsentTrustTests.file(ConsentTrustTests.samples(["s1", "s2"], from: 0, count: 400))
        let second = try ConsentTrustTests.file(ConsentTrustTests.samples(["s1", "s2"], from: 400, count: 400))

        // The reference: each row once.
        let once = try DaemonHarness(extraConfig: ConsentTrustTests.rawRule, keyFile: keyFile)
        try once.waitReady()
        #expect(try IngestClient(socketPath: once.socketPath).send(path: first).accepted == 800)
        #expect(try IngestClient(socketPath: once.socketPath).send(path: second).accepted == 800)
        sleep(1)
        #expect(try once.stop() == 0)
        let expected = Self.alertsFingerprint(once.alerts())
        #expect(!expected.isEmpty)

        // The first file again (a client resending after a lost acknowledgement), then the rest.
        let twice = try DaemonHarness(extraConfig: ConsentTrustTests.rawRule, keyFile: keyFile)
        try twice.waitReady()
        #expect(try IngestClient(socketPath: twice.socketPath).send(path: first).accepted == 800)
        let again = try RawClient(path: twice.socketPath)
        try again.send(try String(contentsOfFile: first, encoding: .utf8))
        again.halfClose()
        #expect(again.readAll().contains("OK accepted=800 rejected=0 duplicate=800"))
        #expect(try IngestClient(socketPath: twice.socketPath).send(path: second).accepted == 800)
        sleep(1)
        #expect(try twice.stop() == 0)
        #expect(Self.alertsFingerprint(twice.alerts()) == expected, "the same alerts, with the same values, as sending each row once")
    }
}
