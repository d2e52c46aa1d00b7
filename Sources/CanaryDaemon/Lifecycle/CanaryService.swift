import CanaryCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The running daemon: engine thread, ingest socket, alert dispatcher, STATUS= updates, and a
/// graceful stop that finishes the lines in flight before exiting.
public final class CanaryService: Service, @unchecked Sendable {
    let context: ServerContext
    private let server: IngestServer
    private let group: MultiThreadedEventLoopGroup
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

    public init(configuration: CanaryConfiguration, systemd: any SystemdAPI, logger: Logger) throws {
        notifier = ServiceNotifier(systemd: systemd)
        self.logger = logger
        router = try AlertRouter(systemd: systemd, journal: configuration.daemon.journal,
                                 alertLog: configuration.daemon.alertLog, logger: logger)
        store = try StateStore(path: configuration.daemon.statePath)
        // Tokens name subjects in the audit trail, the journal (by default) and webhook bodies that ask
        // for them; the same installation key, domain-separated, keys the alert ids.
        let key = try Pseudonymizer.loadKey(path: configuration.daemon.pseudonymKeyPath)
        let pseudonyms = Pseudonymizer(key: key)
        let consent = try ConsentService(store: store, systemd: systemd, logger: logger, pseudonyms: pseudonyms)
        let webhooks = configuration.daemon.webhooks
        let journalByToken = configuration.daemon.journalSubject == "token"
        if journalByToken { consent.journalName = { pseudonyms.token(for: $0) } }
        let targets = try webhooks.map { try WebhookTarget.load($0) }
        dispatcher = try AlertDispatcher(store: store, local: router, webhooks: targets, consent: consent,
                                         maxConcurrent: configuration.daemon.maxConcurrentDeliveries, systemd: systemd,
                                         logger: logger, pseudonyms: pseudonyms, journalByToken: journalByToken)
        plan = ChannelPlan(webhooks: webhooks, consent: consent)
        // Seeded only now, so the audit entries of the seeds carry tokens too.
        try consent.seed(configuration.daemon.consentSeeds, now: Date().timeIntervalSince1970)

        // Continue where the last run stopped: baselines, rule states, open days and gaps.
        let saved = try store.loadSubjectStates()
        let engine: EngineLoop
        do {
            let plan = self.plan
            engine = try EngineLoop(configuration: configuration.engine,
                                    channels: { plan.channels(for: $0, at: Date().timeIntervalSince1970) }, notifier: notifier,
                                    maxCloseInterval: configuration.daemon.maxCloseIntervalSeconds, state: saved,
                                    admission: MonitorAdmission(version: { consent.version },
                                                                allows: { consent.allows($0, .monitor, at: $1) },
                                                                token: { pseudonyms.token(for: $0) }),
                                    identity: AlertIdentity(pseudonymKey: key))
        } catch {
            throw DaemonError("cannot read the saved evaluation state in \(configuration.daemon.statePath): \(error)")
        }
        snapshotInterval = configuration.daemon.snapshotIntervalSeconds
        consent.eraseEngineState = { await engine.erase(subject: $0) }
        let dispatcher = self.dispatcher
        consent.forgetDeliveries = { await dispatcher.forget(subject: $0) }
        context = ServerContext(configuration: configuration, engine: engine, consent: consent, systemd: systemd, logger: logger)
        let committer = StateCommitter(engine: engine, consent: consent, dispatcher: dispatcher,
                                       spacing: .milliseconds(Int64(configuration.daemon.alertCommitSeconds * 1000)), logger: logger)
        self.committer = committer
        context.committer = committer
        // Alerts wait on the engine thread for a commit; ask for one as soon as they are decided.
        engine.alertsPending = { committer.commitSoon() }
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        server = IngestServer(context: context, group: group)
        control = ControlServer(consent: consent, store: store, dispatcher: dispatcher, adminGroups: configuration.daemon.adminGroups, group: group, logger: logger)
        controlPath = configuration.daemon.controlSocketPath
        for name in AccessPolicy(users: configuration.daemon.allowUsers, groups: configuration.daemon.allowGroups).unknownNames {
            logger.warning("daemon allow-list names an unknown user or group", metadata: ["name": "\(name)"])
        }
    }

    public func run() async throws {
        let heartbeat = LoopHeartbeat(group: group)
        context.engine.pipelineHealthy = { heartbeat.healthy(within: .seconds(5)) }
        context.engine.start()
        let delivering = Task { [dispatcher] in await dispatcher.run() }
        try await server.start(activatedFDs: context.systemd.listenFDs())
        try await control.start(path: controlPath)
        let backlog = await dispatcher.backlog
        for note in context.settings.deprecations { logger.warning("\(note)") }
        logger.info("listening", metadata: [
            "socket": "\(server.boundPath ?? "socket-activated")",
            "alerts": "\(router.journalEnabled ? "journald" : "standard error")",
            "webhooks": "\(context.settings.daemon.webhooks.count)",
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
                context.consent.expireDue(now: Date().timeIntervalSince1970)
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
                    trimAlertHistory()
                }
                if sinceStatus >= interval {
                    notifier.status(await statusLineWithDeliveries())
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
        // Everything queued is evaluated, committed (state and alerts together), then the engine stops.
        await context.engine.drain()
        if !(await committer.commitAndWait()) {
            logger.error("the final state could not be saved; the next start continues from the last commit")
        }
        context.engine.stop()
        // Journal deliveries due now go out; webhook requests in flight get two seconds; the rest stays owed.
        await dispatcher.stop(deadline: Date().addingTimeInterval(2))
        delivering.cancel()
        let c = context.engine.totals
        let d = await dispatcher.totals
        let left = await dispatcher.backlog
        logger.info("stopped", metadata: ["rows": "\(c.rows)", "alerts": "\(c.alerts)", "delivered": "\(d.delivered)",
                                          "backlog": "\(left)"])
    }

    /// Retention: alerts (and their delivery history) older than `state.retention` are deleted once settled.
    private func trimAlertHistory() {
        let cutoff = Date().timeIntervalSince1970 - Double(context.settings.engine.retentionDays) * 86_400
        do {
            let removed = try store.trimAlerts(emittedBefore: cutoff)
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
