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

/// Rows for periods already evaluated are counted, and the sender hears at once.
@Suite(.serialized) struct LateRowNoticeTests {
    @Test func theFirstLateRowOfAConnectionGetsANoticeNamingTheOldestOpenDay() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, maxLateness: "1s")
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/sleep.csv")).accepted == 189)
        // The days close as the data moves on; the last ones once the stream has been quiet for max_lateness (1 s).
        try daemon.notify.wait(for: "alerts decided") { $0.contains("STATUS=") && !$0.contains(" 0 alerts emitted") }
        let client = try RawClient(path: daemon.socketPath)
        try client.send("subject,start,end\neli,2026-03-10T23:00:00+01:00,2026-03-11T06:30:00+01:00\neli,2026-03-11T23:00:00+01:00,2026-03-12T06:30:00+01:00\n")
        client.halfClose()
        let replies = client.readAll().split(separator: "\n").map(String.init)
        #expect(replies.count == 2, "\(replies)")
        #expect(replies.first?.hasPrefix("NOTICE 2 late: ") == true, "once per connection, naming the first late line: \(replies)")
        #expect(replies.first?.contains("oldest period still open is 2026-") == true, "\(replies)")
        #expect(replies.last == "OK accepted=2 rejected=0 late=2", "\(replies)")
        try daemon.notify.wait(for: "late rows in STATUS") { $0.contains("2 late rows not evaluated") }
        // canaryctl send shows the notice and does not count it as a rejection.
        let file = try ConsentTrustTests.file("subject,start,end\neli,2026-03-10T23:00:00+01:00,2026-03-11T06:30:00+01:00\n")
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: file)
        #expect(outcome.rejected == 0 && outcome.late == 1 && outcome.notices.count == 1 && outcome.errors.isEmpty, "\(outcome)")
        #expect(try daemon.stop() == 0)
    }
}
