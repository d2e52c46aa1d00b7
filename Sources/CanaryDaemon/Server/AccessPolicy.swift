import Foundation

/// Who may write to the ingest socket, decided from the peer's credentials (SO_PEERCRED).
public struct AccessPolicy: Sendable, Equatable {
    public let uids: Set<UInt32>
    public let gids: Set<UInt32>
    /// Names from the configuration that match no user or group on this system.
    public let unknownNames: [String]

    /// Resolves user and group names (or numbers) against the system's databases.
    public init(users: [String], groups: [String], ownUID: UInt32 = getuid()) {
        var uids: Set<UInt32> = [ownUID]
        var gids: Set<UInt32> = []
        var unknown: [String] = []
        for u in users {
            if let n = UInt32(u) { uids.insert(n) } else if let pw = getpwnam(u) { uids.insert(pw.pointee.pw_uid) } else { unknown.append(u) }
        }
        for g in groups {
            if let n = UInt32(g) { gids.insert(n) } else if let gr = getgrnam(g) { gids.insert(gr.pointee.gr_gid) } else { unknown.append(g) }
        }
        self.uids = uids
        self.gids = gids
        self.unknownNames = unknown
    }

    /// The peer's uid, its primary gid, or any supplementary group of its user is on the list.
    public func allows(uid: UInt32, gid: UInt32) -> Bool {
        if uids.contains(uid) || gids.contains(gid) { return true }
        guard !gids.isEmpty else { return false }
        // getpwuid_r: event loops check peers concurrently, so no shared static buffer.
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil else { return false }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(pwd.pw_name, pwd.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(pwd.pw_name, pwd.pw_gid, &groups, &count) >= 0 else { return false }
        }
        return groups.prefix(Int(count)).contains { gids.contains($0) }
    }
}

/// `struct ucred` from <sys/socket.h>, as SO_PEERCRED fills it.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
