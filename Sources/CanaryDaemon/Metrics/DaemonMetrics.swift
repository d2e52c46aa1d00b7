import CanaryCore
import CoreMetrics
import Foundation
import Prometheus

/// The operator's view of a running canaryd, as Prometheus metrics: what was ingested and refused,
/// connections, what the engine holds, days closed, alerts, deliveries, the outbox, commit latency,
/// evaluation lag, reloads, and the build. Recorded through swift-metrics' types, each backed by a
/// collector of one `PrometheusCollectorRegistry` (with its help text), never the global metrics
/// system: each daemon (and each test) has its own registry.
///
/// Labels carry only what the operator configured or canaryd defines (formats, reasons, kinds,
/// channel names, outcomes): never a subject id, a token or a health value.
public final class DaemonMetrics: Sendable {
    /// The collectors, emitted by `exposition`.
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    private let connectionsOpened: CoreMetrics.Counter
    private let connectionsRefusedUnauthorized: CoreMetrics.Counter
    private let connectionsRefusedLimit: CoreMetrics.Counter
    private let accepted: [InputFormat: CoreMetrics.Counter]
    private let late: [InputFormat: CoreMetrics.Counter]
    private let duplicate: [InputFormat: CoreMetrics.Counter]
    private let daysClosed: CoreMetrics.Counter
    private let withheld: CoreMetrics.Counter
    private let commitsOK: CoreMetrics.Counter
    private let commitsFailed: CoreMetrics.Counter
    private let commitDuration: CoreMetrics.Timer
    private let evaluationLag: CoreMetrics.Timer
    private let reloadsOK: CoreMetrics.Counter
    private let reloadsRefused: CoreMetrics.Counter

    private let connectionsOpen: CoreMetrics.Gauge
    private let subjects: CoreMetrics.Gauge
    private let series: CoreMetrics.Gauge
    private let openDays: CoreMetrics.Gauge
    private let outboxDepth: CoreMetrics.Gauge
    private let outboxOldest: CoreMetrics.Gauge
    private let deadLetters: CoreMetrics.Gauge

    /// One metric family: its name and help text (the registry insists that a name keeps one help text).
    struct Family: Sendable {
        let name: String
        let help: String
        var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
    }

    enum Families {
        static let connections = Family(name: "canary_ingest_connections_total",
                                        help: "Ingest connections by result: accepted, unauthorized (peer not allowed), limit (daemon.max_connections).")
        static let connectionsOpen = Family(name: "canary_ingest_connections_open", help: "Ingest connections open now.")
        static let accepted = Family(name: "canary_rows_accepted_total", help: "Rows accepted and evaluated, by input format.")
        static let rejected = Family(name: "canary_rows_rejected_total",
                                     help: "Rows rejected, by input format and reason (the ERR kind of the reply).")
        static let late = Family(name: "canary_rows_late_total",
                                 help: "Accepted rows whose period was already evaluated (counted, not evaluated), by input format.")
        static let duplicate = Family(name: "canary_rows_duplicate_total",
                                      help: "Accepted rows the engine already held (resent or overlapping), by input format.")
        static let subjects = Family(name: "canary_subjects_tracked", help: "Subjects the engine holds state for.")
        static let series = Family(name: "canary_series_tracked", help: "Feature and raw-metric series the engine holds, over all subjects.")
        static let openDays = Family(name: "canary_open_periods", help: "Subject-days received and not yet evaluated.")
        static let daysClosed = Family(name: "canary_periods_closed_total", help: "Periods (subject-stream days, hours of raw metrics) closed and evaluated.")
        static let alerts = Family(name: "canary_alerts_total", help: "Alerts committed to the outbox, by kind.")
        static let withheld = Family(name: "canary_alerts_withheld_total",
                                     help: "Alerts decided for a subject who consented to no channel that takes them (not kept).")
        static let deliveries = Family(name: "canary_deliveries_total",
                                       help: "Delivery attempts by channel (journal, webhook:NAME) and outcome (delivered, retry, dead).")
        static let outboxDepth = Family(name: "canary_outbox_deliveries_owed", help: "Deliveries owed (queued or in flight).")
        static let outboxOldest = Family(name: "canary_outbox_oldest_owed_age_seconds",
                                         help: "Age of the oldest delivery owed, 0 when none is owed.")
        static let deadLetters = Family(name: "canary_dead_letters", help: "Deliveries given up and kept as dead letters (canaryctl alerts retry).")
        static let commits = Family(name: "canary_commits_total", help: "Commits of evaluation state and alerts to the state database, by result.")
        static let commitDuration = Family(name: "canary_commit_duration_seconds",
                                           help: "Time to commit a snapshot of evaluation state and alerts, snapshot included.")
        static let evaluationLag = Family(name: "canary_evaluation_lag_seconds",
                                          help: "Time from a batch of rows handed to the engine to its evaluation done (queueing included).")
        static let reloads = Family(name: "canary_reloads_total", help: "Configuration reloads (SIGHUP) by result: applied, refused.")
        static let buildInfo = Family(name: "canary_build_info", help: "Always 1; the version of canaryd in its label.")
    }

    /// Latency buckets, 100 µs to 10 s.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    public init(version: String = CanaryCoreVersion.string) {
        factory = PrometheusMetricsFactory(registry: registry)
        let registry = self.registry, factory = self.factory
        func counter(_ f: Family, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: f.name, dimensions: labels,
                                handler: registry.makeCounter(descriptor: f.descriptor, labels: labels), factory: factory)
        }
        func gauge(_ f: Family, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
            CoreMetrics.Gauge(label: f.name, dimensions: labels, aggregate: false,
                              handler: registry.makeGauge(descriptor: f.descriptor, labels: labels), factory: factory)
        }
        func timer(_ f: Family) -> CoreMetrics.Timer {
            CoreMetrics.Timer(label: f.name, dimensions: [],
                              handler: registry.makeDurationHistogram(descriptor: f.descriptor, labels: [], buckets: Self.latencyBuckets),
                              factory: factory)
        }
        connectionsOpened = counter(Families.connections, [("result", "accepted")])
        connectionsRefusedUnauthorized = counter(Families.connections, [("result", "unauthorized")])
        connectionsRefusedLimit = counter(Families.connections, [("result", "limit")])
        accepted = Dictionary(uniqueKeysWithValues: InputFormat.allCases.map { ($0, counter(Families.accepted, [("format", $0.rawValue)])) })
        late = Dictionary(uniqueKeysWithValues: InputFormat.allCases.map { ($0, counter(Families.late, [("format", $0.rawValue)])) })
        duplicate = Dictionary(uniqueKeysWithValues: InputFormat.allCases.map { ($0, counter(Families.duplicate, [("format", $0.rawValue)])) })
        daysClosed = counter(Families.daysClosed)
        withheld = counter(Families.withheld)
        commitsOK = counter(Families.commits, [("result", "ok")])
        commitsFailed = counter(Families.commits, [("result", "failed")])
        commitDuration = timer(Families.commitDuration)
        evaluationLag = timer(Families.evaluationLag)
        reloadsOK = counter(Families.reloads, [("result", "applied")])
        reloadsRefused = counter(Families.reloads, [("result", "refused")])
        connectionsOpen = gauge(Families.connectionsOpen)
        subjects = gauge(Families.subjects)
        series = gauge(Families.series)
        openDays = gauge(Families.openDays)
        outboxDepth = gauge(Families.outboxDepth)
        outboxOldest = gauge(Families.outboxOldest)
        deadLetters = gauge(Families.deadLetters)
        gauge(Families.buildInfo, [("version", version)]).record(1)
        // Every kind and the usual outcomes exist from the start at 0, so a rate() over them is defined.
        for kind in AlertKind.allCases { _ = counter(Families.alerts, [("kind", kind.rawValue)]) }
        _ = counter(Families.deliveries, [("channel", AlertChannel.journal), ("outcome", "delivered")])
    }

    private func counter(_ f: Family, _ labels: [(String, String)]) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: f.name, dimensions: labels,
                            handler: registry.makeCounter(descriptor: f.descriptor, labels: labels), factory: factory)
    }

    // MARK: Recording

    /// An ingest connection was accepted, refused for its peer, or refused at the connection limit.
    func connectionOpened() { connectionsOpened.increment() }
    func connectionRefused(limit: Bool) { (limit ? connectionsRefusedLimit : connectionsRefusedUnauthorized).increment() }

    /// What a connection's rows came to since its last tally.
    func record(_ tally: IngestTally) {
        for (format, c) in tally.byFormat {
            if c.accepted > 0 { accepted[format]!.increment(by: c.accepted) }
            if c.late > 0 { late[format]!.increment(by: c.late) }
            if c.duplicate > 0 { duplicate[format]!.increment(by: c.duplicate) }
        }
        for (reason, count) in tally.rejected where count > 0 {
            counter(Families.rejected, [("format", tally.rejectedFormat?.rawValue ?? "unknown"), ("reason", reason)]).increment(by: count)
        }
    }

    /// One batch evaluated: how long it waited and took, and how many days it closed.
    func evaluated(lag: Duration, daysClosed closed: Int) {
        evaluationLag.recordNanoseconds(lag.nanoseconds)
        if closed > 0 { daysClosed.increment(by: closed) }
    }

    /// Days closed by the clock (quiet streams), outside a batch.
    func closed(days: Int) {
        if days > 0 { daysClosed.increment(by: days) }
    }

    /// A commit ended: how long it took, whether it was saved, and the alerts it committed.
    func committed(duration: Duration, ok: Bool, alerts: [AlertKind]) {
        commitDuration.recordNanoseconds(duration.nanoseconds)
        (ok ? commitsOK : commitsFailed).increment()
        guard ok else { return }
        var byKind: [AlertKind: Int] = [:]
        for kind in alerts { byKind[kind, default: 0] += 1 }
        for (kind, n) in byKind { counter(Families.alerts, [("kind", kind.rawValue)]).increment(by: n) }
    }

    func withheld(_ count: Int) {
        if count > 0 { withheld.increment(by: count) }
    }

    /// Delivery results as the dispatcher records them.
    func delivered(channel: String, outcome: String) {
        counter(Families.deliveries, [("channel", channel), ("outcome", outcome)]).increment()
    }

    func reloaded(applied: Bool) { (applied ? reloadsOK : reloadsRefused).increment() }

    // MARK: Scrape

    /// What is read at each scrape rather than counted as it happens.
    struct Census: Sendable {
        var connectionsOpen = 0
        var engine = EngineCensus()
        var outboxOwed = 0
        var oldestOwedAge: Double = 0
        var deadLetters = 0
    }

    /// The text exposition format (version 0.0.4), with `census` as the gauges' values.
    func exposition(_ census: Census) -> String {
        connectionsOpen.record(census.connectionsOpen)
        subjects.record(census.engine.subjects)
        series.record(census.engine.series)
        openDays.record(census.engine.openDays)
        outboxDepth.record(census.outboxOwed)
        outboxOldest.record(census.oldestOwedAge)
        deadLetters.record(census.deadLetters)
        return registry.emitToString()
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at Int64's bounds (a histogram must never see a wrapped value).
    var nanoseconds: Int64 {
        let (s, a) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return s < 0 ? .min : .max }
        let (total, over) = ns.addingReportingOverflow(a / 1_000_000_000)
        return over ? (ns < 0 ? .min : .max) : total
    }
}
