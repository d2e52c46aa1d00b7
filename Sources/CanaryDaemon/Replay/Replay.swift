import CanaryCore
import Foundation

/// `canaryctl replay`: runs the engine over files exactly as the daemon does over the socket,
/// writing alerts as JSON Lines and, optionally, every evaluated observation as CSV. Several files
/// are merged by time as streams, as a live feed would interleave them (`ReplayReader`).
public struct Replay {
    /// One file to read, with the format and subject when the file does not say.
    public struct Input: Sendable {
        public var path: String
        public var format: InputFormat?
        public var subject: String?
        public init(path: String, format: InputFormat? = nil, subject: String? = nil) {
            self.path = path
            self.format = format
            self.subject = subject
        }
    }

    /// What a replay did, for the summary.
    public struct Summary: Sendable {
        public var counts = FileIngest.Counts()
        public var subjects = 0
        public var alertsByKind: [AlertKind: Int] = [:]
        public var observations = 0
        public var lateRows = 0
        /// Raw samples not newer than their series' latest, not evaluated again.
        public var duplicateRows = 0
        /// Valid rows the engine refused for a bound (`engine.max_subjects`, `engine.max_metrics_per_subject`).
        public var refusedRows = 0
        public var seconds = 0.0
        /// With `collect`: every alert, in the order decided, and each subject's first and last row instant.
        public var alerts: [Alert] = []
        public var spans: [String: ClosedRange<Double>] = [:]
        /// The report of `Replay.reportSubject` (nil when the replay held nothing of it).
        public var report: ReportData?

        public var rowsPerSecond: Double { seconds > 0 ? Double(counts.totalAccepted + counts.totalRejected) / seconds : 0 }
    }

    public var configuration: CanaryConfiguration
    public var inputs: [Input]
    /// Wall-clock now, for the future-timestamp check (passed in: the core reads no clock).
    public var now: Double
    public var maxErrorsShownPerFile = 20
    /// Keep the alerts and each subject's span of rows in the summary (for `canaryctl backtest`).
    public var collect = false
    /// A subject whose report to make (`canaryctl report`): every observation and alert of it is kept,
    /// and `Summary.report` holds its `ReportData`.
    public var reportSubject: String?

    public init(configuration: CanaryConfiguration, inputs: [Input], now: Double) {
        self.configuration = configuration
        self.inputs = inputs
        self.now = now
    }

    /// Runs the replay. Alerts go to `alerts` (one JSON object per line), observations to `scores` when given,
    /// row errors and progress to `diagnostics`.
    public func run(alerts: BufferedWriter?, scores: BufferedWriter?, diagnostics: @escaping (String) -> Void,
                    progress: ProgressReporter?) throws -> Summary {
        let started = DispatchTime.now().uptimeNanoseconds
        var summary = Summary()
        let engineConfiguration = configuration.engine
        var engine = CanaryEngine(configuration: engineConfiguration)
        var sink = ReplaySink(alerts: alerts, scores: scores, collect: collect, reportSubject: reportSubject)
        defer { sink.scores?.finish() }
        var spans: [String: ClosedRange<Double>] = [:]
        var latest = -Double.infinity
        // Reading and parsing run on their own thread, evaluation on this one. One file is fed to the
        // engine as it is read, as the socket feeds it; several are merged by time, as a live feed
        // would interleave them (`ReplayReader`).
        let queue = BoundedQueue<ReplayItem>(capacity: 8)
        // No clock for the past: a backtest reads old files. Rows are bounded by their subject's latest row instead.
        var reading = ReplayReader(inputs: inputs, zones: engineConfiguration.zones,
                                   latestAccepted: now + engineConfiguration.maxFutureSeconds,
                                   maxPast: engineConfiguration.maxPastSeconds, limits: engineConfiguration.valueLimits)
        reading.errorsShownPerFile = maxErrorsShownPerFile
        let reader = Thread { [reading] in reading.run(into: queue) }
        reader.stackSize = 1 << 22
        reader.start()
        var shown: [String: Int] = [:]
        var hidden: [String: Int] = [:]
        var failure: String?
        while let item = queue.pop() {
            switch item {
            case .records(let batch):
                for record in batch {
                    engine.ingest(record, into: &sink)
                    if record.timestamp > latest { latest = record.timestamp }
                }
                if collect {
                    for record in batch {
                        let t = record.timestamp
                        if let span = spans[record.subject] {
                            if t < span.lowerBound || t > span.upperBound { spans[record.subject] = min(t, span.lowerBound)...max(t, span.upperBound) }
                        } else {
                            spans[record.subject] = t...t
                        }
                    }
                }
            case .rejected(let path, let e):
                if shown[path, default: 0] < maxErrorsShownPerFile {
                    shown[path, default: 0] += 1
                    diagnostics("\(path):\(e.description)")
                } else {
                    hidden[path, default: 0] += 1
                }
            case .zone(let subject, let zone):
                // A `#canary subject=ID tz=Zone` directive sets the subject's zone for its days too.
                engine.assignZone(zone, to: subject)
            case .fileDone(let path, let counts, let more):
                let n = hidden[path, default: 0] + more
                if n > 0 { diagnostics("\(path): \(n) more rejected rows not shown") }
                summary.counts.add(counts)
            case .progress(let phase, let done, let total):
                progress?.update(phase: phase, done: done, total: total)
            case .failed(let message):
                failure = message
            }
        }
        if let failure { throw ReplayError(failure) }
        if latest.isFinite { engine.finish(at: latest, into: &sink) }
        progress?.finish()
        alerts?.flush()
        sink.scores?.finish()
        summary.alerts = sink.collected
        if let subject = reportSubject, var report = engine.reportData(subject: subject) {
            report.replacePoints(with: sink.kept)
            report.alerts = sink.keptAlerts
            summary.report = report
        }
        summary.spans = spans
        summary.subjects = engine.subjectCount
        summary.alertsByKind = sink.alertsByKind
        summary.observations = sink.observations
        summary.lateRows = engine.lateRows
        summary.duplicateRows = engine.duplicateRows
        summary.refusedRows = engine.refusedRows
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return summary
    }
}

/// What the reading thread hands to the evaluating thread.
enum ReplayItem: Sendable {
    case records([Record])
    case rejected(String, RowError)
    case zone(String, TimeZone)
    /// A file read to its end; `moreRejected`: its rejected rows not handed over (beyond those shown).
    case fileDone(String, FileIngest.Counts, moreRejected: Int)
    /// Phase ("reading", "evaluating"), done, total.
    case progress(String, Int, Int)
    case failed(String)
}

/// Writes alerts and observations as the engine decides them.
struct ReplaySink: EngineSink {
    let alerts: BufferedWriter?
    let scores: ScoresWriter?
    let collect: Bool
    var alertsByKind: [AlertKind: Int] = [:]
    var observations = 0
    var collected: [Alert] = []
    let reportSubject: String?
    /// The report subject's observations and alerts.
    var kept: [Observation] = []
    var keptAlerts: [Alert] = []

    init(alerts: BufferedWriter?, scores: BufferedWriter?, collect: Bool = false, reportSubject: String? = nil) {
        self.alerts = alerts
        self.scores = scores.map(ScoresWriter.init(output:))
        self.collect = collect
        self.reportSubject = reportSubject
    }

    var wantsObservations: Bool { scores != nil || reportSubject != nil }

    mutating func emit(_ alert: Alert) {
        alertsByKind[alert.kind, default: 0] += 1
        if collect { collected.append(alert) }
        if alert.subject == reportSubject { keptAlerts.append(alert) }
        guard let alerts else { return }
        alerts.write(AlertJSON.encode(alert))
        alerts.write("\n")
    }

    mutating func observe(_ o: Observation) {
        observations += 1
        scores?.append(o)
        if o.subject == reportSubject { kept.append(o) }
    }
}
