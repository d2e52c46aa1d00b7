import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// scripts/install.sh in a DESTDIR: feeders get their own group and read no configuration or credentials.
@Suite struct InstallModeTests {
    @Test func aDestdirInstallKeepsConfigurationAndCredentialsFromFeeders() throws {
        let destdir = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent + "/root"
        defer { try? FileManager.default.removeItem(atPath: destdir) }
        // What an admin may already have there, with a careless umask.
        try FileManager.default.createDirectory(atPath: destdir + "/etc/canary/credentials", withIntermediateDirectories: true)
        chmod(destdir + "/etc/canary", 0o755)
        try "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n".write(toFile: destdir + "/etc/canary/credentials/webhook-clinic", atomically: false, encoding: .utf8)
        chmod(destdir + "/etc/canary/credentials/webhook-clinic", 0o644)
        chmod(destdir + "/etc/canary/credentials", 0o755)

        let result = try ProcessRun.run("/bin/bash", [TestSupport.root("scripts/install.sh"), "--no-build", "--destdir", destdir],
                                  environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "BUILDDIR": DaemonHarness.binaries.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(ProcessRun.mode(destdir + "/etc/canary") == 0o750)
        #expect(ProcessRun.mode(destdir + "/etc/canary/canary.toml") == 0o640)
        #expect(ProcessRun.mode(destdir + "/etc/canary/credentials") == 0o700)
        #expect(ProcessRun.mode(destdir + "/etc/canary/credentials/webhook-clinic") == 0o600)
        // Feeders have their own group: the socket's, and the one allowed by default.
        let socketUnit = try String(contentsOfFile: destdir + "/usr/local/lib/systemd/system/canaryd.socket", encoding: .utf8)
        #expect(socketUnit.contains("SocketGroup=canary-feed\n") && socketUnit.contains("SocketMode=0660\n"))
        let sysusers = try String(contentsOfFile: destdir + "/usr/local/lib/sysusers.d/canary.conf", encoding: .utf8)
        #expect(sysusers.contains("g canary-feed -") && sysusers.contains("g canary -"))
        let installed = try CanaryConfiguration.load(path: destdir + "/etc/canary/canary.toml")
        #expect(installed.daemon.allowGroups == ["canary-feed"] && !installed.daemon.allowGroups.contains("canary"))
        // Nothing left world-readable below /etc/canary.
        let enumerator = FileManager.default.enumerator(atPath: destdir + "/etc/canary")
        while let name = enumerator?.nextObject() as? String {
            #expect(ProcessRun.mode(destdir + "/etc/canary/" + name) & 0o007 == 0, "\(name) is open to others")
        }
    }
}
