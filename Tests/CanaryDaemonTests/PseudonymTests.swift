import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

@Suite(.serialized) struct PseudonymTests {
    @Test func theKeyIsGeneratedOnceOwnerOnlyAndTokensAreStable() throws {
        let path = TestSupport.temporaryFile("keys/pseudonym.key")
        let key = try Pseudonymizer.loadKey(path: path, environment: [:])
        #expect(key.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try Pseudonymizer.loadKey(path: path, environment: [:]) == key, "a second start reads the same key")
        let p = Pseudonymizer(key: key)
        #expect(p.token(for: "s042") == p.token(for: "s042"))
        #expect(p.token(for: "s042") != p.token(for: "s043"))
        #expect(p.token(for: "s042").hasPrefix("ps-") && p.token(for: "s042").count == 23)
        #expect(Pseudonymizer(key: Data(repeating: 7, count: 32)).token(for: "s042") != p.token(for: "s042"), "keyed")
    }

    @Test func aSystemdCredentialTakesPrecedence() throws {
        let dir = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent + "/creds"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let credential = Data(repeating: 42, count: 32)
        try credential.write(to: URL(fileURLWithPath: dir + "/pseudonym-key"))
        let path = TestSupport.temporaryFile("pseudonym.key")
        #expect(try Pseudonymizer.loadKey(path: path, environment: ["CREDENTIALS_DIRECTORY": dir]) == credential)
        #expect(!FileManager.default.fileExists(atPath: path), "no key file is generated when a credential is passed")
    }

    @Test func tokensSurviveARestartAndResolveForAnOperator() throws {
        let keyFile = TestSupport.temporaryFile("restart/pseudonym.key")
        let first = try DaemonHarness(keyFile: keyFile)
        try first.waitReady()
        let token = try first.token("eli", keyFile: keyFile)
        let resolved = try ControlClient(socketPath: first.controlPath).send(ControlRequest(cmd: .resolve, token: token))
        #expect(resolved.subject == "eli")
        #expect(try first.stop() == 0)

        let second = try DaemonHarness(keyFile: keyFile)
        try second.waitReady()
        #expect(try second.token("eli", keyFile: keyFile) == token)
        let again = try ControlClient(socketPath: second.controlPath).send(ControlRequest(cmd: .resolve, token: token))
        #expect(again.subject == "eli")
        let unknown = try ControlClient(socketPath: second.controlPath).send(ControlRequest(cmd: .resolve, token: "ps-0000"))
        #expect(!unknown.ok)
        #expect(try second.stop() == 0)
    }

    @Test(.enabled(if: getuid() == 0 && LibSystemd().journalSocketPresent(), "needs root and a running journald"))
    func rawIdsOnlyWhenConfigured() throws {
        let subject = "raw-\(UUID().uuidString.prefix(8).lowercased())"
        let daemon = try DaemonHarness(journal: "on", consent: [], rawSubjects: true)
        try daemon.waitReady()
        _ = try ControlClient(socketPath: daemon.controlPath).send(ControlRequest(cmd: .grant, subject: subject, scopes: ["monitor"], reference: "f"))
        #expect(try daemon.stop() == 0)
        #expect(try JournaldTests.entries(["MESSAGE_ID=\(MessageID.consentAudit)", "CANARY_SUBJECT=\(subject)"]).count == 1)
    }
}
