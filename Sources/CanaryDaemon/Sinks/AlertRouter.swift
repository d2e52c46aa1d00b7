import CanaryCore
import Foundation
import Logging

/// The `journal` channel: journald when it is on and reachable, the alert log when one is
/// configured, and standard error whenever journald did not take it. No alert is dropped silently.
/// The alert log and standard error name the subject as the journal does (its token by default).
/// Consent is the dispatcher's question; this only writes.
public final class AlertRouter: @unchecked Sendable {
    private let systemd: any SystemdAPI
    private let useJournal: Bool
    private let alertLog: String?
    private var logFD: Int32
    private let lock = NSLock()
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
        self.alertLog = alertLog
        if let alertLog {
            logFD = try Self.openLog(alertLog)
        } else {
            logFD = -1
        }
    }

    private static func openLog(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ReplayError("cannot open the alert log \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Erasure: removes every line about a subject (named any of these ways) from the alert log. The
    /// log is copied beside itself (owner-only) without those lines, a chunk at a time, flushed and
    /// moved into place.
    public func forget(names: [String]) {
        guard let alertLog else { return }
        let markers = names.map { Array(("\"subject\":" + AlertJSON.quote($0) + ",").utf8) }
        lock.withLock {
            let input = open(alertLog, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { return }
            defer { close(input) }
            let temporary = alertLog + ".erasing"
            let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard output >= 0 else {
                logger.error("cannot rewrite the alert log for an erasure", metadata: ["errno": "\(errno)"])
                return
            }
            var ok = true
            var removed = 0
            var pending: [UInt8] = []
            var kept: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            // Kept lines are gathered and written once per chunk read, not once per line.
            func emit(_ line: ArraySlice<UInt8>) {
                if markers.contains(where: { line.firstRange(of: $0) != nil }) { removed += 1; return }
                kept += line
                kept.append(UInt8(ascii: "\n"))
            }
            func flush() {
                ok = ok && POSIXIO.writeAll(output, kept)
                kept.removeAll(keepingCapacity: true)
            }
            while ok {
                let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { ok = false; break }
                if n == 0 { break }
                pending += chunk[0..<n]
                var start = pending.startIndex
                while let nl = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    emit(pending[start..<nl])
                    start = nl + 1
                }
                pending.removeSubrange(..<start)
                flush()
            }
            if !pending.isEmpty { emit(pending[...]) }
            flush()
            ok = ok && fsync(output) == 0
            close(output)
            guard ok, removed > 0 else {
                unlink(temporary)
                if !ok { logger.error("cannot rewrite the alert log for an erasure", metadata: ["errno": "\(errno)"]) }
                return
            }
            guard rename(temporary, alertLog) == 0 else {
                unlink(temporary)
                logger.error("cannot rewrite the alert log for an erasure", metadata: ["errno": "\(errno)"])
                return
            }
            if logFD >= 0 { close(logFD) }
            logFD = (try? Self.openLog(alertLog)) ?? -1
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
        let line = AlertJSON.encode(alert, subject: subject) + "\n"
        lock.withLock {
            if logFD >= 0 {
                write(logFD, line)
            }
        }
        if !delivered {
            write(2, line)
        }
    }

    private func write(_ fd: Int32, _ s: String) {
        POSIXIO.writeAll(fd, s.utf8)
    }
}
