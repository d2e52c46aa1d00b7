import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `systemctl reload` (SIGHUP): re-reads and validates the configuration file; a valid one is
/// swapped in whole, an invalid one is refused with its reason and the old one stays.
public struct ReloadService: Service {
    let path: String?
    let service: CanaryService
    let notifier: ServiceNotifier
    let logger: Logger

    public init(path: String?, service: CanaryService, systemd: any SystemdAPI, logger: Logger) {
        self.path = path
        self.service = service
        self.notifier = ServiceNotifier(systemd: systemd)
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// One reload, as `systemd.service(5)` describes for Type=notify-reload: RELOADING=1, then READY=1.
    func reload() async {
        notifier.reloading()
        guard let path else {
            notifier.ready(status: "reload: no configuration file; " + service.statusLine())
            return
        }
        do {
            let configuration = try CanaryConfiguration.load(path: path)
            try await service.apply(configuration)
            service.metrics.reloaded(applied: true)
            logger.notice("configuration reloaded", metadata: ["path": "\(path)"])
            notifier.ready(status: "configuration reloaded; " + service.statusLine())
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
        }
    }
}
