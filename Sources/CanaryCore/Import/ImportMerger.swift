import Foundation

/// Turns a vendor export's entries into Canary's canonical stream, one local day at a time: for each
/// day, a `sleep` section (the sessions that ended that day), an `activity` section (every minute of
/// the day once any minute has a step count) and a `samples` section, each opened by a
/// `#canary format=... subject=... tz=...` directive and its header, so one connection carries the
/// person's streams interleaved by day as they happened.
///
/// The entries come in buckets (a local month each, in order; within a bucket, any order), so memory
/// is bounded by one month of the export whatever its size. What it decides:
/// - **Sleep stage segments** (Apple Health) chain into a session while each starts within
///   `sessionGap` of the session's end; the session spans them all, its asleep minutes are the union
///   of the asleep segments of every source (never counted twice), its awake minutes the union of the
///   awake segments outside them. A chain with no asleep and no in-bed segment is not a session.
/// - **Steps of several devices** (a phone and a watch both count the same walk): per minute, each
///   source's records are summed (a record read twice counts once) and the largest source counts,
///   not the sum of the sources. Minutes
///   of a day with step data and no count are 0 steps (a cumulative count records nothing when
///   nothing was counted); a day with no step data has no activity rows, so it stays missing, and
///   long runs of zeros are left to canaryd's non-wear detection.
/// - **Duplicates** (the same session, step record or reading twice, from overlapping files) count
///   once. Two readings of a metric at one instant with different values both go on: canaryd's own
///   rule for a repeated instant decides (the first stays).
/// - **Sessions** are at most `longestSession` long: a chain that would grow past it is closed and
///   the segment starts the next (canaryd refuses longer sessions; the chain stays bounded).
public struct ImportMerger: Sendable {
    /// What the merge wrote, and what it dropped as duplicates.
    public struct Counts: Sendable, Equatable {
        public var sessions = 0
        public var minutes = 0
        public var samples = 0
        public var duplicates = 0
        public init() {}
    }

    /// A check of the clocks: the steps counted inside the sleep sessions, as read and as they would be had the minute series been read with the
    /// zone's offset (their wall clock taken for local time instead of UTC). With the clocks read
    /// right, a sleeper takes few steps: a much smaller figure for the other reading says the series
    /// were read on the wrong clock (`canaryctl import` says so for `fitbit-takeout`).
    public struct ClockCheck: Sendable, Equatable {
        /// Minutes of sleep sessions with step data (on both readings).
        public var minutes = 0
        public var stepsAsRead = 0.0
        public var stepsOtherClock = 0.0
        public init() {}
    }

    /// Segments further apart than this start a new session (a nap, or the next night).
    public static let sessionGap = 3600.0
    /// The longest session segments are chained into (canaryd's limit for a sleep session).
    public static let longestSession = 36 * 3600.0

    public let subject: String
    public let zoneName: String
    private var clock: ZoneClock
    public private(set) var counts = Counts()
    public private(set) var clockCheck = ClockCheck()
    /// The last day written with step data, for the clock check of the night after it.
    private var previousSteps: (day: Int, steps: [Double: [StepRecord: Double]])?
    private var chain: Chain?
    private var lastSection: String?

    /// Which way the other clock of `clockCheck` lies: +1 when the minute series were read as UTC
    /// (the other reading is local time), -1 when they were read as local time.
    public var otherClock = 1.0

    public init(subject: String, zone: TimeZone) {
        self.subject = subject
        zoneName = zone.identifier
        clock = ZoneClock(zone)
    }

    /// The local month (year * 12 + month - 1) an entry is spooled under.
    public mutating func bucket(of entry: ImportEntry) -> Int {
        let (y, m, _) = TimestampParser.civil(fromDays: clock.day(of: entry.instant))
        return y * 12 + m - 1
    }

    /// The instant the local month `bucket` ends.
    public mutating func end(ofBucket bucket: Int) -> Double {
        let next = bucket + 1
        return clock.startOfDay(TimestampParser.daysFromCivil(year: next / 12, month: next % 12 + 1, day: 1))
    }

    /// Merges one bucket's entries; `bucketEnd` is the instant the bucket's month ends (a session
    /// still open then, and within `sessionGap` of it, is carried into the next bucket).
    public mutating func merge(_ entries: [ImportEntry], bucketEnd: Double, emit: (String) -> Void) {
        var days: [Int: Day] = [:]
        var segments: [(start: Double, end: Double, stage: ImportEntry.SleepStage)] = []
        for entry in entries {
            switch entry {
            case .session(let s, let e, let a, let w, let f):
                days[clock.day(of: e), default: Day()].sessions.append(Session(start: s, end: e, asleep: a, awake: w, efficiency: f))
            case .segment(let s, let e, let stage):
                segments.append((s, e, stage))
            case .minuteSteps(let m, let source, let c, let rs, let re):
                let key = StepRecord(source: source, start: rs, end: re)
                if days[clock.day(of: m), default: Day()].steps[m, default: [:]].updateValue(c, forKey: key) != nil { counts.duplicates += 1 }
            case .sample(let t, let metric, let v):
                days[clock.day(of: t), default: Day()].samples.append(Reading(at: t, metric: metric, value: v))
            }
        }
        segments.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        for s in segments {
            if var c = chain, s.start <= c.end + Self.sessionGap, max(c.end, s.end) - c.start <= Self.longestSession {
                c.add(s.start, s.end, s.stage)
                chain = c
            } else {
                close(into: &days)
                chain = Chain(s.start, s.end, s.stage)
            }
        }
        // A segment of the next month joins when it starts within the gap: close only what none can join.
        if let c = chain, c.end + Self.sessionGap < bucketEnd { close(into: &days) }
        write(days, emit: emit)
    }

    /// Closes what is still open after the last bucket.
    public mutating func finish(emit: (String) -> Void) {
        var days: [Int: Day] = [:]
        close(into: &days)
        write(days, emit: emit)
    }

    private mutating func close(into days: inout [Int: Day]) {
        guard let c = chain else { return }
        chain = nil
        guard let session = c.session else { return }
        days[clock.day(of: session.end), default: Day()].sessions.append(session)
    }

    private mutating func write(_ days: [Int: Day], emit: (String) -> Void) {
        for day in days.keys.sorted() {
            let d = days[day]!
            if !d.sessions.isEmpty {
                section("sleep", header: "start,end,asleep_min,awake_min,efficiency", emit: emit)
                var seen = Set<[Double]>()
                for s in d.sessions.sorted(by: { ($0.end, $0.start) < ($1.end, $1.start) }) {
                    guard seen.insert([s.start, s.end]).inserted else { counts.duplicates += 1; continue }
                    counts.sessions += 1
                    emit("\(ActiGraphCSV.isoUTC(s.start)),\(ActiGraphCSV.isoUTC(s.end)),\(Self.text(s.asleep)),\(Self.text(s.awake)),\(Self.text(s.efficiency))")
                }
            }
            if !d.steps.isEmpty { checkClocks(d, day: day) }
            if !d.steps.isEmpty {
                section("activity", header: "timestamp,steps", emit: emit)
                let end = clock.startOfDay(day + 1)
                var m = clock.startOfDay(day)
                while m < end {
                    let count = Self.steps(in: d.steps[m])
                    counts.minutes += 1
                    emit("\(ActiGraphCSV.isoUTC(m)),\(Self.text(count))")
                    m += 60
                }
            }
            if !d.samples.isEmpty {
                section("samples", header: "timestamp,metric,value", emit: emit)
                var last: Reading?
                for r in d.samples.sorted(by: { ($0.at, $0.metric, $0.value) < ($1.at, $1.metric, $1.value) }) {
                    if let l = last, l.at == r.at, l.metric == r.metric, l.value == r.value { counts.duplicates += 1; continue }
                    last = r
                    counts.samples += 1
                    emit("\(ActiGraphCSV.isoUTC(r.at)),\(r.metric),\(Self.text(r.value))")
                }
            }
        }
    }

    /// Adds the day's sleep sessions to `clockCheck`: the steps of each of their minutes, at that
    /// minute and at the minute its wall clock names on the other reading, where the day or the day
    /// before holds both (the minutes of the two days are all that is kept for it).
    private mutating func checkClocks(_ d: Day, day: Int) {
        let dayStart = clock.startOfDay(day), dayEnd = clock.startOfDay(day + 1)
        let before = previousSteps?.day == day - 1 ? previousSteps : nil
        let beforeStart = before == nil ? dayStart : clock.startOfDay(day - 1)
        func steps(_ m: Double) -> Double? {
            let records: [StepRecord: Double]?
            if m >= dayStart && m < dayEnd {
                records = d.steps[m]
            } else if let before, m >= beforeStart && m < dayStart {
                records = before.steps[m]
            } else {
                return nil
            }
            return Self.steps(in: records)
        }
        defer { previousSteps = (day, d.steps) }
        for s in d.sessions {
            var m = (max(s.start, beforeStart) / 60).rounded(.up) * 60
            while m + 60 <= s.end {
                // A wall time W read as UTC is the instant W; read as local time it is W - offset: the
                // steps taken at m on the other reading were read as the minute m + offset (and the
                // other way round when the series were read as local time).
                if let asRead = steps(m), let other = steps(m + otherClock * Double(clock.offset(at: m))) {
                    clockCheck.minutes += 1
                    clockCheck.stepsAsRead += asRead
                    clockCheck.stepsOtherClock += other
                }
                m += 60
            }
        }
    }

    private mutating func section(_ format: String, header: String, emit: (String) -> Void) {
        guard lastSection != format else { return }
        lastSection = format
        emit("#canary format=\(format) subject=\(subject) tz=\(zoneName)")
        emit(header)
    }

    /// A number as canonical rows carry it: whole numbers without a fraction, others rounded to 1e-6.
    static func text(_ v: Double?) -> String {
        guard let v else { return "" }
        let r = (v * 1e6).rounded() / 1e6
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return "\(r)"
    }

    private struct Session {
        var start: Double, end: Double
        var asleep: Double?, awake: Double?, efficiency: Double?
    }

    private struct Reading {
        var at: Double, metric: String, value: Double
    }

    /// A minute's steps: each source's records summed, the largest source (0 without a record).
    private static func steps(in records: [StepRecord: Double]?) -> Double {
        var bySource: [Int: Double] = [:]
        for (record, c) in records ?? [:] { bySource[record.source, default: 0] += c }
        return bySource.values.max() ?? 0
    }

    /// The step record a minute's share came from.
    private struct StepRecord: Hashable {
        var source: Int, start: Double, end: Double
    }

    private struct Day {
        var sessions: [Session] = []
        /// Minute -> the records counting in it -> their share of the minute.
        var steps: [Double: [StepRecord: Double]] = [:]
        var samples: [Reading] = []
    }

    /// Segments chained into one night.
    private struct Chain {
        var start: Double, end: Double
        var asleep: [(Double, Double)] = []
        var awake: [(Double, Double)] = []
        var inBed = false

        init(_ s: Double, _ e: Double, _ stage: ImportEntry.SleepStage) {
            start = s
            end = e
            add(s, e, stage)
        }

        mutating func add(_ s: Double, _ e: Double, _ stage: ImportEntry.SleepStage) {
            start = min(start, s)
            end = max(end, e)
            switch stage {
            case .asleep: asleep.append((s, e))
            case .awake: awake.append((s, e))
            case .inBed: inBed = true
            }
        }

        var session: Session? {
            guard !asleep.isEmpty || inBed, end > start else { return nil }
            guard !asleep.isEmpty else { return Session(start: start, end: end) }
            let slept = Self.union(asleep)
            let awakeOutside = Self.union(asleep + awake) - slept
            return Session(start: start, end: end, asleep: slept / 60, awake: awakeOutside / 60)
        }

        /// The length of the union of the intervals.
        static func union(_ intervals: [(Double, Double)]) -> Double {
            var total = 0.0
            var current: (Double, Double)?
            for i in intervals.sorted(by: { $0.0 < $1.0 }) where i.1 > i.0 {
                if let c = current, i.0 <= c.1 {
                    current = (c.0, max(c.1, i.1))
                } else {
                    if let c = current { total += c.1 - c.0 }
                    current = i
                }
            }
            if let c = current { total += c.1 - c.0 }
            return total
        }
    }
}
