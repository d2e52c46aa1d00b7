import Foundation

/// The service-manager protocol messages canaryd sends, in one place: READY, STATUS, RELOADING,
/// STOPPING and WATCHDOG, as `sd_notify(3)` and `systemd.service(5)` describe them.
public struct ServiceNotifier: Sendable {
    public let systemd: any SystemdAPI

    public init(systemd: any SystemdAPI) {
        self.systemd = systemd
    }

    public func ready(status: String) { systemd.notify("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { systemd.notify("STATUS=\(text)") }
    public func stopping(status: String) { systemd.notify("STOPPING=1\nSTATUS=\(status)") }
    public func watchdog() { systemd.notify("WATCHDOG=1") }

    /// `RELOADING=1` must carry `MONOTONIC_USEC`, the CLOCK_MONOTONIC time the reload started.
    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(usec)\nSTATUS=reloading configuration")
    }
}
