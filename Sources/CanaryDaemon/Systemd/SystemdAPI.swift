/// The daemon's one seam to systemd: every `sd_*` call goes through this protocol, so tests can
/// record calls and the rest of the daemon never imports `CSystemd`.
public protocol SystemdAPI: Sendable {
    /// `sd_notify(0, state)`: returns false when there is no notification socket or sending failed.
    @discardableResult
    func notify(_ state: String) -> Bool
    /// `sd_listen_fds_with_names(1)`: the descriptors passed by socket activation (starting at 3), each
    /// with its `FileDescriptorName=` (the socket unit's name when none is set, "unknown" without names).
    func listenFDs() -> [ListenedSocket]
    /// `sd_watchdog_enabled(0, &usec)`: the watchdog interval when one is configured for this process.
    func watchdogInterval() -> Duration?
    /// `sd_journal_sendv`: one structured journal entry. Returns 0 or a negative errno.
    func journalSend(_ fields: [(String, String)]) -> Int32
    /// `sd_booted()`-like check whether journald's native socket is present.
    func journalSocketPresent() -> Bool
}

/// A listening socket systemd passed in, with its name.
public struct ListenedSocket: Sendable, Equatable {
    public var fd: Int32
    public var name: String

    public init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    /// The name `canaryd-metrics.socket` gives its socket (`FileDescriptorName=metrics`); every other
    /// socket passed in is the ingest socket.
    public static let metricsName = "metrics"
}
