import Foundation

/// A system group and two users made for one test (root only), removed afterwards.
final class TemporaryAccounts {
    let group: String
    let member: String
    let outsider: String
    init() throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        group = "cnyadm\(tag)"
        member = "cnym\(tag)"
        outsider = "cnyo\(tag)"
        try Self.check(ProcessRun.run("/usr/sbin/groupadd", [group]))
        try Self.check(ProcessRun.run("/usr/sbin/useradd", ["-M", "-s", "/usr/sbin/nologin", "-G", group, member]))
        try Self.check(ProcessRun.run("/usr/sbin/useradd", ["-M", "-s", "/usr/sbin/nologin", outsider]))
    }

    static func check(_ result: (status: Int32, output: String)) throws {
        guard result.status == 0 else { throw TestFailure("account set-up failed: \(result.output)") }
    }

    func uid(_ user: String) -> UInt32 { getpwnam(user)!.pointee.pw_uid }
    func gid(_ user: String) -> UInt32 { getpwnam(user)!.pointee.pw_gid }
    var groupID: UInt32 { getgrnam(group)!.pointee.gr_gid }

    /// `canaryctl ARGS` as `user`, with the user's own groups (its admin group is a supplementary one).
    func canaryctl(as user: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try ProcessRun.run("/usr/bin/setpriv", ["--reuid=\(uid(user))", "--regid=\(gid(user))", "--init-groups",
                                                 DaemonHarness.binary("canaryctl")] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }

    deinit {
        _ = try? ProcessRun.run("/usr/sbin/userdel", [member])
        _ = try? ProcessRun.run("/usr/sbin/userdel", [outsider])
        _ = try? ProcessRun.run("/usr/sbin/groupdel", [group])
    }
}
