import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryd --stdin` honours the consent ledger the service keeps.
@Suite struct StandardInputConsentTests {
    @Test func standardInputModeHonoursTheConsentLedger() throws {
        // Before any database exists, the seeds count, as the service's first start would record them.
        let dir = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let config = dir + "/canary.toml"
        try """
            [engine]
            max_past = "36500d"
            [state]
            path = "\(dir)/state/state.sqlite"
            [privacy]
            key_file = "\(dir)/state/pseudonym.key"
            [[consent.grant]]
            subject = "s1"
            scopes = ["monitor"]
            reference = "form-1"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let input = "timestamp,subject,metric,value\n1767225600,s1,hr,60\n1767225600,s2,hr,61\n"
        let first = try ProcessRun.run(DaemonHarness.binary("canaryd"), ["--config", config, "--stdin"], input: input)
        #expect(first.output.contains("ERR 3 no-consent: no active monitor consent for this subject"), "\(first.output)")
        #expect(first.output.contains("OK accepted=1 rejected=1") && first.status == 1, "\(first.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/state.sqlite"), "--stdin writes no ledger")

        // With a ledger, the ledger decides: s2 granted there, s1 not (its seed does not count any more).
        let store = try StateStore(path: dir + "/state/state.sqlite")
        try store.apply(upsert: [ConsentGrant(subject: "s2", scope: .monitor, reference: "form-2", recordedBy: "test", grantedAt: 1)],
                        delete: [], audit: AuditRecord(at: 1, action: "grant", subject: "s2", scopes: "monitor", actor: "test", reference: "form-2", detail: ""))
        let second = try ProcessRun.run(DaemonHarness.binary("canaryd"), ["--config", config, "--stdin"], input: input)
        #expect(second.output.contains("ERR 2 no-consent"), "\(second.output)")
        #expect(second.output.contains("OK accepted=1 rejected=1"), "\(second.output)")
    }
}
