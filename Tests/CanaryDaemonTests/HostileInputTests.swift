import Foundation
import Logging
import Testing
@testable import CanaryCore
@testable import CanaryDaemon

/// Nothing a peer sends can crash canaryd or stop it saving (issue 9): huge values, ancient
/// timestamps, and a subject whose state cannot be saved. Real canaryd, real socket, real SQLite file.
@Suite(.serialized) struct HostileInputTests {
    static let sleepFile = TestSupport.root("config/sample/sleep.csv")

    /// Epoch seconds of noon, `days` days ago: a day the daemon closes once the stream is quiet for max_lateness.
    static func noon(daysAgo days: Int) -> Int {
        let now = Int(Date().timeIntervalSince1970)
        return now - now % 86_400 - days * 86_400 + 12 * 3600
    }

    /// Sends `text`, half-closes, and returns every reply line.
    static func exchange(_ daemon: DaemonHarness, _ text: String) throws -> [String] {
        let client = try RawClient(path: daemon.socketPath)
        try client.send(text)
        client.halfClose()
        return client.readAll().split(separator: "\n").map(String.init)
    }

    @Test func hugeValuesOfOneSubjectNeitherStopCommitsNorOtherSubjectsAlerts() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        // Two rows of 1e308 for one consented subject, on a day the daemon closes once the stream is quiet for max_lateness (1 s here):
        // their mean overflowed to infinity, no snapshot could be encoded again, every client heard
        // `ERR 0 not-committed` and no alert for anyone was delivered.
        let t = Self.noon(daysAgo: 3)
        let replies = try Self.exchange(daemon, "timestamp,subject,metric,value\n\(t),s-huge,hr,1e308\n\(t + 60),s-huge,hr,1e308\n\(t + 120),s-huge,hr,61\n")
        #expect(replies.count == 3, "\(replies)")
        #expect(replies.first?.hasPrefix("ERR 2 out-of-range: field 'value': ") == true, "\(replies)")
        #expect(replies.dropFirst().first?.hasPrefix("ERR 3 out-of-range: field 'value': ") == true, "\(replies)")
        #expect(replies.last == "OK accepted=1 rejected=2", "\(replies)")
        usleep(3_000_000)  // the day closes once the stream has been quiet for max_lateness (1 s) and the clock is checked (1 s)

        // Another subject's rows are committed and acknowledged, and their alerts delivered.
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: Self.sleepFile)
        #expect(outcome.completed && outcome.accepted == 189 && outcome.rejected == 0, "\(outcome)")
        let alerts = try daemon.waitForAlerts(atLeast: 2)
        let eli = try daemon.token("eli")  // the alert log names subjects by token
        #expect(alerts.contains { ($0["rule"] as? String) == "sleep_duration.threshold" && ($0["subject"] as? String) == eli })
        #expect(try daemon.stop() == 0)

        let states = try StateStore(path: daemon.statePath).loadSubjectStates()
        #expect(states["eli"] != nil)
        #expect(states["s-huge"] != nil, "the subject's one plausible row is kept")
        #expect(!daemon.log.contains("not-committed") && !daemon.log.contains("cannot commit"), "\(daemon.log)")
        #expect(!daemon.log.contains("1e308") && !daemon.log.contains("1e+308"), "raw values never reach canaryd's own log")
    }

    @Test func rowsOlderThanMaxPastAreRefusedAsTooOld() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        // A first row dated year 0001 made the next day-closing loop walk 739,000 empty days on the
        // engine thread. Now it is refused with its line and field; the plausible row is taken.
        let t = Self.noon(daysAgo: 2)
        let replies = try Self.exchange(daemon, "timestamp,subject,metric,value\n0001-01-01T00:00:00Z,s1,hr,60\n\(t),s1,hr,61\n")
        #expect(replies.count == 2, "\(replies)")
        #expect(replies.first?.hasPrefix("ERR 2 too-old: field 'timestamp': ") == true, "\(replies)")
        #expect(replies.last == "OK accepted=1 rejected=1", "\(replies)")
        #expect(try daemon.stop() == 0)
    }

    @Test func aSubjectWhoseStateCannotBeEncodedIsLeftOutAndTheOthersAreSaved() throws {
        let directory = TestSupport.temporaryFile("unencodable-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(path: directory + "/state.sqlite")
        let systemd = RecordingSystemd()
        let pseudonyms = Pseudonymizer(key: Data(repeating: 7, count: 32))
        // Even where the journal names subjects by id, this report uses the token.
        let consent = try ConsentService(store: store, systemd: systemd, logger: Logger(label: "test"), pseudonyms: pseudonyms,
                                         journalName: { $0 })
        let token = pseudonyms.token(for: "s-unsaveable")

        // A real state for "s-fine"; for "s-unsaveable", a state JSON cannot hold (an infinite value). Ingest can no
        // longer produce one (values are bounded, arithmetic saturates); whatever else might, it costs only that subject.
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink()
        engine.ingest(.sample(SampleRecord(timestamp: 1_767_225_600, subject: "s-fine", metric: "hr", value: 61)), into: &sink)
        var states = engine.takeChanges()
        var bad = SubjectState(clock: ZoneClock(TimeZone(identifier: "UTC")!))
        bad.watermark = .infinity
        states["s-unsaveable"] = SubjectSnapshot(state: bad)

        _ = try consent.save(EngineSnapshot(states: states, sequence: 1), at: 1_767_225_600)
        let saved = try store.loadSubjectStates()
        #expect(saved["s-fine"] != nil)
        #expect(saved["s-unsaveable"] == nil)
        let entries = systemd.journal.filter { $0.contains { $0 == ("CANARY_SUBJECT", token) } }
        #expect(entries.count == 1, "one journal error naming the subject's token: \(systemd.journal)")
        #expect(!systemd.journal.flatMap { $0 }.contains { $0.1.contains("s-unsaveable") }, "the subject's id is never written")

        // Reported once, not at every commit; saved again once it can be.
        _ = try consent.save(EngineSnapshot(states: ["s-unsaveable": SubjectSnapshot(state: bad)], sequence: 2), at: 1_767_225_601)
        #expect(systemd.journal.filter { $0.contains { $0 == ("CANARY_SUBJECT", token) } }.count == 1)
        bad.watermark = 1_767_225_600
        _ = try consent.save(EngineSnapshot(states: ["s-unsaveable": SubjectSnapshot(state: bad)], sequence: 3), at: 1_767_225_602)
        #expect(try store.loadSubjectStates()["s-unsaveable"] != nil)
    }
}
