import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `notify = "grouped"` webhooks with the real daemon and the real receiver: one signed
/// `canary.notification` per person instead of one request per alert, from the same durable outbox.
@Suite(.serialized) struct GroupedNotificationTests {
    static let subjects = ["ana", "ben", "chen", "dara", "eli"]

    static func config(_ receiver: WebhookReceiver, wait: String, interval: String = "24h", repeatEvery: String = "0s") -> String {
        DaemonLifecycleTests.noGaps + """

        [webhooks.clinic]
        url = "\(receiver.url)"
        secret_file = "\(receiver.secretFile)"
        timeout = "2s"
        backoff_initial = "0.2s"
        backoff_max = "0.5s"
        notify = "grouped"
        group_wait = "\(wait)"
        group_interval = "\(interval)"
        repeat_interval = "\(repeatEvery)"
        """
    }

    /// The alert ids each subject's notifications carried, in order, and the notifications' bodies.
    /// Waits for at least `count` alerts, then (up to `timeout` seconds) until the delivered notifications
    /// carry every one of them; returns the alerts and their ids.
    static func waitUntilCarried(atLeast count: Int, daemon: DaemonHarness, receiver: WebhookReceiver,
                                 timeout: Double) throws -> (alerts: [[String: Any]], ids: Set<String>) {
        _ = try daemon.waitForAlerts(atLeast: count)
        sleep(1)
        let alerts = daemon.alerts()
        let all = Set(alerts.map { "\($0["id"]!)" })
        let deadline = Date().addingTimeInterval(timeout)
        while Set(carried(receiver.requests).values.flatMap { $0 }) != all && Date() < deadline { usleep(200_000) }
        return (alerts, all)
    }

    static func carried(_ requests: [WebhookReceiver.Request]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for r in requests where (200...299).contains(r.status) {
            out[r.subject, default: []] += (r.body?["alerts"] as? [String]) ?? []
        }
        return out
    }

    @Test func theSampleEpisodeGivesAHandfulOfNotificationsCarryingEveryAlertOnce() throws {
        let receiver = try WebhookReceiver(directory: (TestSupport.temporaryFile("gn") as NSString).deletingLastPathComponent)
        try receiver.start()
        defer { receiver.stop() }
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, wait: "1s", interval: "3s"), consent: Self.subjects,
                                       scopes: WebhookTests.scopes)
        try daemon.waitReady()
        // The whole sample set, one file after the other, as a feeder would send it.
        for file in ReportTests.sample { #expect(try IngestClient(socketPath: daemon.socketPath).send(path: file).rejected == 0) }
        // Updates come at most every group_interval: wait until every alert was carried.
        let (alerts, all) = try Self.waitUntilCarried(atLeast: 22, daemon: daemon, receiver: receiver, timeout: 30)
        let requests = receiver.requests
        // A handful of messages instead of one per alert.
        #expect(!requests.isEmpty && requests.count <= 5, "\(requests.count) notifications for \(alerts.count) alerts")
        // At most one message per person per group_interval (3 s).
        for subject in Set(requests.map(\.subject)) {
            let times = requests.filter { $0.subject == subject }.map(\.received)
            for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= 2.9, "\(subject): \(times)") }
        }
        print("grouped: \(requests.count) notifications for \(alerts.count) alerts and resolved events")
        #expect(requests.allSatisfy { $0.verified && $0.body?["type"] as? String == "canary.notification" && $0.body?["version"] as? Int == 1 })
        // Every alert reached the webhook exactly once, in a notification about its own subject.
        let bySubject = Self.carried(requests)
        let sent = bySubject.values.flatMap { $0 }
        #expect(sent.count == Set(sent).count, "an alert was carried twice")
        #expect(Set(sent) == all)
        for (subject, ids) in bySubject {
            let own = Set(alerts.filter { "\($0["subject"]!)" == subject }.map { "\($0["id"]!)" })
            #expect(Set(ids) == own, "\(subject)")
        }
        // The episode ended within the data: the person's last message says all is back to usual.
        let eli = try daemon.token("eli")
        let last = try #require(requests.last { $0.subject == eli })
        #expect(last.body?["status"] as? String == "resolved")
        #expect((last.body?["deviating"] as? [Any])?.isEmpty == true)
        #expect((last.body?["summary"] as? String) == "all back to usual")
        let resolved = requests.filter { $0.subject == eli }.flatMap { ($0.body?["resolved"] as? [[String: Any]]) ?? [] }
        #expect(resolved.allSatisfy { ($0["explanation"] as? String)?.isEmpty == false })
        // The deliveries are recorded per alert, as for any webhook.
        let records = try WebhookTests.deliveries(daemon).filter { $0.channel == "webhook:clinic" }
        #expect(records.count == alerts.count && records.allSatisfy { $0.state == .delivered })
        #expect(try daemon.stop() == 0)
    }

    @Test func aRestartInTheMiddleOfAGroupLosesAndRepeatsNothing() throws {
        let receiver = try WebhookReceiver(directory: (TestSupport.temporaryFile("gn") as NSString).deletingLastPathComponent)
        try receiver.start()
        defer { receiver.stop() }
        let state = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try DaemonHarness(extraConfig: Self.config(receiver, wait: "5s"), consent: Self.subjects, scopes: WebhookTests.scopes,
                                      stateDirectory: state)
        try first.waitReady()
        #expect(try IngestClient(socketPath: first.socketPath).send(path: DaemonLifecycleTests.sleepFile).accepted == 189)
        let alerts = try first.waitForAlerts(atLeast: 10)
        // Within group_wait: committed, nothing sent yet. Killed there.
        #expect(receiver.requests.isEmpty)
        first.signal(SIGKILL)
        _ = try first.waitExit()

        let second = try DaemonHarness(extraConfig: Self.config(receiver, wait: "5s"), consent: Self.subjects, scopes: WebhookTests.scopes,
                                       stateDirectory: state)
        try second.waitReady()
        let subjects = Set(alerts.map { "\($0["subject"]!)" })
        _ = try receiver.waitForAccepted(subjects.count, timeout: 20)
        sleep(1)
        let sent = Self.carried(receiver.requests).values.flatMap { $0 }
        #expect(sent.count == Set(sent).count, "an alert was carried twice")
        #expect(Set(sent) == Set(alerts.map { "\($0["id"]!)" }), "every alert committed before the kill was notified after the restart")
        #expect(Set(receiver.requests.compactMap { $0.body?["id"] as? String }).count == receiver.requests.count)
        #expect(try second.stop() == 0)
    }

    /// While something stays open and nothing changes, a reminder every repeat_interval: the same open
    /// alerts, nothing new, marked as a reminder.
    @Test func anOpenEpisodeWithNothingNewGetsAReminderEveryRepeatInterval() throws {
        let receiver = try WebhookReceiver(directory: (TestSupport.temporaryFile("gn") as NSString).deletingLastPathComponent)
        try receiver.start()
        defer { receiver.stop() }
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, wait: "1s", interval: "1s", repeatEvery: "2s"), consent: Self.subjects,
                                       scopes: WebhookTests.scopes)
        try daemon.waitReady()
        // eli's nights up to 2026-03-29 only: the episode is still open at the end of the data.
        let lines = try String(contentsOfFile: DaemonLifecycleTests.sleepFile, encoding: .utf8).split(separator: "\n")
        let open = lines.filter { !($0.hasPrefix("eli,") && String($0.split(separator: ",")[1]) >= "2026-03-29T12") }
        let file = daemon.directory + "/sleep-open.csv"
        try (open.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: file).rejected == 0)
        _ = try daemon.waitForAlerts(atLeast: 3)
        let eli = try daemon.token("eli")
        let deadline = Date().addingTimeInterval(20)
        while receiver.requests.filter({ $0.subject == eli && $0.body?["reminder"] as? Bool == true }).count < 2 && Date() < deadline { usleep(200_000) }
        let mine = receiver.requests.filter { $0.subject == eli }
        let first = try #require(mine.first)
        #expect(first.body?["status"] as? String == "firing" && first.body?["reminder"] as? Bool == false)
        let reminders = mine.filter { $0.body?["reminder"] as? Bool == true }
        #expect(reminders.count >= 2, "\(mine.map { ($0.received, $0.body?["summary"] ?? "") })")
        for r in reminders {
            #expect(r.verified && r.body?["status"] as? String == "firing" && (r.body?["alerts"] as? [Any])?.isEmpty == true)
            #expect((r.body?["deviating"] as? [Any])?.isEmpty == false)
            #expect((r.body?["summary"] as? String)?.hasPrefix("still deviating, nothing new") == true)
        }
        // Updates at most every group_interval (1 s); a reminder only repeat_interval (2 s) after the last message.
        for (a, b) in zip(mine, mine.dropFirst()) {
            let gap = b.received - a.received
            #expect(gap >= (b.body?["reminder"] as? Bool == true ? 1.9 : 0.9), "\(mine.map { ($0.received, $0.body?["summary"] ?? "") })")
        }
        #expect(Set(mine.compactMap { $0.body?["id"] as? String }).count == mine.count)
        #expect(try daemon.stop() == 0)
    }

    /// A notification that failed is retried as it was: the same alerts under the same id, whatever was
    /// decided meanwhile (that goes in the next one).
    @Test func aRetriedNotificationCarriesTheSameAlertsUnderTheSameID() throws {
        let receiver = try WebhookReceiver(directory: (TestSupport.temporaryFile("gn") as NSString).deletingLastPathComponent)
        try receiver.plan(sequence: [(503, "2")], default: 200)
        try receiver.start()
        defer { receiver.stop() }
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, wait: "1s", interval: "1s"), consent: ["eli"], scopes: WebhookTests.scopes)
        try daemon.waitReady()
        let lines = try String(contentsOfFile: DaemonLifecycleTests.sleepFile, encoding: .utf8).split(separator: "\n")
        let eli = lines.filter { $0.hasPrefix("eli,") }
        let cut = eli.firstIndex { String($0.split(separator: ",")[1]) >= "2026-03-29T12" }!
        let first = daemon.directory + "/a.csv", second = daemon.directory + "/b.csv"
        try ([lines[0]] + eli[..<cut]).joined(separator: "\n").appending("\n").write(toFile: first, atomically: true, encoding: .utf8)
        try ([lines[0]] + eli[cut...]).joined(separator: "\n").appending("\n").write(toFile: second, atomically: true, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: first).rejected == 0)
        try receiver.waitForRequests(1, timeout: 15)
        // Refused with Retry-After: 2. Meanwhile the rest of the nights, and the resolved events.
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: second).rejected == 0)
        let (_, all) = try Self.waitUntilCarried(atLeast: 5, daemon: daemon, receiver: receiver, timeout: 20)
        let r = receiver.requests
        #expect(r.count >= 3 && r[0].status == 503 && r[1].status == 200, "\(r.map(\.status))")
        if r.count >= 2 {
            #expect(r[0].id == r[1].id)
            #expect(r[0].body?["alerts"] as? [String] == r[1].body?["alerts"] as? [String])
            // What was decided during the retry's wait went in a later message.
            #expect(((r[1].body?["alerts"] as? [String]) ?? []).count < all.count)
        }
        let sent = Self.carried(r).values.flatMap { $0 }
        #expect(sent.count == Set(sent).count && Set(sent) == all)
        #expect(try daemon.stop() == 0)
    }
}
