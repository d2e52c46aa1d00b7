import CanaryCore
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The control socket: consent management and the alert outbox while the daemon runs. Owner-only, or
/// 0660 with the first of `daemon.admin_groups` as its group; peer credentials (SO_PEERCRED) checked
/// against root, canaryd's own user and the admin groups (primary or supplementary); one JSON request
/// per connection, one JSON answer. A reload applies new admin groups to the socket and the check.
final class ControlServer: @unchecked Sendable {
    private let consent: ConsentService
    private let store: StateStore
    private let dispatcher: AlertDispatcher
    private let lock = NSLock()
    private var policy: AccessPolicy
    private var adminGroups: [String]
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let erasure: ErasureSteps
    /// A subject's baseline report from the engine (nil: it holds nothing of the subject).
    private let baselines: @Sendable (_ subject: String, _ feature: String?, _ last: Int) async -> BaselineReport?
    /// A subject's report data from the engine (nil: it holds nothing of the subject).
    private let reports: @Sendable (_ subject: String) async -> ReportData?
    /// How the journal names a subject (its token, or the id itself).
    private let journalName: @Sendable (String) -> String
    /// The Prometheus text exposition (`canaryctl metrics`).
    private let metrics: @Sendable () async -> String
    /// Reads the configuration file again (`canaryctl reload`); set once by `CanaryService`, before `start`.
    var reload: (@Sendable () async -> ReloadOutcome)?
    private var channel: (any Channel)?
    private var path: String?

    /// - Parameter erasure: what an erasure drops from the engine's and the dispatcher's memory.
    /// - Parameter baselines: a subject's baseline report, read on the engine's thread.
    init(consent: ConsentService, erasure: ErasureSteps, baselines: @escaping @Sendable (String, String?, Int) async -> BaselineReport?,
         metrics: @escaping @Sendable () async -> String,
         reports: @escaping @Sendable (String) async -> ReportData?, journalName: @escaping @Sendable (String) -> String,
         store: StateStore, dispatcher: AlertDispatcher, adminGroups: [String],
         group: MultiThreadedEventLoopGroup, logger: Logger) {
        self.consent = consent
        self.erasure = erasure
        self.baselines = baselines
        self.metrics = metrics
        self.reports = reports
        self.journalName = journalName
        self.store = store
        self.dispatcher = dispatcher
        self.policy = AccessPolicy(users: ["root"], groups: adminGroups)
        self.adminGroups = adminGroups
        self.group = group
        self.logger = logger
    }

    func start(path: String) async throws {
        try IngestServer.removeStaleSocket(at: path)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let server = self
        channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlHandler(server: server))
                }
            }
            .bind(unixDomainSocketPath: path).get()
        self.path = path
        applyPermissions()
    }

    /// `daemon.admin_groups` after a reload: who may connect (the socket file) and who is let in (the check).
    func update(adminGroups: [String]) {
        let policy = AccessPolicy(users: ["root"], groups: adminGroups)
        lock.withLock {
            self.policy = policy
            self.adminGroups = adminGroups
        }
        applyPermissions()
    }

    /// Owner-only without admin groups; else group-accessible (0660) with the first admin group as the
    /// file's group, so its members can connect at all. canaryd's user must be a member of that group to
    /// give it away (or canaryd runs as root); otherwise the socket stays owner-only and the journal says why.
    private func applyPermissions() {
        guard let path else { return }
        let groups = lock.withLock { adminGroups }
        guard let first = groups.first else {
            chmod(path, 0o600)
            return
        }
        let gid: gid_t? = UInt32(first) ?? getgrnam(first).map { $0.pointee.gr_gid }
        guard let gid else {
            chmod(path, 0o600)
            logger.error("daemon.admin_groups names an unknown group; the control socket stays owner-only", metadata: ["group": "\(first)"])
            return
        }
        guard chown(path, uid_t.max, gid) == 0 else {
            let reason = String(cString: strerror(errno))
            chmod(path, 0o600)
            logger.error("cannot give the control socket to daemon.admin_groups' first group; it stays owner-only (canaryd's user must be a member of the group)",
                         metadata: ["group": "\(first)", "reason": "\(reason)"])
            return
        }
        chmod(path, 0o660)
    }

    func stop() async {
        try? await channel?.close().get()
        if let path { unlink(path) }
    }

    func authorized(_ cred: PeerCredentials) -> Bool {
        lock.withLock { policy }.allows(uid: cred.uid, gid: cred.gid)
    }

    /// Who made a change, for the audit: the name the client gave, and the uid the kernel vouches for.
    static func actor(_ name: String?, peer: PeerCredentials) -> String {
        "\(name ?? "unknown") (uid \(peer.uid))"
    }

    /// Carries out one request of the peer `peer` (off the event loop: it writes the database).
    func handle(_ line: String, peer: PeerCredentials) async -> ControlResponse {
        guard let request = ControlRequest.decode(line: line) else {
            return .failure("not a control request: one JSON object per line, e.g. {\"cmd\":\"list\"}")
        }
        let now = Date().timeIntervalSince1970
        do {
            switch request.cmd {
            case .list:
                return ControlResponse(ok: true, grants: consent.all.map { .init($0, now: now) })
            case .resolve:
                guard let token = request.token else { return .failure("resolve needs a token") }
                guard let subject = consent.resolve(token: token) else {
                    return .failure("no subject held by canaryd has the token \(token) (erased subjects cannot be resolved)")
                }
                return ControlResponse(ok: true, subject: subject)
            case .show:
                guard let subject = request.subject else { return .failure("show needs a subject") }
                let consent = self.consent
                let audit = try await store.offload { try consent.auditTrail(of: subject) }
                return ControlResponse(ok: true, grants: consent.grants(of: subject).map { .init($0, now: now) },
                                       audit: audit, subject: consent.token(subject))
            case .grant:
                guard let subject = request.subject, !subject.isEmpty else { return .failure("grant needs a subject") }
                let scopes = try Self.scopes(request.scopes)
                guard !scopes.isEmpty else { return .failure("grant needs at least one scope: \(ConsentScope.help)") }
                guard let reference = request.reference, !reference.isEmpty else {
                    return .failure("grant needs the consent reference (e.g. the form id)")
                }
                if let e = request.expires, e <= now { return .failure("the expiry is in the past") }
                let consent = self.consent, actor = Self.actor(request.by, peer: peer), expires = request.expires
                let grants = try await store.offload {
                    try consent.grant(subject: subject, scopes: scopes, reference: reference, by: actor, expiresAt: expires, now: now)
                }
                return ControlResponse(ok: true, grants: grants.map { .init($0, now: now) })
            case .revoke:
                guard let subject = request.subject else { return .failure("revoke needs a subject") }
                let scopes = try request.scopes.map { try Self.scopes($0) }
                let r = try await consent.revoke(subject: subject, scopes: scopes, by: Self.actor(request.by, peer: peer),
                                                 erase: request.erase ?? false, now: now, erasing: erasure)
                return ControlResponse(ok: true, revocation: r)
            case .alertsList:
                var state: StateStore.DeliveryState?
                if let name = request.state {
                    guard let s = StateStore.DeliveryState(rawValue: name) else {
                        return .failure("unknown delivery state \"\(name)\"; expected pending, delivered or dead")
                    }
                    state = s
                }
                let store = self.store, subject = request.subject, limit = max(1, request.limit ?? 100), wanted = state
                let rows = try await store.offload { try store.deliveries(state: wanted, subject: subject, limit: limit) }
                return ControlResponse(ok: true, deliveries: rows)
            case .alertsShow:
                guard let id = request.alert else { return .failure("show needs an alert id") }
                let store = self.store
                let (stored, deliveries) = try await store.offload { (try store.alerts([id])[id], try store.deliveries(state: nil, alertID: id)) }
                guard let stored else { return .failure("no alert \(id) is kept (never emitted, erased, or past retention)") }
                return ControlResponse(ok: true, deliveries: deliveries, alertBody: stored.alert)
            case .alertsRetry:
                let (requeued, expedited) = try await dispatcher.retry(alertID: request.alert, channel: request.channel)
                return ControlResponse(ok: true, requeued: requeued, expedited: expedited)
            case .baseline:
                guard let subject = request.subject, !subject.isEmpty else { return .failure("baseline needs a subject") }
                guard let report = await baselines(subject, request.feature, max(1, min(request.limit ?? 7, 366))) else {
                    return .failure("canaryd holds no evaluation state for \(subject) (no data yet, no monitor consent, or erased)")
                }
                if let feature = request.feature, report.series.isEmpty {
                    return .failure("\(subject) has no series \(feature); it has: \(await baselines(subject, nil, 1)?.series.map(\.name).joined(separator: ", ") ?? "none")")
                }
                return ControlResponse(ok: true, baseline: report)
            case .metrics:
                return ControlResponse(ok: true, metrics: await metrics())
            case .reload:
                switch await reload?() ?? .noFile {
                case .applied: return ControlResponse(ok: true, reloaded: "configuration reloaded")
                case .noFile: return ControlResponse(ok: true, reloaded: "canaryd runs without a configuration file: nothing to reload")
                case .refused(let reason): return .failure("configuration refused, the previous configuration stays: \(reason)")
                }
            case .report:
                guard let subject = request.subject, !subject.isEmpty else { return .failure("report needs a subject") }
                guard consent.allows(subject, .monitor, at: now), var report = await reports(subject) else {
                    return .failure("canaryd holds no evaluation state for \(subject) (no data yet, no monitor consent, or erased)")
                }
                let store = self.store
                let name = journalName(subject)
                report.alerts = try await store.offload { try store.alerts(subject: subject) }.map { a in
                    var a = a
                    a.subject = name
                    return a
                }
                report.subject = name
                return ControlResponse(ok: true, report: report)
            }
        } catch {
            logger.error("control request failed", metadata: ["command": "\(request.cmd.rawValue)", "reason": "\(error)"])
            return .failure("\(error)")
        }
    }

    private static func scopes(_ names: [String]?) throws -> [ConsentScope] {
        try (names ?? []).map { name in
            guard let s = ConsentScope(name) else { throw DaemonError("unknown scope \"\(name)\"; expected \(ConsentScope.help)") }
            return s
        }
    }
}

/// One control connection: credentials, one request line, one answer.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let server: ControlServer
    private var pending = ""
    private var peer: PeerCredentials?
    private var answered = false

    init(server: ControlServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        PeerCheck.credentials(of: context.channel).whenComplete { result in
            let (handler, context) = bound.value
            if case .success(let cred) = result, handler.server.authorized(cred) {
                handler.peer = cred
                handler.tryAnswer(context)
            } else {
                handler.answer(.failure("unauthorized: the control socket is for root, canaryd's user and daemon.admin_groups"), context)
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        if pending.utf8.count > 64 * 1024 { answer(.failure("request too long"), context); return }
        tryAnswer(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed, !pending.contains("\n") { pending += "\n" }
        tryAnswer(context)
    }

    private func tryAnswer(_ context: ChannelHandlerContext) {
        guard let peer, !answered, let nl = pending.firstIndex(of: "\n") else { return }
        answered = true
        let line = String(pending[..<nl])
        let server = self.server
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task {
            let response = await server.handle(line, peer: peer)
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.answer(response, context)
            }
        }
    }

    private func answer(_ response: ControlResponse, _ context: ChannelHandlerContext) {
        answered = true
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(response)) ?? Data("{\"ok\":false}".utf8)
        var buffer = context.channel.allocator.buffer(capacity: data.count + 1)
        buffer.writeBytes(data)
        buffer.writeString("\n")
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
