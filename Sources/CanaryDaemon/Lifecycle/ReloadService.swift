import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// What one configuration reload did, for `canaryctl reload` (and so `systemctl reload`, whose
/// `ExecReload=` it is) to report and exit by.
public enum ReloadOutcome: Sendable, Equatable {
    case applied
    /// The file was refused (unreadable, invalid, a webhook secret missing); the previous configuration stays.
    case refused(String)
    /// canaryd runs without a configuration file: nothing to read again.
    case noFile
}

/// `systemctl reload`: re-reads and validates the configuration file; a valid one is swapped in
/// whole, an invalid one is refused with its reason and the old one stays. Asked for by SIGHUP or by
/// the control socket's `reload` (`canaryctl reload`, the unit's `ExecReload=`, which so needs no
/// `kill` binary and fails when the file is refused); one at a time.
public actor ConfigurationReloader {
    let path: String?
    unowned let service: CanaryService
    let notifier: ServiceNotifier
    let logger: Logger
    private var running = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(path: String?, service: CanaryService, systemd: any SystemdAPI, logger: Logger) {
        self.path = path
        self.service = service
        self.notifier = ServiceNotifier(systemd: systemd)
        self.logger = logger
    }

    /// One reload, as `systemd.service(5)` describes for Type=notify-reload: RELOADING=1, then READY=1.
    /// A reload asked for while one runs waits for it and then reads the file again.
    public func reload() async -> ReloadOutcome {
        while running { await withCheckedContinuation { waiting.append($0) } }
        running = true
        defer {
            running = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        notifier.reloading()
        guard let path else {
            notifier.ready(status: "reload: no configuration file; " + service.statusLine())
            return .noFile
        }
        do {
            let configuration = try CanaryConfiguration.load(path: path)
            try await service.apply(configuration)
            service.metrics.reloaded(applied: true)
            logger.notice("configuration reloaded", metadata: ["path": "\(path)"])
            notifier.ready(status: "configuration reloaded; " + service.statusLine())
            return .applied
        } catch {
            let error = error.redactingSubjects()
            service.metrics.reloaded(applied: false)
            _ = service.context.systemd.journalSend([
                ("MESSAGE", "configuration reload refused, the previous configuration stays: \(error)"),
                ("PRIORITY", "3"),
                ("MESSAGE_ID", MessageID.reloadRefused),
                ("SYSLOG_IDENTIFIER", "canaryd"),
                ("CANARY_CONFIG_KEY", error.key),
            ])
            logger.error("configuration reload refused", metadata: ["path": "\(path)", "reason": "\(error)"])
            notifier.ready(status: "reload refused (\(error)); previous configuration in force; " + service.statusLine())
            return .refused("\(error)")
        }
    }
}

/// Reloads on SIGHUP (`kill -HUP`, or an `ExecReload=` of an older unit).
public struct ReloadService: Service {
    let reloader: ConfigurationReloader

    public init(service: CanaryService) {
        self.reloader = service.reloader
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = await reloader.reload()
        }
    }
}
