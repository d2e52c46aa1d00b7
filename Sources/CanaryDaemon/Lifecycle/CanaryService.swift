import CanaryCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The running daemon: engine thread, ingest socket, STATUS= updates, and a graceful stop that
/// finishes the lines in flight before exiting.
public final class CanaryService: Service, @unchecked Sendable {
    let context: ServerContext
    private let server: IngestServer
    private let group: MultiThreadedEventLoopGroup
    private let notifier: ServiceNotifier
    private let logger: Logger
    private let router: AlertRouter
    private let control: ControlServer
    private let controlPath: String
    private let controlMode: mode_t
    private let snapshotInterval: Double

    public init(configuration: CanaryConfiguration, systemd: any SystemdAPI, logger: Logger) throws {
        notifier = ServiceNotifier(systemd: systemd)
        self.logger = logger
        router = try AlertRouter(systemd: systemd, journal: configuration.daemon.journal,
                                 alertLog: configuration.daemon.alertLog, logger: logger)
        let store = try StateStore(path: configuration.daemon.statePath)
        let consent = try ConsentService(store: store, systemd: systemd, logger: logger)
        router.mayAlertLocally = { consent.allows($0, .alertJournal, at: Date().timeIntervalSince1970) }
        if configuration.daemon.journalSubject == "token" {
            let pseudonyms = Pseudonymizer(key: try Pseudonymizer.loadKey(path: configuration.daemon.pseudonymKeyPath))
            router.journalName = { pseudonyms.token(for: $0) }
            consent.journalName = { pseudonyms.token(for: $0) }
        }
        // Seeded only now, so the audit entries of the seeds carry tokens too.
        try consent.seed(configuration.daemon.consentSeeds, now: Date().timeIntervalSince1970)

        // Continue where the last run stopped: baselines, rule states, open days and gaps.
        let saved = try store.loadSubjectStates()
        let engine: EngineLoop
        do {
            engine = try EngineLoop(configuration: configuration.engine, router: router, notifier: notifier,
                                    settleSeconds: configuration.daemon.settleSeconds,
                                    maxCloseInterval: configuration.daemon.maxCloseIntervalSeconds, state: saved)
        } catch {
            throw DaemonError("cannot read the saved evaluation state in \(configuration.daemon.statePath): \(error)")
        }
        snapshotInterval = configuration.daemon.snapshotIntervalSeconds
        consent.eraseEngineState = { await engine.erase(subject: $0) }
        context = ServerContext(configuration: configuration, engine: engine, consent: consent, systemd: systemd, logger: logger)
        context.committer = StateCommitter(engine: engine, consent: consent, logger: logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        server = IngestServer(context: context, group: group)
        control = ControlServer(consent: consent, store: store, adminGroups: configuration.daemon.adminGroups, group: group, logger: logger)
        controlPath = configuration.daemon.controlSocketPath
        controlMode = configuration.daemon.adminGroups.isEmpty ? 0o600 : 0o660
        for name in AccessPolicy(users: configuration.daemon.allowUsers, groups: configuration.daemon.allowGroups).unknownNames {
            logger.warning("daemon allow-list names an unknown user or group", metadata: ["name": "\(name)"])
        }
    }

    public func run() async throws {
        let heartbeat = LoopHeartbeat(group: group)
        context.engine.pipelineHealthy = { heartbeat.healthy(within: .seconds(5)) }
        context.engine.start()
        try await server.start(activatedFDs: context.systemd.listenFDs())
        try await control.start(path: controlPath, mode: controlMode)
        logger.info("listening", metadata: [
            "socket": "\(server.boundPath ?? "socket-activated")",
            "alerts": "\(router.journalEnabled ? "journald" : "standard error")",
        ])
        notifier.ready(status: statusLine())

        // STATUS= stays current until a graceful shutdown is requested.
        let interval = context.settings.daemon.statusIntervalSeconds
        try? await cancelWhenGracefulShutdown { [self] in
            var sinceStatus = 0.0
            var sinceSnapshot = 0.0
            while !Task.isCancelled {
                heartbeat.poke()
                context.consent.expireDue(now: Date().timeIntervalSince1970)
                try await Task.sleep(for: .seconds(1))
                sinceStatus += 1
                sinceSnapshot += 1
                if sinceSnapshot >= snapshotInterval {
                    sinceSnapshot = 0
                    if let state = await context.engine.snapshot() { saveState(state) }
                }
                if sinceStatus >= interval {
                    notifier.status(statusLine())
                    sinceStatus = 0
                }
            }
        }

        notifier.stopping(status: "stopping: finishing the lines in flight")
        logger.info("stopping", metadata: ["connections": "\(context.connections.count)"])
        await server.stopAccepting()
        await control.stop()
        let deadline = Date().addingTimeInterval(context.settings.daemon.drainTimeoutSeconds)
        let drained = await Task.detached { [context] in context.connections.waitForZero(until: deadline) }.value
        if !drained {
            logger.warning("connections still open after the drain timeout; closing them", metadata: ["connections": "\(context.connections.count)"])
        }
        try? await group.shutdownGracefully()
        if let state = await context.engine.shutdown() { saveState(state) }
        let c = context.engine.totals
        logger.info("stopped", metadata: ["rows": "\(c.rows)", "alerts": "\(c.alerts)"])
    }

    private func saveState(_ snapshot: EngineSnapshot) {
        do {
            try context.consent.save(snapshot, at: Date().timeIntervalSince1970)
        } catch {
            logger.error("cannot save the evaluation state", metadata: ["reason": "\(error)"])
        }
    }

    /// Applies a new, already validated configuration.
    func apply(_ configuration: CanaryConfiguration) {
        context.update(configuration)
    }

    func statusLine() -> String {
        let c = context.engine.totals
        return "\(c.subjects) subjects, \(c.rows) rows ingested, \(c.alerts) alerts emitted, \(context.connections.count) connections"
    }
}
