import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The control socket's admin groups with real users and groups: who can connect, a reload that
/// changes them, and the audit naming the uid the kernel reported.
@Suite(.serialized) struct ControlSocketAccessTests {
    @Test(.enabled(if: getuid() == 0, "creates users and groups"))
    func adminGroupsOpenTheControlSocketToTheirMembersAreReloadableAndTheAuditNamesTheUID() throws {
        let accounts = try TemporaryAccounts()
        let daemon = try DaemonHarness(daemonKeys: "admin_groups = [\"\(accounts.group)\"]\n", consent: [])
        try daemon.waitReady()

        // The socket belongs to the admin group, 0660: its members can connect at all.
        var st = stat()
        #expect(stat(daemon.controlPath, &st) == 0)
        #expect(st.st_gid == accounts.groupID && st.st_mode & 0o777 == 0o660)

        // A member (by a supplementary group) records consent; the audit names the uid the kernel saw.
        let grant = try accounts.canaryctl(as: accounts.member, ["consent", "grant", "s77", "--scope", "monitor", "--ref", "form-1",
                                                                 "--by", "alice", "--control", daemon.controlPath])
        #expect(grant.status == 0, "\(grant.output)")
        let show = try ControlClient(socketPath: daemon.controlPath).send(ControlRequest(cmd: .show, subject: "s77"))
        #expect(show.audit?.map(\.actor) == ["alice (uid \(accounts.uid(accounts.member)))"])

        // Someone outside the group gets nowhere.
        let outsider = try accounts.canaryctl(as: accounts.outsider, ["consent", "list", "--control", daemon.controlPath])
        #expect(outsider.status != 0)

        // systemctl reload without admin groups: owner-only again, and the member is refused.
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "admin_groups = [\"\(accounts.group)\"]", with: "admin_groups = []")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.notify.wait(for: "READY after reload") { $0.contains("READY=1") && $0.contains("configuration reloaded") }
        #expect(ProcessRun.mode(daemon.controlPath) == 0o600)
        let after = try accounts.canaryctl(as: accounts.member, ["consent", "list", "--control", daemon.controlPath])
        #expect(after.status != 0, "\(after.output)")

        // And back: a reload that names the group opens the socket to it again.
        try text.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        usleep(500_000)
        try daemon.notify.wait(for: "socket group-accessible again") { _ in ProcessRun.mode(daemon.controlPath) == 0o660 }
        #expect(try accounts.canaryctl(as: accounts.member, ["consent", "list", "--control", daemon.controlPath]).status == 0)
        #expect(try daemon.stop() == 0)
    }
}
