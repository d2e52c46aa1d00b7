import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl replay --scores` holds health values: owner-only, like every other such file.
@Suite struct ReplayScoresModeTests {
    @Test func replayScoresAreOwnerOnly() throws {
        let dir = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let data = dir + "/samples.csv"
        try "timestamp,subject,metric,value\n1767225600,s1,hr,60\n1767229200,s1,hr,61\n".write(toFile: data, atomically: true, encoding: .utf8)
        let fresh = dir + "/scores.csv"
        let existing = dir + "/old-scores.csv"
        try "old\n".write(toFile: existing, atomically: false, encoding: .utf8)
        chmod(existing, 0o644)
        let previous = umask(0o022)
        defer { umask(previous) }
        for path in [fresh, existing] {
            let r = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["replay", "--scores", path, data])
            #expect(r.status == 0, "\(r.output)")
            #expect(ProcessRun.mode(path) == 0o600, "\(path)")
        }
    }
}
