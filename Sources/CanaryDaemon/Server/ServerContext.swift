import CanaryCore
import Foundation
import Logging

/// What every connection shares: the engine, the current settings (swapped atomically on reload),
/// the access policy, and the count of open connections for a graceful drain.
final class ServerContext: @unchecked Sendable {
    let engine: EngineLoop
    let consent: ConsentService
    let systemd: any SystemdAPI
    let logger: Logger
    let connections = ConnectionCounter()
    /// Commits the evaluation state before a connection is acknowledged (nil: acknowledgements do not wait).
    let committer: StateCommitter?
    let clock: @Sendable () -> Double
    /// The operator's metrics (connections and rows).
    let metrics: DaemonMetrics
    private let lock = NSLock()
    private var current: CanaryConfiguration
    private var currentPolicy: AccessPolicy

    init(configuration: CanaryConfiguration, engine: EngineLoop, consent: ConsentService, committer: StateCommitter?,
         systemd: any SystemdAPI, logger: Logger, metrics: DaemonMetrics = DaemonMetrics(),
         clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.committer = committer
        self.metrics = metrics
        self.current = configuration
        self.currentPolicy = AccessPolicy(users: configuration.daemon.allowUsers, groups: configuration.daemon.allowGroups)
        self.engine = engine
        self.consent = consent
        self.systemd = systemd
        self.logger = logger
        self.clock = clock
    }

    var settings: CanaryConfiguration {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func policy() -> AccessPolicy {
        lock.lock()
        defer { lock.unlock() }
        return currentPolicy
    }

    /// Swaps in a validated configuration: new connections see it at once, the engine at its next command.
    func update(_ configuration: CanaryConfiguration) {
        let policy = AccessPolicy(users: configuration.daemon.allowUsers, groups: configuration.daemon.allowGroups)
        lock.lock()
        current = configuration
        currentPolicy = policy
        lock.unlock()
        engine.reconfigure(configuration.engine)
    }

    /// A peer failed the allow-list: it is told `ERR 0 unauthorized`, and the journal records who it was.
    func refused(pid: Int32, uid: UInt32, gid: UInt32) {
        let who = uid == .max ? "a peer whose credentials could not be read" : "pid \(pid), uid \(uid), gid \(gid)"
        _ = systemd.journalSend([
            ("MESSAGE", "refused an ingest connection from \(who): not in daemon.allow_users or daemon.allow_groups"),
            ("PRIORITY", "4"),
            ("MESSAGE_ID", MessageID.unauthorized),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_PEER_PID", String(pid)),
            ("CANARY_PEER_UID", String(uid)),
            ("CANARY_PEER_GID", String(gid)),
        ])
        logger.warning("refused an unauthorized ingest peer", metadata: ["peer_uid": "\(uid)", "peer_gid": "\(gid)", "peer_pid": "\(pid)"])
    }
}

extension ServerContext {
    /// A feeder reached one of the bounds (`key`): a journal warning, once per connection and bound
    /// (the connection's replies name every refused line). No subject id and no value in it.
    /// A connection sent rows for periods already evaluated: said once per connection, with no subject.
    func lateRowsArrived(line: Int) {
        _ = systemd.journalSend([
            ("MESSAGE", "an ingest connection sent rows for periods already evaluated (first at line \(line)); they are counted late, not evaluated"),
            ("PRIORITY", "5"),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_LATE_FIRST_LINE", "\(line)"),
        ])
        logger.notice("rows arrived for periods already evaluated", metadata: ["first_line": "\(line)"])
    }

    func limitReached(_ key: String, _ detail: String) {
        _ = systemd.journalSend([
            ("MESSAGE", "ingest limit reached (\(key)): \(detail)"),
            ("PRIORITY", "4"),
            ("MESSAGE_ID", MessageID.ingestLimit),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_LIMIT", key),
        ])
        logger.warning("ingest limit reached", metadata: ["limit": "\(key)", "detail": "\(detail)"])
    }
}

/// Counts open connections; a drain waits for the count to reach zero.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0

    /// Counts one more open connection; returns how many are open with it.
    @discardableResult
    func opened() -> Int {
        lock.lock()
        defer { lock.unlock() }
        open += 1
        return open
    }

    func closed() {
        lock.lock(); open -= 1; lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }

    /// Waits (suspended, no thread blocked) until no connection is open or `deadline` passes; true when all closed.
    func drained(until deadline: Date) async -> Bool {
        while count > 0 && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return count == 0
    }
}
