import Foundation
import Logging
import ServiceLifecycle

/// Makes acknowledgement mean durability: a connection's `OK` waits until a snapshot of the engine
/// taken after its rows were evaluated is committed. Requests that arrive while a commit runs share
/// the next one, so many clients finishing together cost one commit. Each commit also writes the
/// alerts decided since the last one to the outbox and hands their deliveries to the dispatcher;
/// alerts of a commit that failed go back to the engine for the next one.
///
/// Alerts are committed by group commit: at once when nothing is being committed, else with the
/// next commit, together with whatever else came meanwhile (immediate when idle, batched only under
/// load). Such a commit holds the alerts and the state of their subjects only (the state that
/// decided them, in the same transaction); the other subjects' changes go with the next full one.
final class StateCommitter: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [@Sendable (Bool) -> Void] = []
    /// A waiter needs everything evaluated so far (an acknowledgement, a stop), not only the alerts.
    private var fullWanted = false
    private var running = false
    private let engine: EngineLoop
    private let consent: ConsentService
    private let logger: Logger
    private let dispatcher: AlertDispatcher
    private let spacing: Duration
    private var lastStart = ContinuousClock.now - .seconds(3600)
    private var soonPending = false
    private let metrics: DaemonMetrics?

    /// Signals from the engine thread that alerts wait for a commit (`AlertsPending.signal`).
    private let alertsPending: AsyncStream<Void>

    /// - Parameter spacing: `commitSoon` commits at most this often (a commit for an acknowledgement is never delayed).
    /// - Parameter alertsPending: each element asks for a commit soon (the engine decided alerts).
    init(engine: EngineLoop, consent: ConsentService, dispatcher: AlertDispatcher, alertsPending: AsyncStream<Void>,
         spacing: Duration = .zero, logger: Logger, metrics: DaemonMetrics? = nil) {
        self.metrics = metrics
        self.alertsPending = alertsPending
        self.engine = engine
        self.consent = consent
        self.dispatcher = dispatcher
        self.spacing = spacing
        self.logger = logger
    }

    /// Alerts are waiting: commit them (with their subjects' state) at once when the last commit began at
    /// least `spacing` ago (zero by default: group commit), else when it has; requests meanwhile share
    /// that one.
    func commitSoon() {
        let wait: Duration? = lock.withLock {
            guard !soonPending else { return nil }
            soonPending = true
            return lastStart + spacing - ContinuousClock.now
        }
        guard let wait else { return }
        Task {
            if wait > .zero { try? await Task.sleep(for: wait) }
            lock.withLock { soonPending = false }
            enqueue(full: false) { _ in }
        }
    }

    /// `commit`, awaited: true once committed.
    func commitAndWait() async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in commit { c.resume(returning: $0) } }
    }

    /// Saves one snapshot with its alerts; true when committed. Only `commitWhileAsked` calls it: snapshots hold
    /// what changed since the previous one, so they are saved one at a time, in order.
    private func persist(_ snapshot: EngineSnapshot) async -> Bool {
        do {
            let items = try await consent.commit(snapshot, at: Date().timeIntervalSince1970)
            await dispatcher.add(items)
            return true
        } catch {
            logger.error("cannot commit the evaluation state", metadata: ["reason": "\(error)"])
            engine.requeue(snapshot)
            return false
        }
    }

    /// Calls `done(true)` once everything evaluated before this call is committed (false if the commit failed).
    func commit(_ done: @escaping @Sendable (Bool) -> Void) {
        enqueue(full: true, done)
    }

    private func enqueue(full: Bool, _ done: @escaping @Sendable (Bool) -> Void) {
        lock.lock()
        waiting.append(done)
        if full { fullWanted = true }
        let start = !running
        running = true
        lock.unlock()
        if start { Task { await self.commitWhileAsked() } }
    }

    private func commitWhileAsked() async {
        while true {
            let (batch, full): ([@Sendable (Bool) -> Void], Bool) = lock.withLock {
                let b = waiting, f = fullWanted
                waiting.removeAll()
                fullWanted = false
                if b.isEmpty { running = false }
                return (b, f)
            }
            if batch.isEmpty { return }
            lock.withLock { lastStart = ContinuousClock.now }
            var ok = false
            let started = ContinuousClock.now
            if let snapshot = await engine.snapshot(alertsOnly: !full) {
                ok = await persist(snapshot)
                metrics?.committed(duration: .now - started, ok: ok, alerts: snapshot.alerts.map(\.alert.kind))
            }
            for done in batch { done(ok) }
        }
    }
}

extension StateCommitter: Service {
    /// Commits soon whenever the engine has alerts waiting; on a graceful stop (after the ingest and
    /// control servers stopped, before the engine does) everything queued is evaluated and committed,
    /// state and alerts together.
    func run() async throws {
        for await _ in alertsPending.cancelOnGracefulShutdown() { commitSoon() }
        await engine.drain()
        if !(await commitAndWait()) {
            logger.error("the final state could not be saved; the next start continues from the last commit")
        }
    }
}

/// The engine thread's "alerts wait for a commit", as a stream the committer reads (newest only: one
/// pending signal is as good as many).
struct AlertsPending: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var signal: @Sendable () -> Void {
        let c = continuation
        return { c.yield() }
    }
}
