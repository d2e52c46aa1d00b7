import CanaryCore
import Foundation
import Logging

/// The `journal` channel: journald when it is on and reachable, the alert log when one is
/// configured, and standard error whenever journald did not take it. No alert is dropped silently.
/// Consent is the dispatcher's question; this only writes.
public final class AlertRouter: @unchecked Sendable {
    private let systemd: any SystemdAPI
    private let useJournal: Bool
    private let logFD: Int32
    private let logger: Logger
    private var journalFailures = 0

    /// - Parameter journal: "on", "off" or "auto" (journald when its socket is present).
    public init(systemd: any SystemdAPI, journal: String, alertLog: String?, logger: Logger) throws {
        self.systemd = systemd
        self.logger = logger
        switch journal {
        case "on": useJournal = true
        case "off": useJournal = false
        default: useJournal = systemd.journalSocketPresent()
        }
        if let alertLog {
            let fd = open(alertLog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw ReplayError("cannot open the alert log \(alertLog): \(String(cString: strerror(errno)))")
            }
            logFD = fd
        } else {
            logFD = -1
        }
    }

    deinit {
        if logFD >= 0 { close(logFD) }
    }

    /// Whether alerts are going to journald.
    public var journalEnabled: Bool { useJournal }

    /// Writes one alert; `subject` is how the journal names the subject (its token, or its id).
    /// Called by one caller at a time (the dispatcher).
    public func deliver(_ alert: Alert, subject: String) {
        var delivered = false
        if useJournal {
            // libsystemd reports success when journald's socket is missing altogether, so look first.
            let rc = systemd.journalSocketPresent() ? systemd.journalSend(JournalFields.alert(alert, subject: subject)) : -Int32(ENOENT)
            if rc >= 0 {
                delivered = true
            } else {
                journalFailures += 1
                if journalFailures == 1 || journalFailures % 1000 == 0 {
                    logger.error("journald did not take an alert; falling back to standard error",
                                 metadata: ["errno": "\(-rc)", "failures": "\(journalFailures)"])
                }
            }
        }
        let line = AlertJSON.encode(alert) + "\n"
        if logFD >= 0 {
            write(logFD, line)
        }
        if !delivered {
            write(2, line)
        }
    }

    private func write(_ fd: Int32, _ s: String) {
        POSIXIO.writeAll(fd, s.utf8)
    }
}
