import Foundation
import Logging
import ServiceLifecycle

/// Wires the running daemon: logging, configuration, the service group with its signals.
public enum DaemonMain {
    /// Runs until SIGTERM/SIGINT; returns normally after a graceful stop.
    public static func run(configuration: CanaryConfiguration, configPath: String?, systemd: any SystemdAPI = LibSystemd()) async throws {
        let logger = Logger(label: "canaryd")
        // Built off the cooperative thread pool: opening and migrating the database, loading the saved
        // state and seeding consent are blocking SQLite work.
        let service = try await withCheckedThrowingContinuation { (c: CheckedContinuation<CanaryService, any Error>) in
            DispatchQueue.global().async {
                c.resume(with: Result { try CanaryService(configuration: configuration, configPath: configPath, systemd: systemd, logger: logger) })
            }
        }
        let reload = ReloadService(service: service)
        // Started in this order, stopped in reverse: the reload handler, the sockets (connections drained),
        // the committer (final commit), the engine thread, the dispatcher (last deliveries).
        var group = ServiceGroupConfiguration(
            services: service.services.map { .init(service: $0) } + [.init(service: service), .init(service: reload)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Below the unit's TimeoutStopSec (20 s), so systemd never has to kill a draining daemon.
        group.maximumGracefulShutdownDuration = .seconds(15)
        try await ServiceGroup(configuration: group).run()
        await service.logStopped()
    }

    /// Operational logs to journald when running under systemd with journald present, else to standard error.
    public static func bootstrapLogging(systemd: any SystemdAPI = LibSystemd()) {
        let env = ProcessInfo.processInfo.environment
        let underSystemd = env["JOURNAL_STREAM"] != nil || env["INVOCATION_ID"] != nil
        let toJournal = underSystemd && systemd.journalSocketPresent()
        LoggingSystem.bootstrap { label in
            if toJournal { return JournalLogHandler(label: label, systemd: systemd) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
    }
}
