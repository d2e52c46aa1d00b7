import CanaryCore
import Foundation
import Logging
import ServiceLifecycle

/// Owns the engine on one dedicated thread. Connections hand it batches of records; it evaluates
/// them in arrival order, keeps the alerts it decides for the next snapshot (which writes them to
/// the outbox with the state that made them), and pings the watchdog from this very loop, so a
/// wedged pipeline stops the pings.
public final class EngineLoop: @unchecked Sendable {
    enum Command: Sendable {
        case batch([Record], queuedAt: ContinuousClock.Instant, done: @Sendable (BatchOutcome) -> Void)
        case assignZone(String, TimeZone)
        case erase(String, done: @Sendable (Bool, Int) -> Void)
        case snapshot(alertsOnly: Bool, @Sendable (EngineSnapshot?) -> Void)
        case requeue([PendingAlert], subjects: [String], removed: [String], sequence: Int)
        case reconfigure(EngineConfiguration)
        case drain(@Sendable () -> Void)
        case baseline(String, feature: String?, last: Int, @Sendable (BaselineReport?) -> Void)
        case census(@Sendable (EngineCensus) -> Void)
        case report(String, @Sendable (ReportData?) -> Void)
    }

    /// Counters for STATUS= and the benchmark.
    public struct Counters: Sendable, Equatable {
        public var rows = 0
        public var alerts = 0
        public var subjects = 0
        /// Alerts no channel could take (the subject consented to none that wanted them).
        public var withheld = 0
        /// Rows for periods already evaluated (counted, not evaluated).
        public var late = 0
    }

    private let queue = BoundedQueue<Command>(capacity: .max)
    private let lock = NSLock()
    private var counters = Counters()
    private let notifier: ServiceNotifier
    private let watchdogEvery: Duration?
    private let maxCloseInterval: Double
    private let channels: @Sendable (Alert) -> [String]
    private let admission: MonitorAdmission
    private let identity: AlertIdentity?
    private var thread: Thread?
    /// Called on the engine thread when alerts wait for a snapshot (the committer commits one soon).
    private let alertsPending: @Sendable () -> Void
    /// Whether the rest of the pipeline (the event loops) is alive; the watchdog is pinged only then.
    private let pipelineHealthy: @Sendable () -> Bool
    /// The operator's metrics: evaluation lag, days closed, withheld alerts (nil: not recorded).
    private let metrics: DaemonMetrics?
    /// Finished by the engine thread as it ends.
    private let stopped = AsyncStream<Void>.makeStream()

    /// - Parameter state: a snapshot from `snapshot()` of an earlier run, to continue where it was.
    /// - Parameter channels: where an alert may go at the moment of emission (consent and configuration);
    ///   an alert with no channel is withheld.
    /// - Parameter admission: which subjects the engine may hold anything about (monitor consent).
    /// - Parameter identity: gives alerts their keyed ids.
    /// - Parameter alertsPending: called on the engine thread when alerts wait for a commit.
    /// - Parameter pipelineHealthy: whether the event loops answer (the watchdog is pinged only then).
    /// - Parameter metrics: where evaluation lag, days closed and withheld alerts are recorded.
    public init(configuration: EngineConfiguration, channels: @escaping @Sendable (Alert) -> [String], notifier: ServiceNotifier,
                maxCloseInterval: Double, state: [String: Data] = [:],
                admission: MonitorAdmission = .everyone, identity: AlertIdentity? = nil,
                alertsPending: @escaping @Sendable () -> Void = {}, pipelineHealthy: @escaping @Sendable () -> Bool = { true },
                metrics: DaemonMetrics? = nil) throws {
        self.metrics = metrics
        self.alertsPending = alertsPending
        self.pipelineHealthy = pipelineHealthy
        self.channels = channels
        self.admission = admission
        self.identity = identity
        self.notifier = notifier
        self.maxCloseInterval = maxCloseInterval
        // Ping at half the interval systemd expects, as sd_watchdog_enabled(3) advises.
        watchdogEvery = notifier.systemd.watchdogInterval().map { $0 / 2 }
        var engine = CanaryEngine(configuration: configuration)
        try engine.importState(state)
        counters.subjects = engine.subjectCount
        let initial = engine
        let thread = Thread { [self] in self.run(initial) }
        thread.name = "canary-engine"
        thread.stackSize = 1 << 22
        self.thread = thread
    }

    public func start() { thread?.start() }

    public var totals: Counters {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }

    /// Queues a batch; `done` runs on the engine thread once its rows are evaluated, with the number of
    /// rows that came too late (their day was already evaluated) and those the engine refused.
    public func submit(_ records: [Record], done: @escaping @Sendable (BatchOutcome) -> Void) {
        queue.pushUnbounded(.batch(records, queuedAt: .now, done: done))
    }

    /// Erasure: the engine forgets the subject, after every batch queued before it. Returns whether it held
    /// anything, and the engine's command sequence number at that point (snapshots before it still had it).
    public func erase(subject: String) async -> (deleted: Bool, sequence: Int) {
        await withCheckedContinuation { (c: CheckedContinuation<(deleted: Bool, sequence: Int), Never>) in
            queue.pushUnbounded(.erase(subject, done: { c.resume(returning: ($0, $1)) }))
        }
    }

    /// A connection's `#canary subject=ID tz=Zone` directive, in order with its batches.
    public func assignZone(_ zone: TimeZone, to subject: String) {
        queue.pushUnbounded(.assignZone(subject, zone))
    }

    public func reconfigure(_ configuration: EngineConfiguration) {
        queue.pushUnbounded(.reconfigure(configuration))
    }

    /// Hands back a snapshot whose save failed: its alerts and subjects go out with the next one.
    public func requeue(_ snapshot: EngineSnapshot) {
        queue.pushUnbounded(.requeue(snapshot.alerts, subjects: Array(snapshot.states.keys), removed: snapshot.removed,
                                     sequence: snapshot.sequence))
    }

    /// The state of the subjects changed since the last snapshot, after everything queued so far,
    /// with the alerts decided since then. With `alertsOnly`, only the subjects of those alerts: each
    /// alert still goes out with the state that decided it, while the other subjects' changes wait for
    /// a full snapshot (an acknowledgement's, the periodic one), so an alert's commit costs what its
    /// subjects cost, not what the whole engine changed meanwhile.
    public func snapshot(alertsOnly: Bool = false) async -> EngineSnapshot? {
        await withCheckedContinuation { (c: CheckedContinuation<EngineSnapshot?, Never>) in
            queue.pushUnbounded(.snapshot(alertsOnly: alertsOnly, { c.resume(returning: $0) }))
        }
    }

    /// A subject's baselines, recent values and rule states, after everything queued so far.
    public func baselineReport(subject: String, feature: String?, last: Int) async -> BaselineReport? {
        await withCheckedContinuation { (c: CheckedContinuation<BaselineReport?, Never>) in
            queue.pushUnbounded(.baseline(subject, feature: feature, last: last, { c.resume(returning: $0) }))
        }
    }

    /// What the engine holds (subjects, series, open days), after everything queued so far: for a scrape.
    public func census() async -> EngineCensus {
        await withCheckedContinuation { (c: CheckedContinuation<EngineCensus, Never>) in
            queue.pushUnbounded(.census({ c.resume(returning: $0) }))
        }
    }

    /// A subject's report data (its days in the engine, judged again), after everything queued so far.
    public func reportData(subject: String) async -> ReportData? {
        await withCheckedContinuation { (c: CheckedContinuation<ReportData?, Never>) in
            queue.pushUnbounded(.report(subject, { c.resume(returning: $0) }))
        }
    }

    /// Returns once everything queued so far is evaluated (stopping: the final commit follows).
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.pushUnbounded(.drain({ c.resume() }))
        }
    }

    /// Stops the thread after the commands queued so far.
    public func stop() async {
        queue.close()
        for await _ in stopped.stream {}
    }

    private func run(_ initial: CanaryEngine) {
        // Named from inside: a name set before start() does not reach the Linux thread.
        Thread.current.name = "canary-engine"
        var engine = initial
        var sink = OutboxSink(channels: channels, identity: identity)
        var lastPing = ContinuousClock.now
        // Set back so the first round checks the clock: streams that went quiet before a restart close at once.
        var lastClose = ContinuousClock.now - .seconds(maxCloseInterval)
        var sequence = 0
        /// Each erased subject's command sequence number, by token: alerts of a failed snapshot taken before it stay dropped.
        var erasedAt: [String: Int] = [:]
        /// The ledger version the engine's subjects were last checked under (each is asked once per version).
        var admittedVersion: Int?
        /// Removals of failed snapshots, saved with the next one.
        var removedAgain: [String] = []
        let admission = self.admission
        /// When the ledger changed: subjects without monitor consent are dropped (state, pending alerts),
        /// and every subject is asked about again.
        func refreshAdmission(_ now: Double) {
            let version = admission.version()
            guard version != admittedVersion else { return }
            admittedVersion = version
            for subject in engine.subjectIDs where !admission.allows(subject, now) {
                engine.drop(subject: subject)
                sink.pending.removeAll { $0.alert.subject == subject }
            }
            update(rows: 0, alerts: (0, 0), subjects: engine.subjectCount)
        }
        refreshAdmission(Date().timeIntervalSince1970)
        if watchdogEvery != nil { notifier.watchdog() }
        while true {
            // Wake at least every second: to check the clock for quiet streams and to show the loop is alive.
            let (command, closed) = queue.pop(until: Date().addingTimeInterval(1))
            if closed { break }
            sequence += 1
            switch command {
            case .batch(let records, let queuedAt, let done)?:
                let lateBefore = engine.lateRows, duplicateBefore = engine.duplicateRows, closedBefore = engine.closedDays
                let now = Date().timeIntervalSince1970
                refreshAdmission(now)
                // The engine itself keeps nothing of a subject without monitor consent, whatever a
                // connection admitted before a withdrawal reached it (asked once per subject per ledger
                // version). Rows past one of the engine's bounds are refused by index, for the connection
                // to name their lines.
                let version = admittedVersion ?? 0
                let allows = { (subject: String) in admission.allows(subject, now) }
                engine.arrival = now
                var refused: [BatchOutcome.Refused] = []
                var firstLate: (index: Int, openSince: String)?
                var late = lateBefore
                for (i, r) in records.enumerated() {
                    if let why = engine.ingest(r, admission: version, allows: allows, into: &sink) { refused.append(.init(index: i, refusal: why)) }
                    if engine.lateRows != late {
                        late = engine.lateRows
                        if firstLate == nil { firstLate = (i, engine.lastLateOpenPeriod ?? "?") }
                    }
                }
                update(rows: records.count - refused.count, alerts: sink.takeCount(), subjects: engine.subjectCount)
                lock.withLock { counters.late += engine.lateRows - lateBefore }
                done(BatchOutcome(late: engine.lateRows - lateBefore, firstLate: firstLate,
                                  duplicate: engine.duplicateRows - duplicateBefore, refused: refused))
                metrics?.evaluated(lag: .now - queuedAt, daysClosed: engine.closedDays - closedBefore)
            case .assignZone(let subject, let zone)?:
                engine.assignZone(zone, to: subject)
            case .snapshot(let alertsOnly, let done)?:
                // Copies only: the committer encodes them on its own thread.
                // Every earlier snapshot is saved or handed back by now: no requeue can predate these erasures.
                erasedAt.removeAll()
                let removed = removedAgain + engine.takeRemovals()
                removedAgain = []
                let alerts = sink.takePending()
                let states = alertsOnly ? engine.takeChanges(of: alerts.map(\.alert.subject)) : engine.takeChanges()
                done(EngineSnapshot(states: states, removed: removed, sequence: sequence, alerts: alerts))
            case .requeue(let alerts, let subjects, let removed, let taken)?:
                let now = Date().timeIntervalSince1970
                let kept = alerts.filter {
                    (erasedAt[admission.token($0.alert.subject)].map { $0 < taken } ?? true) && admission.allows($0.alert.subject, now)
                }
                sink.pending.insert(contentsOf: kept, at: 0)
                engine.markUnsaved(subjects)
                removedAgain += removed
            case .erase(let subject, let done)?:
                sink.pending.removeAll { $0.alert.subject == subject }
                removedAgain.removeAll { $0 == subject }
                erasedAt[admission.token(subject)] = sequence
                done(engine.erase(subject: subject), sequence)
                update(rows: 0, alerts: (0, 0), subjects: engine.subjectCount)
            case .reconfigure(let c)?:
                engine.reconfigure(c)
            case .baseline(let subject, let feature, let last, let done)?:
                done(engine.baselineReport(subject: subject, feature: feature, last: last))
            case .report(let subject, let done)?:
                done(engine.reportData(subject: subject))
            case .census(let done)?:
                done(engine.census)
            case .drain(let done)?:
                // Stopping: open days stay open; they are saved with the state and closed after the restart.
                done()
            case nil:
                break
            }
            // A withdrawal takes effect within a loop round, ingest or not.
            refreshAdmission(Date().timeIntervalSince1970)
            let now = ContinuousClock.now
            // Days of streams that keep sending close by their own data as it arrives; the clock speaks
            // only for streams that went quiet (`engine.max_lateness`) and for gaps of raw metrics.
            if now - lastClose >= .seconds(maxCloseInterval) {
                let closedBefore = engine.closedDays
                engine.advance(to: Date().timeIntervalSince1970, into: &sink)
                metrics?.closed(days: engine.closedDays - closedBefore)
                update(rows: 0, alerts: sink.takeCount(), subjects: engine.subjectCount)
                lastClose = now
            }
            if sink.announce() { alertsPending() }
            // The loop came round and the event loops answer: the pipeline is alive.
            if let every = watchdogEvery, now - lastPing >= every, pipelineHealthy() {
                notifier.watchdog()
                lastPing = now
            }
        }
        stopped.continuation.finish()
    }

    private func update(rows: Int, alerts: (emitted: Int, withheld: Int), subjects: Int) {
        lock.lock()
        counters.rows += rows
        counters.alerts += alerts.emitted
        counters.withheld += alerts.withheld
        metrics?.withheld(alerts.withheld)
        counters.subjects = subjects
        lock.unlock()
    }
}

/// The engine sink of the service: each alert gets its keyed id and its channels at once (consent at
/// the moment of emission) and waits for the next snapshot; one no channel takes is withheld.
struct OutboxSink: EngineSink {
    let channels: @Sendable (Alert) -> [String]
    let identity: AlertIdentity?
    var pending: [PendingAlert] = []
    private var emitted = 0
    private var withheld = 0
    private var unannounced = false

    init(channels: @escaping @Sendable (Alert) -> [String], identity: AlertIdentity? = nil) {
        self.channels = channels
        self.identity = identity
    }

    mutating func emit(_ decided: Alert) {
        let alert = identity?.keyed(decided) ?? decided
        let to = channels(alert)
        guard !to.isEmpty else {
            withheld += 1
            return
        }
        pending.append(PendingAlert(alert: alert, channels: to, emittedAt: Date().timeIntervalSince1970))
        emitted += 1
        unannounced = true
    }

    /// Alerts emitted and withheld since the last call.
    mutating func takeCount() -> (emitted: Int, withheld: Int) {
        defer { emitted = 0; withheld = 0 }
        return (emitted, withheld)
    }

    mutating func takePending() -> [PendingAlert] {
        defer { pending.removeAll() }
        return pending
    }

    /// Whether new alerts arrived since the last call.
    mutating func announce() -> Bool {
        defer { unannounced = false }
        return unannounced
    }
}

/// The engine's state at one point of its command sequence.
public struct EngineSnapshot: Sendable {
    /// Per subject changed since the previous snapshot (`CanaryEngine.takeChanges`), not yet encoded.
    public var states: [String: SubjectSnapshot]
    /// Subjects dropped since the previous snapshot (monitor consent ended): their saved state is deleted.
    public var removed: [String] = []
    /// The engine's command sequence number when it was taken.
    public var sequence: Int
    /// Alerts decided since the previous snapshot, for the outbox.
    public var alerts: [PendingAlert] = []
}

/// Which subjects the engine may hold anything about: those with an active `monitor` grant. `version`
/// changes whenever the ledger does, so the engine asks about each subject once per version.
public struct MonitorAdmission: Sendable {
    public var version: @Sendable () -> Int
    public var allows: @Sendable (_ subject: String, _ at: Double) -> Bool
    /// A name for a subject that the engine may keep in memory after an erasure (its pseudonymous token).
    public var token: @Sendable (String) -> String

    public init(version: @escaping @Sendable () -> Int, allows: @escaping @Sendable (String, Double) -> Bool,
                token: @escaping @Sendable (String) -> String) {
        self.version = version
        self.allows = allows
        self.token = token
    }

    /// Everyone (no consent ledger).
    public static let everyone = MonitorAdmission(version: { 0 }, allows: { _, _ in true }, token: { $0 })
}

extension EngineLoop: Service {
    /// Runs the engine thread until a graceful stop reaches it (the committer, stopped before it, has
    /// drained it and committed); then the thread ends after the commands already queued.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await stop()
    }
}
