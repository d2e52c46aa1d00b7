import CanaryCore
import Foundation
import Logging
import Testing
@testable import CanaryDaemon

/// Consent that stays withdrawn and erasure that leaves nothing, tried as a hostile feeder and a careful
/// privacy officer would: real canaryd, real sockets, the real SQLite file.
@Suite(.serialized) struct ConsentTrustTests {
    /// The reference raw rule: every spike is an alert at once, so a live feed keeps deciding alerts.
    static let rawRule = """
    [metrics.default]
    mode = "raw"
    alpha = 0.05
    warmup = 30

    [metrics.default.rule]
    direction = "both"
    threshold = 4.0
    persistence = "1/1"
    cooldown = 0
    episodes = false
    cusum = false

    [gaps]
    samples = "off"
    """

    static func samples(_ subjects: [String], from start: Int, count: Int) -> String {
        var out = "timestamp,subject,metric,value\n"
        for i in start..<(start + count) {
            for s in subjects {
                out += "\(1_767_225_600 + i * 60),\(s),hr,\(i % 97 == 96 ? 160 : 60 + i % 5)\n"
            }
        }
        return out
    }

    static func file(_ text: String) throws -> String {
        let path = TestSupport.temporaryFile("rows.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every regular file under `directory` that contains `needle`, with the file's size.
    static func filesContaining(_ needle: String, under directory: String) -> [String] {
        let bytes = Array(needle.utf8)
        var found: [String] = []
        let walker = FileManager.default.enumerator(atPath: directory)
        while let relative = walker?.nextObject() as? String {
            let path = directory + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            if data.firstRange(of: bytes) != nil { found.append("\(relative) (\(data.count) bytes)") }
        }
        return found
    }

    @Test func aSeededGrantDoesNotComeBackAfterARevokeAnErasureOrAnExpiry() throws {
        let stateDirectory = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let rows = try Self.file(Self.samples(["s1", "s2", "x"], from: 0, count: 3))
        // Every run seeds s1, s2 and x from the configuration.
        let seeded = ["s1", "s2", "x"]

        let first = try DaemonHarness(consent: seeded, stateDirectory: stateDirectory)
        try first.waitReady()
        #expect(try IngestClient(socketPath: first.socketPath).send(path: rows).accepted == 9)
        let control = ControlClient(socketPath: first.controlPath)
        #expect(try control.send(ControlRequest(cmd: .revoke, subject: "s1", by: "dr-a")).ok)
        #expect(try control.send(ControlRequest(cmd: .revoke, subject: "s2", by: "dr-a", erase: true)).revocation?.erased == true)
        #expect(try first.stop() == 0)

        // The next start reads the same seeds: neither the revoked nor the erased subject is enrolled again.
        let second = try DaemonHarness(consent: seeded, stateDirectory: stateDirectory)
        try second.waitReady()
        let outcome = try IngestClient(socketPath: second.socketPath).send(path: rows)
        #expect(outcome.accepted == 3, "only x, never revoked, is admitted: \(outcome.errors.prefix(3))")
        #expect(outcome.errors.filter { $0.contains("no-consent") }.count == 6)
        let c2 = ControlClient(socketPath: second.controlPath)
        let shown = try c2.send(ControlRequest(cmd: .show, subject: "s2"))
        #expect(shown.grants?.isEmpty == true)
        #expect(shown.audit?.map(\.action) == ["grant", "erase"], "the erasure is on record, by token")
        #expect(shown.subject == (try second.token("s2")))

        // An explicit grant does enrol the subject again.
        #expect(try c2.send(ControlRequest(cmd: .grant, subject: "s2", scopes: ["monitor"], reference: "form-2b", by: "dr-a")).ok)
        #expect(try IngestClient(socketPath: second.socketPath).send(path: rows).accepted == 6)
        #expect(try second.stop() == 0)
    }

    @Test func anExpiredSeedIsNotRenewedByARestart() throws {
        let stateDirectory = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let expires = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2))
        let seed = "[[consent.grant]]\nsubject = \"s-exp\"\nscopes = [\"monitor\"]\nreference = \"form-e\"\nexpires = \"\(expires)\"\n"
        let rows = try Self.file(Self.samples(["s-exp"], from: 0, count: 2))
        let first = try DaemonHarness(extraConfig: seed, consent: [], stateDirectory: stateDirectory)
        try first.waitReady()
        #expect(try IngestClient(socketPath: first.socketPath).send(path: rows).accepted == 2)
        sleep(3)
        #expect(try first.stop() == 0)
        // The same seed (now in the past) at the next start: the subject has a history, nothing is re-applied.
        let second = try DaemonHarness(extraConfig: seed.replacingOccurrences(of: expires, with: "2099-01-01T00:00:00Z"),
                                       consent: [], stateDirectory: stateDirectory)
        try second.waitReady()
        #expect(try IngestClient(socketPath: second.socketPath).send(path: rows).accepted == 0)
        let shown = try ControlClient(socketPath: second.controlPath).send(ControlRequest(cmd: .show, subject: "s-exp"))
        #expect(shown.audit?.map(\.action) == ["grant", "expire"])
        #expect(try second.stop() == 0)
    }

    @Test func erasureRacingALiveFeedLeavesNothingInAnyFile() throws {
        let subject = "zz-erase-4711"
        let reference = "form-erase-0099"
        let daemon = try DaemonHarness(extraConfig: Self.rawRule, consent: ["s2"], maxLateness: "1s")
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        #expect(try control.send(ControlRequest(cmd: .grant, subject: subject, scopes: ["monitor", "alert:journal"],
                                                reference: reference, by: "dr-a")).ok)
        let token = try daemon.token(subject)
        let files = try (0..<8).map { try Self.file(Self.samples([subject, "s2"], from: $0 * 5000, count: 5000)) }

        // A live feed, file after file, until told to stop.
        let stop = LockedBox(false)
        let sent = LockedBox(0)
        let feeder = Thread {
            var i = 0
            while !stop.value {
                _ = try? IngestClient(socketPath: daemon.socketPath).send(path: files[i % files.count])
                i += 1
                sent.mutate { $0 = i }
            }
        }
        feeder.start()
        // Alerts about the subject are being decided and delivered when the erasure comes.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !daemon.alerts().contains(where: { ($0["subject"] as? String) == token }) { usleep(50_000) }
        #expect(daemon.alerts().contains { ($0["subject"] as? String) == token }, "the alert log names the subject by token")
        let r = try control.send(ControlRequest(cmd: .revoke, subject: subject, by: "dr-a", erase: true))
        #expect(r.revocation?.erased == true)
        let sentAtErasure = sent.value
        // The feed goes on past the erasure; then it stops and everything owed is delivered.
        while sent.value < sentAtErasure + 3 { usleep(20_000) }
        stop.mutate { $0 = true }
        while !feeder.isFinished { usleep(20_000) }
        sleep(2)
        #expect(!daemon.alerts().contains { ($0["subject"] as? String) == token }, "no alert about the subject is left or delivered after the erasure")
        #expect(daemon.alerts().contains { ($0["subject"] as? String) == (try? daemon.token("s2")) }, "others are unaffected")
        #expect(try daemon.stop() == 0)

        // No byte of the id, nor of the consent reference, in anything canaryd wrote; nor in its own output.
        #expect(Self.filesContaining(subject, under: daemon.directory) == [])
        #expect(Self.filesContaining(reference, under: daemon.directory) == [])
        // With journald off every alert also went to standard error: named by token there too.
        #expect(!daemon.log.contains(subject))
        #expect(daemon.log.contains(try daemon.token("s2")))

        // The database answers the same: nothing of the subject, the erasure on record by token, s2 kept.
        let store = try StateStore(path: daemon.statePath)
        #expect(try store.loadConsent().grants(of: subject).isEmpty)
        #expect(try store.loadSubjectStates()[subject] == nil)
        #expect(try store.loadSubjectStates()["s2"] != nil)
        #expect(try store.deliveries(state: nil, subject: subject, limit: 10_000).isEmpty)
        #expect(try store.auditTrail(token: token).map(\.action) == ["grant", "erase"])
    }

    @Test func alertIDsAreKeyedSoAJournalEntryRevealsNoSubject() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/sleep.csv")).accepted == 189)
        let alerts = try daemon.waitForAlerts(atLeast: 3)
        #expect(try daemon.stop() == 0)
        let identity = AlertIdentity(pseudonymKey: try Data(contentsOf: URL(fileURLWithPath: daemon.stateDirectory + "/pseudonym.key")))
        let candidates = DaemonHarness.defaultConsent
        for a in alerts {
            let id = try #require(a["id"] as? String), rule = try #require(a["rule"] as? String)
            let period = try #require(a["period"] as? String), kind = try #require(AlertKind(rawValue: a["kind"] as? String ?? ""))
            // Whoever holds the journal entry and a list of candidate ids cannot find the subject ...
            #expect(!candidates.contains { Alert.makeID(subject: $0, rule: rule, period: period, kind: kind) == id })
            // ... while the installation's key gives the same id for the same decision, every time.
            #expect(identity.id(subject: "eli", rule: rule, period: period, kind: kind) == id)
        }
    }

    @Test func withoutMonitorNothingIsEvaluatedStoredOrAlerted() throws {
        let daemon = try DaemonHarness(consent: [], maxLateness: "4s")
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        #expect(try control.send(ControlRequest(cmd: .grant, subject: "eli", scopes: ["monitor", "alert:journal"], reference: "f", by: "dr-a")).ok)
        // eli's nights, episode included, arrive newest first (as some exports list them): the stream's data
        // never moves past a day, so every day stays open until the stream has been quiet for max_lateness ...
        let lines = try String(contentsOfFile: TestSupport.root("config/sample/sleep.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let nights = TestSupport.temporaryFile("eli-newest-first.csv")
        try ([lines[0]] + lines.dropFirst().reversed()).joined(separator: "\n").appending("\n")
            .write(toFile: nights, atomically: true, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: nights).accepted == 36)
        // ... when monitor is revoked; alert:journal stays.
        let r = try control.send(ControlRequest(cmd: .revoke, subject: "eli", scopes: ["monitor"], by: "dr-a"))
        #expect(r.revocation?.scopes == ["monitor"])
        try daemon.notify.wait(for: "the subject dropped from the engine") { $0.contains("STATUS=0 subjects") }
        // Well past max_lateness and a gap check: nothing about eli is decided or said.
        sleep(6)
        #expect(daemon.alerts().isEmpty, "\(daemon.alerts().map { $0["rule"] ?? "" })")
        #expect(try daemon.stop() == 0)
        let store = try StateStore(path: daemon.statePath)
        #expect(try store.loadSubjectStates()["eli"] == nil, "the evaluation state is dropped from the database too")
    }

    @Test func anErasureRemovesTheSubjectsLinesFromTheAlertLogAndLaterAlertsStillArrive() throws {
        let log = TestSupport.temporaryFile("alerts.jsonl")
        let router = try AlertRouter(systemd: RecordingSystemd(), journal: "off", alertLog: log,
                                     logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let a = SystemdSeamTests.alert
        for (i, name) in ["ps-aaaa", "ps-bbbb", "ps-aaaa", "ps-aaaab"].enumerated() {
            var alert = a
            alert.period = "2026-03-0\(i + 1)"
            router.deliver(alert, subject: name)
        }
        router.forget(names: ["ps-aaaa", "raw-id"])
        router.deliver(a, subject: "ps-cccc")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let names = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["subject"] as? String }
        #expect(names == ["ps-bbbb", "ps-aaaab", "ps-cccc"], "only the erased subject's lines go; the log goes on")
        let mode = try FileManager.default.attributesOfItem(atPath: log)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: log + ".erasing"))
    }

    @Test func expiryRacingARenewalNeverUndoesTheRenewal() throws {
        let store = try StateStore(path: TestSupport.temporaryFile("race.sqlite"))
        let consent = try ConsentService(store: store, systemd: RecordingSystemd(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                         pseudonyms: Pseudonymizer(key: Data(repeating: 7, count: 32)))
        // Expiry runs again and again as if at t = 1000; each round records a grant already expired then
        // (500) and renews it (5000), then waits until the expiry pass under way has finished.
        let done = LockedBox(false)
        let passes = LockedBox(0)
        let expirer = Thread {
            while !done.value {
                consent.expireDue(now: 1000)
                passes.mutate { $0 += 1 }
            }
        }
        expirer.start()
        var undone = 0
        for _ in 0..<300 {
            _ = try consent.grant(subject: "s1", scopes: [.monitor], reference: "f", by: "t", expiresAt: 500, now: 0)
            _ = try consent.grant(subject: "s1", scopes: [.monitor], reference: "f", by: "t", expiresAt: 5000, now: 0)
            let seen = passes.value
            while passes.value < seen + 2 { usleep(50) }
            // Nothing may have removed the renewal: it is not expired at 1000.
            let saved = try store.loadConsent().grants(of: "s1").first?.expiresAt
            if !consent.allows("s1", .monitor, at: 1000) || saved != 5000 {
                undone += 1
            }
        }
        done.mutate { $0 = true }
        while !expirer.isFinished { usleep(1000) }
        #expect(undone == 0, "a renewal was expired \(undone) times in 300 rounds")
        #expect(try store.loadConsent().grants(of: "s1").first?.expiresAt == 5000, "the renewal is what the database holds")
        // Every expiry on record expired a grant that was due: as many as grants of 500 removed.
        let expired = try store.auditTrail().filter { $0.action == "expire" }
        #expect(expired.allSatisfy { $0.subject.hasPrefix("ps-") && $0.detail.contains("1970-01-01T00:08:20Z") })
    }
}

