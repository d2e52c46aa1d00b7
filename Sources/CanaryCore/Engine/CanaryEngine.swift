import Foundation

/// The functional core: takes validated records and the passage of time, returns decisions through a sink.
///
/// Rows are grouped per subject and stream into local days (hours, or single observations for raw
/// metrics). Time is event time, per stream: a stream's day closes once that stream's own data has
/// moved `closeDelaySeconds` past the day's end, whatever the other streams or the wall clock do, so
/// a backfill closes its days as fast as its data advances and rows within the window may come in any
/// order. A stream that went quiet is closed by the caller's clock (`advance(to:)`) once its days
/// ended `maxLatenessSeconds` ago. A closed day's features are derived, scored against the person's
/// own baseline and passed through the rules; cross-stream (composite) rules decide a day once every
/// stream the subject uses has closed it. The engine never reads a clock or a file.
public struct CanaryEngine: Sendable {
    public var configuration: EngineConfiguration { evaluator.configuration }
    private var evaluator: EngineEvaluator
    var subjects: [String: SubjectState] = [:]
    /// Zones set by `#canary subject=ID tz=Zone` directives, over the configuration's; one entry per
    /// subject, so an assignment costs O(1) whatever the number of subjects.
    private var assignedZones: [String: TimeZone] = [:]
    /// Valid records refused because a bound (`maxSubjects`, `maxMetricsPerSubject`) was reached.
    public private(set) var refusedRows = 0
    /// Subjects dropped since the last `takeRemovals`.
    private var removed: Set<String> = []
    /// The caller's clock when it feeds rows as they arrive (the daemon sets it per batch); nil in a
    /// replay. Kept per stream, so a stream that goes quiet is known as such.
    public var arrival: Double?

    public init(configuration: EngineConfiguration) {
        evaluator = EngineEvaluator(configuration: configuration)
    }

    /// Subjects the engine currently holds state for.
    public var subjectCount: Int { subjects.count }

    /// Days closed (evaluated) since this engine was made, summed over subjects; the cost of closing.
    var daysClosed: Int { subjects.values.reduce(0) { $0 + $1.daysClosed } }

    /// Subject-stream days closed (evaluated) in this engine's life.
    public private(set) var closedDays = 0

    /// Rows that arrived after their period had closed, in this engine's life.
    public private(set) var lateRows = 0
    /// For the last late row: its subject's oldest period still open (`2026-03-05`, or an hour), so the
    /// sender can be told from where on rows are still evaluated.
    public private(set) var lastLateOpenPeriod: String?
    /// Rows the engine already held (a resend, an overlapping upload: same subject, stream and instant, for
    /// sleep the same session; for a raw metric, not newer than its series' latest), counted once, in this engine's life.
    public private(set) var duplicateRows = 0

    /// Swaps in a new configuration; state (histories, rule states) is kept.
    public mutating func reconfigure(_ configuration: EngineConfiguration) {
        evaluator = EngineEvaluator(configuration: configuration)
        for key in subjects.keys {
            subjects[key]!.clock = ZoneClock(zone(for: key))
        }
    }

    /// The zone a subject's days are on: a directive's, else the configuration's.
    public func zone(for subject: String) -> TimeZone {
        assignedZones[subject] ?? configuration.zones.zone(for: subject)
    }

    /// Feeds one validated record; decisions it triggers (a raw observation's alert, days it closes) go to `sink`.
    /// Returns why the record was refused when it would take the engine past one of its bounds (a new
    /// subject beyond `maxSubjects`, a new metric beyond `maxMetricsPerSubject`); nothing of it is kept then.
    @discardableResult
    public mutating func ingest<S: EngineSink>(_ record: Record, into sink: inout S) -> IngestRefusal? {
        ingest(record, admission: 0, allows: { _ in true }, into: &sink)
    }

    /// `ingest`, keeping nothing of a subject `allows` says no to (consent withdrawn while the row was on
    /// its way): such a row is dropped. `allows` is asked once per subject
    /// per `admission` version (the ledger's), so the per-row cost is one integer comparison.
    @discardableResult
    public mutating func ingest<S: EngineSink>(_ record: Record, admission version: Int, allows: (String) -> Bool,
                                               into sink: inout S) -> IngestRefusal? {
        let evaluator = self.evaluator
        let subject = record.subject
        var index = subjects.index(forKey: subject)
        if index == nil {
            guard allows(subject) else { return nil }
            guard subjects.count < configuration.maxSubjects else {
                refusedRows += 1
                return .tooManySubjects(limit: configuration.maxSubjects)
            }
            var state = SubjectState(clock: ZoneClock(zone(for: subject)))
            state.assignedZone = assignedZones[subject]?.identifier
            state.admittedUnder = version
            subjects[subject] = state
            index = subjects.index(forKey: subject)
        }
        // In place (never read through the getter: that would copy the whole state, buffers and all).
        var tally = RowTally()
        let closedBefore = subjects.values[index!].closedSoFar()
        defer { closedDays &+= subjects.values[index!].closedSoFar() &- closedBefore }
        if let refusal = evaluator.ingest(record, subject: subject, state: &subjects.values[index!], into: &sink, tally: &tally,
                                          arrival: arrival, admission: version, allows: allows) {
            refusedRows += 1
            return refusal
        }
        if tally.late > 0 {
            lateRows &+= tally.late
            lastLateOpenPeriod = tally.oldestOpen
        }
        duplicateRows &+= tally.duplicate
        return nil
    }

    /// The caller's clock has reached `now`: every stream that has had no row for `maxLatenessSeconds`
    /// closes the days that ended that long ago (its data will not say so any more), and gaps of raw
    /// metrics are checked. With `inputEnded` (a one-shot input at its end) every stream is quiet and
    /// days close once they ended `closeDelaySeconds` ago.
    public mutating func advance<S: EngineSink>(to now: Double, inputEnded: Bool = false, into sink: inout S) {
        let evaluator = self.evaluator
        for key in subjects.keys.sorted() {
            let i = subjects.index(forKey: key)!
            let closedBefore = subjects.values[i].closedSoFar()
            defer { closedDays &+= subjects.values[i].closedSoFar() &- closedBefore }
            if evaluator.advance(subject: key, state: &subjects.values[i], now: now, inputEnded: inputEnded, into: &sink) {
                subjects.values[i].unsaved = true
            }
        }
    }

    /// The input has ended (a replay's last row): every stream of every subject closes its days up to and
    /// including the day of the subject's last row, and up to `latest` (the input's newest row) minus the
    /// close delay, so nothing received goes unevaluated; then gaps of raw metrics are checked at `latest`.
    public mutating func finish<S: EngineSink>(at latest: Double = -.infinity, into sink: inout S) {
        let evaluator = self.evaluator
        for key in subjects.keys.sorted() {
            let i = subjects.index(forKey: key)!
            let closedBefore = subjects.values[i].closedSoFar()
            defer { closedDays &+= subjects.values[i].closedSoFar() &- closedBefore }
            subjects.values[i].unsaved = true
            evaluator.finish(subject: key, state: &subjects.values[i], latest: latest, into: &sink)
            if latest.isFinite {
                evaluator.checkRawGaps(subject: key, state: &subjects.values[i], now: latest, into: &sink)
            }
        }
    }
}

/// One subject's state as a snapshot took it (a copy), to be encoded wherever convenient.
public struct SubjectSnapshot: Sendable {
    let state: SubjectState

    /// The JSON `importState` takes back.
    public func encoded(with encoder: JSONEncoder = JSONEncoder()) throws -> Data {
        try encoder.encode(state)
    }
}

extension CanaryEngine {
    /// Applies new time-zone assignments and keeps everything else.
    public mutating func reconfigure(with zones: ZoneBook) {
        var c = configuration
        c.zones = zones
        reconfigure(c)
    }

    /// Everything the engine holds for each subject (open days, histories, rule states), as JSON per
    /// subject: what a restart needs to continue exactly where it was.
    public func exportState() throws -> [String: Data] {
        let encoder = JSONEncoder()
        var out: [String: Data] = [:]
        for (subject, state) in subjects { out[subject] = try encoder.encode(state) }
        return out
    }

    /// The subjects changed since the last call (or since `importState`), as copies to encode later,
    /// off the caller's thread; they count as saved from now on. A caller that then fails to save
    /// them calls `markUnsaved`.
    public mutating func takeChanges() -> [String: SubjectSnapshot] {
        var out: [String: SubjectSnapshot] = [:]
        for (subject, state) in subjects where state.unsaved {
            out[subject] = SubjectSnapshot(state: state)
        }
        for subject in out.keys { subjects[subject]!.unsaved = false }
        return out
    }

    /// `takeChanges` for `wanted` only (the subjects whose alerts are being committed); every other subject
    /// stays unsaved for a later call. Costs a lookup per wanted subject, whatever the number held.
    public mutating func takeChanges(of wanted: some Sequence<String>) -> [String: SubjectSnapshot] {
        var out: [String: SubjectSnapshot] = [:]
        for subject in wanted where out[subject] == nil {
            // In place: reading `unsaved` through the getter would copy the whole state first.
            guard let i = subjects.index(forKey: subject), subjects.values[i].takeUnsaved() else { continue }
            out[subject] = SubjectSnapshot(state: subjects.values[i])
        }
        return out
    }

    /// `takeChanges`, encoded as `exportState` encodes.
    public mutating func exportChanges() throws -> [String: Data] {
        try takeChanges().mapValues { try $0.encoded() }
    }

    /// Subjects whose exported state could not be saved: the next `exportChanges` includes them again.
    public mutating func markUnsaved(_ subjects: some Sequence<String>) {
        for s in subjects where self.subjects[s] != nil { self.subjects[s]!.unsaved = true }
    }

    /// Takes back what `exportState` gave. The subject's time zone is the one a directive set, else the
    /// current configuration's.
    public mutating func importState(_ states: [String: Data]) throws {
        let decoder = JSONDecoder()
        for (subject, data) in states {
            var state = try decoder.decode(SubjectState.self, from: data)
            // A zone a directive set before the restart still holds.
            if let id = state.assignedZone, let zone = TimeZone(identifier: id) { assignedZones[subject] = zone }
            state.clock = ZoneClock(zone(for: subject))
            state.metricNames = state.knownMetricNames()
            state.unsaved = false
            subjects[subject] = state
        }
    }

    /// Forgets everything held for a subject (erasure): open days, histories, rule states. True when there was any.
    @discardableResult
    public mutating func erase(subject: String) -> Bool {
        assignedZones.removeValue(forKey: subject)
        return subjects.removeValue(forKey: subject) != nil
    }

    /// The subjects the engine holds state for.
    public var subjectIDs: [String] { Array(subjects.keys) }

    /// Forgets a subject that may no longer be evaluated (its monitor consent ended) and remembers it
    /// for `takeRemovals`, so its saved state is deleted too. True when there was any.
    @discardableResult
    public mutating func drop(subject: String) -> Bool {
        assignedZones.removeValue(forKey: subject)
        guard subjects.removeValue(forKey: subject) != nil else { return false }
        removed.insert(subject)
        return true
    }

    /// The subjects dropped since the last call; they count as removed from the saved state from now on.
    public mutating func takeRemovals() -> [String] {
        defer { removed.removeAll() }
        return removed.sorted()
    }

    /// A `#canary subject=ID tz=Zone` directive: that subject's days are on `zone` from now on. Touches
    /// that one subject only (its zone entry and its clock), never the others.
    public mutating func assignZone(_ zone: TimeZone, to subject: String) {
        guard self.zone(for: subject) != zone else { return }
        assignedZones[subject] = zone
        if let i = subjects.index(forKey: subject) {
            subjects.values[i].clock = ZoneClock(zone)
            subjects.values[i].assignedZone = zone.identifier
            subjects.values[i].unsaved = true
        }
    }

    /// Subjects with a zone set by a directive (tests check it stays one entry per subject).
    var assignedZoneCount: Int { assignedZones.count }
}
