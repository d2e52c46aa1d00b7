import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Consent with the real daemon, control socket and state database.
@Suite(.serialized) struct ConsentTests {
    static let header = "timestamp,subject,metric,value\n"

    static func file(_ name: String, _ text: String) throws -> String {
        let path = TestSupport.temporaryFile(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func rowsWithoutMonitorConsentAreRefusedAndNothingOfThemIsKept() throws {
        let daemon = try DaemonHarness(consent: ["s1"])
        try daemon.waitReady()
        let data = try Self.file("mixed.csv", Self.header + "1767225600,s1,hr,60\n1767225600,s9,hr,61\n1767225660,s1,hr,62\n")
        var errors: [String] = []
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: data)
        errors = outcome.errors
        #expect(outcome.accepted == 2 && outcome.rejected == 1)
        #expect(errors == ["ERR 3 no-consent: no active monitor consent for this subject; nothing of the row was kept"])
        try daemon.notify.wait(for: "one subject held") { $0.contains("STATUS=1 subjects, 2 rows ingested") }
        #expect(try daemon.stop() == 0)
    }

    @Test func grantRevokeAndEraseThroughTheControlSocket() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, consent: [])
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        let sleep = TestSupport.root("config/sample/sleep.csv")

        // Nobody consented yet: every row is refused.
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: sleep).accepted == 0)

        // eli agrees to be monitored, but not (yet) to journal alerts: nothing is said about eli.
        var r = try control.send(ControlRequest(cmd: .grant, subject: "eli", scopes: ["monitor"], reference: "form-7", by: "dr-a"))
        #expect(r.ok && r.grants?.count == 1)
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: sleep)
        #expect(outcome.accepted == 36 && outcome.rejected == 153)
        sleep3()
        #expect(daemon.alerts().isEmpty, "no alert without alert:journal consent")

        // Show lists the grant and its audit trail.
        r = try control.send(ControlRequest(cmd: .show, subject: "eli"))
        #expect(r.grants?.map(\.scope) == ["monitor"])
        #expect(r.audit?.map(\.action) == ["grant"])
        #expect(r.audit?.first?.actor == "dr-a (uid \(getuid()))")

        // Erasure: everything held goes, and the report says what.
        r = try control.send(ControlRequest(cmd: .revoke, subject: "eli", by: "dr-a", erase: true))
        #expect(r.revocation?.erased == true)
        #expect(r.revocation?.consentRowsDeleted == 1)
        #expect(r.revocation?.engineStateDeleted == true)
        r = try control.send(ControlRequest(cmd: .show, subject: "eli"))
        #expect(r.grants?.isEmpty == true)
        #expect(r.audit?.map(\.action) == ["grant", "erase"])
        try daemon.notify.wait(for: "no subject held after the erasure") { $0.contains("STATUS=0 subjects") }

        // Unknown scopes and missing references are refused with a reason.
        r = try control.send(ControlRequest(cmd: .grant, subject: "eli", scopes: ["everything"], reference: "x"))
        #expect(!r.ok && r.error?.contains("unknown scope") == true)
        r = try control.send(ControlRequest(cmd: .grant, subject: "eli", scopes: ["monitor"]))
        #expect(!r.ok && r.error?.contains("reference") == true)
        #expect(try daemon.stop() == 0)

        // In the database file itself: no consent row for eli; the audit trail kept both events.
        let store = try StateStore(path: daemon.statePath)
        #expect(try store.loadConsent().grants(of: "eli").isEmpty)
        #expect(try store.loadSubjectStates()["eli"] == nil, "no saved evaluation state survives the erasure")
        #expect(try store.auditTrail(token: daemon.token("eli")).map(\.action) == ["grant", "erase"])
        #expect(try store.auditTrail().allSatisfy { $0.subject.hasPrefix("ps-") && $0.reference.isEmpty }, "by token, references gone with the erasure")
        // Owner-only files.
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.statePath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directory = try FileManager.default.attributesOfItem(atPath: (daemon.statePath as NSString).deletingLastPathComponent)
        #expect((directory[.posixPermissions] as? Int) == 0o700)
    }

    @Test func alertsGoOnlyToConsentedChannelsAndStopOnRevocation() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, consent: [])
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        _ = try control.send(ControlRequest(cmd: .grant, subject: "eli", scopes: ["monitor", "alert:journal"], reference: "f"))
        _ = try control.send(ControlRequest(cmd: .grant, subject: "ana", scopes: ["monitor"], reference: "f"))
        let sleep = TestSupport.root("config/sample/sleep.csv")
        let consented = try String(contentsOfFile: sleep, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("eli,") || $0.hasPrefix("ana,") }.count
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: sleep).accepted == consented)
        let alerts = try daemon.waitForAlerts(atLeast: 1)
        #expect(alerts.allSatisfy { ($0["subject"] as? String) == (try? daemon.token("eli")) })

        // Revoked: later alerts about eli are not emitted anywhere.
        _ = try control.send(ControlRequest(cmd: .revoke, subject: "eli", scopes: ["alert:journal"], by: "eli"))
        let before = daemon.alerts().count
        let later = try Self.file("later.csv", "subject,start,end\n" + (0..<25).map {
            "eli,\(1_780_000_000 + $0 * 86_400),\(1_780_000_000 + $0 * 86_400 + ($0 > 20 ? 3600 : 27_000))"
        }.joined(separator: "\n") + "\n")
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: later).accepted == 25)
        sleep3()
        #expect(daemon.alerts().count == before)
        #expect(try daemon.stop() == 0)
    }

    @Test func expiryIsHonouredWithoutARestartAndAudited() throws {
        let daemon = try DaemonHarness(consent: [])
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        let r = try control.send(ControlRequest(cmd: .grant, subject: "s1", scopes: ["monitor"], reference: "f",
                                                expires: Date().timeIntervalSince1970 + 2))
        #expect(r.ok)
        let data = try Self.file("rows.csv", Self.header + "1767225600,s1,hr,60\n")
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: data).accepted == 1)
        sleep3()
        let after = try IngestClient(socketPath: daemon.socketPath).send(path: data)
        #expect(after.accepted == 0 && after.errors.first?.contains("no-consent") == true)
        let shown = try control.send(ControlRequest(cmd: .show, subject: "s1"))
        #expect(shown.audit?.map(\.action) == ["grant", "expire"])
        #expect(try daemon.stop() == 0)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run a client as another user"))
    func theControlSocketRefusesOtherUsers() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()
        chmod(daemon.controlPath, 0o666)  // let the other user reach it: the peer check must still refuse
        // canaryd may refuse (and close) before the request is written: the refusal is still there to read.
        let reply = try TestSupport.runAsNobody(python:
            "import socket\ns=socket.socket(socket.AF_UNIX); s.connect('\(daemon.controlPath)')\ntry: s.sendall(b'{\"cmd\":\"list\"}\\n')\nexcept BrokenPipeError: pass\nprint(s.recv(4096).decode(), end='')")
        #expect(reply.contains("\"ok\":false") && reply.contains("unauthorized"), "\(reply)")
        #expect(try daemon.stop() == 0)
    }

    @Test(.enabled(if: getuid() == 0 && LibSystemd().journalSocketPresent(), "needs root and a running journald"))
    func consentChangesAreAuditEntriesInTheJournal() throws {
        let subject = "p-\(UUID().uuidString.prefix(8).lowercased())"
        let daemon = try DaemonHarness(consent: [])
        try daemon.waitReady()
        let control = ControlClient(socketPath: daemon.controlPath)
        _ = try control.send(ControlRequest(cmd: .grant, subject: subject, scopes: ["monitor", "alert:journal"], reference: "form-9", by: "dr-b"))
        _ = try control.send(ControlRequest(cmd: .revoke, subject: subject, by: "dr-b"))
        #expect(try daemon.stop() == 0)
        let entries = try JournaldTests.entries(["MESSAGE_ID=\(MessageID.consentAudit)", "CANARY_SUBJECT=\(try daemon.token(subject))"])
        #expect(entries.compactMap { $0["CANARY_CONSENT"] as? String } == ["grant alert:journal,monitor", "revoke alert:journal,monitor"])
        #expect(entries.allSatisfy { ($0["CANARY_ACTOR"] as? String) == "dr-b (uid \(getuid()))" })
        // No consent reference (a form id can name the person) and no subject id in the audit entries.
        #expect(entries.allSatisfy { $0["CANARY_REFERENCE"] == nil && !"\($0["MESSAGE"] ?? "")".contains("form-9") })
        #expect(entries.allSatisfy { !"\($0["MESSAGE"] ?? "")".contains(subject) })
    }

    private func sleep3() { sleep(3) }
}
