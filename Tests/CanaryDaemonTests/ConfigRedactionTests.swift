import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Configuration errors name no subject where they are logged (reload, refused start), ids with dots included.
@Suite struct ConfigRedactionTests {
    @Test func aRefusedConfigurationNamesNoSubjectAtStartOrInItsKey() throws {
        let error = ConfigError(key: "subjects.s042.private.timezone", "unknown time zone \"Mars/Base\"", subject: "s042.private")
        #expect(error.redactingSubjects().key == "subjects.<subject>.timezone")
        #expect {
            try CanaryConfiguration.parse("[subjects.\"s042.private\"]\ntimezone = \"Mars/Base\"\n")
        } throws: { e in
            let r = (e as! ConfigError).redactingSubjects()
            return r.key == "subjects.<subject>.timezone" && !"\(r)".contains("s042") && !"\(r)".contains("private")
        }
        // A key canaryd does not know inside a subject's table names the key, not the id.
        #expect {
            try CanaryConfiguration.parse("[subjects.\"a.b.c\"]\ncolour = \"red\"\n")
        } throws: { e in (e as! ConfigError).redactingSubjects().key == "subjects.<subject>.colour" }

        // canaryd refusing to start prints the same, redacted (under systemd standard error is the journal).
        let path = TestSupport.temporaryFile("bad.toml")
        try "[subjects.\"s042.private\"]\ntimezone = \"Mars/Base\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try ProcessRun.run(DaemonHarness.binary("canaryd"), ["--config", path])
        #expect(r.status == 78)
        #expect(r.output.contains("subjects.<subject>.timezone") && !r.output.contains("s042"), "\(r.output)")
    }
}
