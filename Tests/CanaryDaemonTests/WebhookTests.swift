import CanaryCore
import Foundation
import GRDB
import Testing
@testable import CanaryDaemon

/// Webhook delivery with the real daemon, its state database, and a real HTTP receiver
/// (`Fixtures/webhook_receiver.py`) that verifies every signature itself.
@Suite(.serialized) struct WebhookTests {
    /// Raw heart-rate samples: every subject has three spikes, each an alert the moment it is evaluated.
    static func spikes(_ subjects: [String], in directory: String) throws -> String {
        var lines = ["timestamp,subject,metric,value"]
        for s in subjects {
            for i in 0..<80 {
                let spike = [40: 260, 55: 460, 70: 660][i]
                lines.append("\(1_767_225_600 + i * 60),\(s),hr,\(spike ?? 60 + (i * 7 % 11) - 5)")
            }
        }
        let path = directory + "/spikes.csv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func config(_ receiver: WebhookReceiver, backoffMax: String = "0.5s", extra: String = "") -> String {
        """
        [metrics.default]
        mode = "raw"

        [gaps]
        samples = "off"

        [composite]

        [webhooks.clinic]
        url = "\(receiver.url)"
        secret_file = "\(receiver.secretFile)"
        timeout = "2s"
        backoff_initial = "0.2s"
        backoff_max = "\(backoffMax)"
        headers = { X-Clinic = "ward-7" }
        \(extra)
        """
    }

    static let scopes = ["monitor", "alert:journal", "alert:webhook:clinic"]

    /// The deliveries canaryd reports through the control socket.
    static func deliveries(_ daemon: DaemonHarness, state: String? = nil) throws -> [StateStore.DeliveryRecord] {
        let r = try ControlClient(socketPath: daemon.controlPath).send(ControlRequest(cmd: .alertsList, state: state, limit: 1000))
        #expect(r.ok, "\(r.error ?? "")")
        return r.deliveries ?? []
    }

    @Test func aReceiverThatIsDownThenUpGetsEveryAlertOnceInOrderPerSubject() throws {
        let subjects = ["s1", "s2", "ana", "ben", "chen"]
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver), consent: subjects, scopes: Self.scopes)
        try daemon.waitReady()
        let data = try Self.spikes(subjects, in: daemon.directory)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: data).accepted == 400)

        // Down: every alert is owed and retried (connection refused), none lost.
        let journal = try daemon.waitForAlerts(atLeast: 15)
        sleep(2)
        let owed = try Self.deliveries(daemon, state: "pending").filter { $0.channel == "webhook:clinic" }
        #expect(owed.count == 15)
        // One attempt at a time per subject: the oldest alert of each is being retried, the others wait behind it.
        let heads = owed.filter { $0.attempts > 0 }
        #expect(heads.count == 5 && Set(heads.map(\.subject)).count == 5)
        #expect(heads.allSatisfy { $0.detail == "connection failed: Connection refused" }, "\(heads.map { $0.detail ?? "" })")

        // Up: each alert arrives exactly once per id, signed, in emission order per subject.
        try receiver.start()
        let got = try receiver.waitForAccepted(15)
        sleep(1)
        let all = receiver.requests
        #expect(all.count == 15, "no alert is sent again once accepted")
        #expect(Set(got.map(\.id)).count == 15)
        #expect(Set(got.map(\.id)) == Set(journal.map { "\($0["id"]!)" }), "the webhook gets what the journal got, by the same ids")
        #expect(all.allSatisfy { $0.verified && $0.fresh }, "the receiver verified every signature and timestamp")
        #expect(all.allSatisfy { $0.extraHeader == "ward-7" && $0.contentType == "application/json" })
        for s in subjects {
            let token = try daemon.token(s)
            let seen = got.filter { $0.subject == token }.map { $0.body?["period_start"] as? Double ?? 0 }
            #expect(seen.count == 3, "\(s): three alerts under its token")
            #expect(seen == seen.sorted(), "\(s): in emission order")
        }
        // The body: versioned, the subject as a token, the alert's own fields.
        let body = try #require(got.first?.body)
        #expect(body["type"] as? String == "canary.alert" && body["version"] as? Int == 1)
        #expect(body["id"] as? String == got.first?.id, "webhook-id is the alert id")
        #expect((body["subject"] as? String)?.hasPrefix("ps-") == true)
        for key in ["kind", "severity", "rule", "features", "value", "baseline", "scale", "z", "period", "explanation", "emitted_at", "canary_version"] {
            #expect(body[key] != nil, "the body has \(key)")
        }
        let delivered = try Self.deliveries(daemon, state: "delivered").filter { $0.channel == "webhook:clinic" }
        #expect(delivered.count == 15 && delivered.allSatisfy { $0.status == 200 })
        #expect(try Self.deliveries(daemon, state: "pending").isEmpty)
        #expect(try daemon.stop() == 0)
        let operational = daemon.log.split(separator: "\n").filter { $0.contains(" canaryd: ") }
        #expect(!operational.isEmpty && operational.allSatisfy { !$0.contains("s1") && !$0.contains("chen") }, "no raw subject id in the daemon's own log")
    }

    /// Issue 9: a receiver answering with an absurd `Retry-After` (an HTTP-date whose hour overflows any integer,
    /// a 20-digit delay, a date in the year 9999) must neither crash canaryd nor postpone the delivery past
    /// `backoff_max`: the daemon keeps running and the alert is delivered once the receiver takes it.
    @Test func aHostileRetryAfterNeitherCrashesCanarydNorPostponesDeliveryPastBackoffMax() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        let hostile = ["Sun, 06 Nov 1994 9999999999999999:00:00 GMT", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT",
                       "Sun, 06 Nov 9999999999999999 08:49:37 GMT"]
        try receiver.plan(sequence: hostile.map { (503, $0) }, default: 200)
        try receiver.start()
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver), consent: ["s1"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        let accepted = try receiver.waitForAccepted(3)
        #expect(daemon.process.isRunning, "canaryd survived every Retry-After")
        let r = receiver.requests
        #expect(r.prefix(4).map(\.status) == [503, 503, 503, 503] && r.count == 7)
        #expect(Set(r.prefix(5).map(\.id)).count == 1, "the first alert was retried until it was taken")
        for i in 1..<5 {
            #expect(r[i].received - r[i - 1].received < 1.5, "Retry-After clamped to backoff_max 0.5 s (waited \(r[i].received - r[i - 1].received) s)")
        }
        #expect(Set(accepted.map(\.id)).count == 3, "every alert delivered once")
        let delivered = try Self.deliveries(daemon, state: "delivered").filter { $0.channel == "webhook:clinic" }
        #expect(delivered.count == 3)
        #expect(try daemon.stop() == 0)
    }

    @Test func retriesHonourRetryAfterAndPermanentFailuresAreDeadLettered() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        // One subject, one lane: its three alerts go one after another. The first is refused with 500 and then
        // taken; the second is told to come back in 2 s (longer than the backoff, within backoff_max) and then taken;
        // the third gets 410.
        try receiver.plan(sequence: [(500, nil), (200, nil), (429, "2"), (200, nil), (410, nil)], default: 200)
        try receiver.start()
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, backoffMax: "3s"), consent: ["s1"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        try receiver.waitForRequests(5)
        sleep(1)
        let r = receiver.requests
        #expect(r.map(\.status) == [500, 200, 429, 200, 410])
        #expect(r[0].id == r[1].id && r[2].id == r[3].id && Set(r.map(\.id)).count == 3, "a retry carries the same id")
        #expect(r[3].received - r[2].received >= 1.9, "Retry-After: 2 was honoured (waited \(r[3].received - r[2].received) s)")
        #expect(r[1].received - r[0].received < 1.5, "a 500 is retried after the backoff")
        #expect(r[0].body?["emitted_at"] as? String == r[1].body?["emitted_at"] as? String, "the retried body is the same")

        // The 410 is permanent: a dead letter, with its status, and no further attempt.
        let dead = try Self.deliveries(daemon, state: "dead")
        #expect(dead.count == 1)
        #expect(dead.first?.alertID == r[4].id && dead.first?.status == 410 && dead.first?.channel == "webhook:clinic")
        #expect(dead.first?.detail?.contains("HTTP 410") == true)
        if getuid() == 0 && LibSystemd().journalSocketPresent() {
            // The journal error names the webhook and the status (scripts/test.sh runs a journald as root).
            let entries = try JournaldTests.entries(["MESSAGE_ID=\(MessageID.deliveryDead)", "CANARY_ALERT_ID=\(r[4].id)",
                                                     "_PID=\(daemon.pid)"])
            #expect(entries.count == 1)
            #expect(entries.first?["CANARY_WEBHOOK"] as? String == "clinic")
            #expect(entries.first?["CANARY_HTTP_STATUS"] as? String == "410")
            #expect(entries.first?["PRIORITY"] as? String == "3")
            #expect((entries.first?["CANARY_SUBJECT"] as? String)?.hasPrefix("ps-") == true)
        }

        // An operator re-drives it (after fixing the receiver): delivered once.
        let retry = try ControlClient(socketPath: daemon.controlPath).send(ControlRequest(cmd: .alertsRetry, alert: r[4].id))
        #expect(retry.requeued == 1)
        try receiver.waitForAccepted(3)
        #expect(receiver.requests.count == 6)
        #expect(try Self.deliveries(daemon, state: "dead").isEmpty)
        let show = try ControlClient(socketPath: daemon.controlPath).send(ControlRequest(cmd: .alertsShow, alert: r[4].id))
        #expect(show.alertBody?.id == r[4].id)
        #expect(show.deliveries?.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.delivered, .delivered], "journal and webhook")
        #expect(try daemon.stop() == 0)
    }

    @Test func aRestartAfterACrashWithABacklogResumesIt() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        let state = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try DaemonHarness(extraConfig: Self.config(receiver), consent: ["s1", "s2"], scopes: Self.scopes, stateDirectory: state)
        try first.waitReady()
        #expect(try IngestClient(socketPath: first.socketPath).send(path: try Self.spikes(["s1", "s2"], in: first.directory)).accepted == 160)
        _ = try first.waitForAlerts(atLeast: 6)
        sleep(1)
        // Killed, not stopped: the backlog was committed with the state that decided it.
        first.signal(SIGKILL)
        _ = try first.waitExit()
        let journalIDs = Set(first.alerts().map { "\($0["id"]!)" })

        // The next run finds the backlog in the outbox and delivers it; the journal does not repeat itself.
        try receiver.start()
        let second = try DaemonHarness(extraConfig: Self.config(receiver), consent: ["s1", "s2"], scopes: Self.scopes, stateDirectory: state)
        try second.waitReady()
        let got = try receiver.waitForAccepted(6)
        sleep(1)
        #expect(receiver.requests.count == 6)
        #expect(Set(got.map(\.id)) == journalIDs)
        #expect(second.alerts().isEmpty, "journal deliveries were made by the first run and are not made again")
        #expect(try second.stop() == 0)
    }

    @Test func aRevokedSubjectsBacklogIsDroppedAndAnErasedOneIsGone() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver), consent: ["s1", "s2", "ana"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1", "s2", "ana"], in: daemon.directory)).accepted == 240)
        _ = try daemon.waitForAlerts(atLeast: 9)
        let control = ControlClient(socketPath: daemon.controlPath)
        // s1 withdraws webhook consent; ana withdraws everything and asks to be forgotten.
        #expect(try control.send(ControlRequest(cmd: .revoke, subject: "s1", scopes: ["alert:webhook:clinic"], by: "dr-a")).ok)
        let erased = try control.send(ControlRequest(cmd: .revoke, subject: "ana", by: "dr-a", erase: true))
        #expect(erased.revocation?.alertsDeleted == 3)
        #expect(erased.revocation?.undeliveredDeleted == 3, "ana's three webhook deliveries were still owed")

        try receiver.start()
        let got = try receiver.waitForAccepted(3)
        sleep(2)
        let s1Token = try daemon.token("s1")
        #expect(receiver.requests.count == 3, "only s2's alerts are sent: \(receiver.requests.map { ($0.subject, $0.status) }), s1 \(s1Token)")
        #expect(Set(got.map(\.subject)) == [try daemon.token("s2")])
        let dead = try Self.deliveries(daemon, state: "dead")
        #expect(dead.count == 3 && dead.allSatisfy { $0.subject == "s1" && ($0.detail ?? "").contains("withdrawn") })
        #expect(try Self.deliveries(daemon).allSatisfy { $0.subject != "ana" }, "nothing of ana is kept")
        // Checked in the database file itself.
        let db = try DatabaseQueue(path: daemon.statePath)
        let anaRows = try db.read { db in
            try Int.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM alert WHERE subject = 'ana') + (SELECT COUNT(*) FROM subject_state WHERE subject = 'ana')
                     + (SELECT COUNT(*) FROM consent WHERE subject = 'ana')
                """) ?? -1
        }
        #expect(anaRows == 0)
        #expect(try daemon.stop() == 0)
    }

    @Test func anAlertGoesOnlyToTheWebhooksThatTakeItsKind() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        try receiver.start()
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, extra: "kinds = [\"gap\"]"), consent: ["s1"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        _ = try daemon.waitForAlerts(atLeast: 3)
        sleep(1)
        #expect(receiver.requests.isEmpty, "deviations are not this webhook's kind")
        #expect(try Self.deliveries(daemon).allSatisfy { $0.channel == "journal" })
        #expect(try daemon.stop() == 0)
    }

    @Test func aWebhookAddedByAReloadTakesTheNextAlertsAndAMissingSecretIsRefused() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        try receiver.start()
        let base = "[metrics.default]\nmode = \"raw\"\n\n[gaps]\nsamples = \"off\"\n\n[composite]\n"
        let daemon = try DaemonHarness(extraConfig: base, consent: ["s1", "s2"], scopes: Self.scopes)
        try daemon.waitReady()
        let original = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        _ = try daemon.waitForAlerts(atLeast: 3)

        // systemctl reload with a webhook added: alerts from then on go to it too.
        let webhook = Self.config(receiver).components(separatedBy: "[webhooks.clinic]")[1]
        try (original + "\n[webhooks.clinic]" + webhook).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.notify.wait(for: "READY after reload") { $0.contains("READY=1") && $0.contains("configuration reloaded") }
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s2"], in: daemon.directory)).accepted == 80)
        let got = try receiver.waitForAccepted(3)
        #expect(Set(got.map(\.subject)) == [try daemon.token("s2")], "only the alerts decided after the reload")

        // A webhook whose secret cannot be read: the reload is refused with the key, the old configuration stays.
        try (original + "\n[webhooks.clinic]" + webhook.replacingOccurrences(of: receiver.secretFile, with: "/nonexistent/secret"))
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let refused = try daemon.notify.wait(for: "a refused reload") { $0.contains("reload refused") }
        #expect(refused.contains("webhooks.clinic.secret_file"))
        #expect(try daemon.stop() == 0)
    }

    @Test func httpsIsVerifiedByDefault() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        try receiver.useSelfSignedTLS()
        try receiver.start()
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver), consent: ["s1"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        _ = try daemon.waitForAlerts(atLeast: 3)
        sleep(2)
        // The receiver's certificate is self-signed: nothing is sent to it, the alerts stay owed, and the reason says why.
        #expect(receiver.requests.isEmpty)
        let owed = try Self.deliveries(daemon, state: "pending").filter { $0.attempts > 0 }
        #expect(owed.count == 1)
        #expect(owed.first.map { ($0.detail ?? "").lowercased().contains("certificate") } == true, "\(owed.first?.detail ?? "")")
        #expect(try daemon.stop() == 0)
    }

    @Test func alertsOlderThanMaxAgeAreDeadLettered() throws {
        let directory = TestSupport.temporaryFile("wh")
        let receiver = try WebhookReceiver(directory: (directory as NSString).deletingLastPathComponent)
        // Nobody listens; the webhook gives up on an alert one second after it was emitted.
        let daemon = try DaemonHarness(extraConfig: Self.config(receiver, extra: "max_age = \"1s\""), consent: ["s1"], scopes: Self.scopes)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: try Self.spikes(["s1"], in: daemon.directory)).accepted == 80)
        _ = try daemon.waitForAlerts(atLeast: 3)
        sleep(3)
        let dead = try Self.deliveries(daemon, state: "dead")
        #expect(dead.count == 3, "\(dead.map { $0.detail ?? "" })")
        #expect(dead.allSatisfy { ($0.detail ?? "").contains("max_age") })
        #expect(try Self.deliveries(daemon, state: "pending").isEmpty)
        #expect(try daemon.stop() == 0)
    }
}
