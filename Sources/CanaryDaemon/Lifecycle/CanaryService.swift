import CanaryCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The running daemon's front: the ingest and control sockets, READY/STATUS for systemd, consent
/// expiry and retention on the clock, and, on a graceful stop, the drain of the connections in flight.
///
/// Everything is built in dependency order, each collaborator passed to the initialiser of the next
/// (nothing is assigned after construction): the state database and the consent ledger, the
/// dispatcher, the engine loop (its alert signal a stream the committer reads), the committer, then
/// the sockets. The engine loop, the committer and the dispatcher run as their own services
/// (`services`), so the service group stops them in reverse order after this one: connections
/// drained, then the final commit, then the engine thread, then the last deliveries.
public final class CanaryService: Service, @unchecked Sendable {
    let context: ServerContext
    private let server: IngestServer
    private let group: MultiThreadedEventLoopGroup
    private let heartbeat: LoopHeartbeat
    private let notifier: ServiceNotifier
    private let logger: Logger
    private let router: AlertRouter
    private let control: ControlServer
    private let controlPath: String
    private let snapshotInterval: Double
    private let dispatcher: AlertDispatcher
    private let plan: ChannelPlan
    private let store: StateStore
    private let committer: StateCommitter
    private let engine: EngineLoop
    /// The operator's metrics, scraped over `canaryd-metrics.socket` or `canaryctl metrics`.
    let metrics = DaemonMetrics()
    private let metricsServer: MetricsServer

    /// Reloads of the configuration file, on SIGHUP (`ReloadService`) or the control socket's `reload`.
    public private(set) var reloader: ConfigurationReloader!

    /// - Parameter configPath: the file `reloader` reads again (nil: the daemon runs on the built-in defaults).
    public init(configuration: CanaryConfiguration, configPath: String? = nil, systemd: any SystemdAPI, logger: Logger) throws {
        notifier = ServiceNotifier(systemd: systemd)
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        heartbeat = LoopHeartbeat(group: group)
        router = try AlertRouter(systemd: systemd, journal: configuration.daemon.journal,
                                 alertLog: configuration.daemon.alertLog, logger: logger)
        store = try StateStore(path: configuration.daemon.statePath)
        // Tokens name subjects in the audit trail, the journal (by default) and webhook bodies that ask
        // for them; the same installation key, domain-separated, keys the alert ids.
        let key = try Pseudonymizer.loadKey(path: configuration.daemon.pseudonymKeyPath)
        let pseudonyms = Pseudonymizer(key: key)
        let journalByToken = configuration.daemon.journalSubject == "token"
        let journalName: @Sendable (String) -> String
        if journalByToken { journalName = { pseudonyms.token(for: $0) } } else { journalName = { $0 } }
        let consent = try ConsentService(store: store, systemd: systemd, logger: logger, pseudonyms: pseudonyms,
                                         journalName: journalName)
        let webhooks = configuration.daemon.webhooks
        let targets = try webhooks.map { try WebhookTarget.load($0) }
        dispatcher = try AlertDispatcher(store: store, local: router, webhooks: targets, consent: consent,
                                         maxConcurrent: configuration.daemon.maxConcurrentDeliveries, systemd: systemd,
                                         logger: logger, pseudonyms: pseudonyms, journalByToken: journalByToken, metrics: metrics)
        plan = ChannelPlan(webhooks: webhooks, consent: consent)
        // Seeded only now, so the audit entries of the seeds carry tokens too.
        try consent.seed(configuration.daemon.consentSeeds, now: Date().timeIntervalSince1970)

        // Continue where the last run stopped: baselines, rule states, open days and gaps.
        let saved = try store.loadSubjectStates()
        let alertsPending = AlertsPending()
        do {
            let plan = self.plan
            let heartbeat = self.heartbeat
            engine = try EngineLoop(configuration: configuration.engine,
                                    channels: { plan.channels(for: $0, at: Date().timeIntervalSince1970) }, notifier: notifier,
                                    maxCloseInterval: configuration.daemon.maxCloseIntervalSeconds, state: saved,
                                    admission: MonitorAdmission(version: { consent.version },
                                                                allows: { consent.allows($0, .monitor, at: $1) },
                                                                token: { pseudonyms.token(for: $0) }),
                                    identity: AlertIdentity(pseudonymKey: key),
                                    alertsPending: alertsPending.signal,
                                    pipelineHealthy: { heartbeat.healthy(within: .seconds(5)) }, metrics: metrics)
        } catch {
            throw DaemonError("cannot read the saved evaluation state in \(configuration.daemon.statePath): \(error)")
        }
        snapshotInterval = configuration.daemon.snapshotIntervalSeconds
        committer = StateCommitter(engine: engine, consent: consent, dispatcher: dispatcher, alertsPending: alertsPending.stream,
                                   spacing: .milliseconds(Int64(configuration.daemon.alertCommitSeconds * 1000)), logger: logger,
                                   metrics: metrics)
        context = ServerContext(configuration: configuration, engine: engine, consent: consent, committer: committer,
                                systemd: systemd, logger: logger, metrics: metrics)
        server = IngestServer(context: context, group: group)
        let engine = self.engine, dispatcher = self.dispatcher
        let exposition: @Sendable () async -> String = { [context, metrics, store] in
            var census = DaemonMetrics.Census()
            census.connectionsOpen = context.connections.count
            census.engine = await engine.census()
            census.outboxOwed = await dispatcher.backlog
            census.oldestOwedAge = await dispatcher.oldestOwed.map { max(0, Date().timeIntervalSince1970 - $0) } ?? 0
            census.deadLetters = (try? await store.offload { try store.deadLetterCount() }) ?? 0
            return metrics.exposition(census)
        }
        metricsServer = MetricsServer(group: group, exposition: exposition)
        control = ControlServer(consent: consent,
                                erasure: ErasureSteps(dropEngineState: { await engine.erase(subject: $0) },
                                                      forgetDeliveries: { await dispatcher.forget(subject: $0) }),
                                baselines: { await engine.baselineReport(subject: $0, feature: $1, last: $2) },
                                metrics: exposition,
                                reports: { await engine.reportData(subject: $0) }, journalName: journalName,
                                store: store, dispatcher: dispatcher, adminGroups: configuration.daemon.adminGroups,
                                group: group, logger: logger)
        controlPath = configuration.daemon.controlSocketPath
        reloader = ConfigurationReloader(path: configPath, service: self, systemd: systemd, logger: logger)
        control.reload = { [unowned self] in await self.reloader.reload() }
        for name in AccessPolicy(users: configuration.daemon.allowUsers, groups: configuration.daemon.allowGroups).unknownNames {
            logger.warning("daemon allow-list names an unknown user or group", metadata: ["name": "\(name)"])
        }
    }

    /// The services behind this one, in start order (the group stops them in reverse, after this one):
    /// the dispatcher, the engine loop, the committer.
    var services: [any Service] {
        [DeliveryService(dispatcher: dispatcher), engine, committer]
    }

    public func run() async throws {
        let passed = context.systemd.listenFDs()
        try await server.start(activatedFDs: passed.filter { $0.name != ListenedSocket.metricsName }.map(\.fd))
        if let socket = passed.first(where: { $0.name == ListenedSocket.metricsName }) {
            try await metricsServer.start(fd: socket.fd)
        }
        try await control.start(path: controlPath)
        let backlog = await dispatcher.backlog
        for note in context.settings.deprecations { logger.warning("\(note)") }
        logger.info("listening", metadata: [
            "socket": "\(server.boundPath ?? "socket-activated")",
            "alerts": "\(router.journalEnabled ? "journald" : "standard error")",
            "webhooks": "\(context.settings.daemon.webhooks.count)",
            "metrics": "\(passed.contains { $0.name == ListenedSocket.metricsName } ? "socket-activated" : "control socket only")",
            "backlog": "\(backlog)",
        ])
        notifier.ready(status: statusLine())

        // STATUS= stays current until a graceful shutdown is requested.
        let interval = context.settings.daemon.statusIntervalSeconds
        try? await cancelWhenGracefulShutdown { [self] in
            var sinceStatus = 0.0
            var sinceSnapshot = 0.0
            var sinceRetention = 3600.0
            while !Task.isCancelled {
                heartbeat.poke()
                await context.consent.expireDueOffloaded(now: Date().timeIntervalSince1970)
                try await Task.sleep(for: .seconds(1))
                sinceStatus += 1
                sinceSnapshot += 1
                if sinceSnapshot >= snapshotInterval {
                    sinceSnapshot = 0
                    _ = await committer.commitAndWait()
                }
                sinceRetention += 1
                if sinceRetention >= 3600 {
                    sinceRetention = 0
                    await trimAlertHistory()
                }
                if sinceStatus >= interval {
                    notifier.status(await statusLineWithDeliveries())
                    sinceStatus = 0
                }
            }
        }

        // Stopping, first of the services: no new connections, the lines in flight finish (their
        // final OK waits for commits, which the committer, still running, makes).
        notifier.stopping(status: "stopping: finishing the lines in flight")
        logger.info("stopping", metadata: ["connections": "\(context.connections.count)"])
        await server.stopAccepting()
        await metricsServer.stop()
        await control.stop()
        let deadline = Date().addingTimeInterval(context.settings.daemon.drainTimeoutSeconds)
        if !(await context.connections.drained(until: deadline)) {
            logger.warning("connections still open after the drain timeout; closing them", metadata: ["connections": "\(context.connections.count)"])
        }
        try? await group.shutdownGracefully()
    }

    /// After the whole group stopped: what this run did.
    func logStopped() async {
        let c = context.engine.totals
        let d = await dispatcher.totals
        let left = await dispatcher.backlog
        logger.info("stopped", metadata: ["rows": "\(c.rows)", "alerts": "\(c.alerts)", "delivered": "\(d.delivered)",
                                          "backlog": "\(left)"])
    }

    /// Retention: alerts (and their delivery history) older than `state.retention` are deleted once settled.
    private func trimAlertHistory() async {
        let cutoff = Date().timeIntervalSince1970 - Double(context.settings.engine.retentionDays) * 86_400
        do {
            let store = self.store
            let removed = try await store.offload { try store.trimAlerts(emittedBefore: cutoff) }
            if removed > 0 { logger.info("alerts past retention deleted", metadata: ["alerts": "\(removed)"]) }
        } catch {
            logger.error("cannot apply retention to the alert history", metadata: ["reason": "\(error)"])
        }
    }

    /// Applies a new, already validated configuration; refused (nothing changes) when a webhook secret cannot be read.
    /// The dispatcher learns the webhooks before alerts may be emitted for them.
    func apply(_ configuration: CanaryConfiguration) async throws(ConfigError) {
        var targets: [WebhookTarget] = []
        for w in configuration.daemon.webhooks {
            do {
                targets.append(try WebhookTarget.load(w))
            } catch {
                throw ConfigError(key: "webhooks.\(w.name).secret_file", "\(error)")
            }
        }
        await dispatcher.reconfigure(targets)
        context.update(configuration)
        plan.update(configuration.daemon.webhooks)
        control.update(adminGroups: configuration.daemon.adminGroups)
    }

    func statusLineWithDeliveries() async -> String {
        let d = await dispatcher.totals
        let backlog = await dispatcher.backlog
        return statusLine() + ", \(d.delivered) deliveries made, \(backlog) owed, \(d.dead) dead-lettered"
    }

    func statusLine() -> String {
        let c = context.engine.totals
        let late = c.late > 0 ? ", \(c.late) late rows not evaluated" : ""
        return "\(c.subjects) subjects, \(c.rows) rows ingested\(late), \(c.alerts) alerts emitted, \(context.connections.count) connections"
    }
}
