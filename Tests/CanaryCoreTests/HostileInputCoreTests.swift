import Foundation
import Testing
@testable import CanaryCore

/// The core's part of "nothing a peer sends can crash canaryd or stop it saving" (issue 9):
/// implausible values are refused per row, every aggregate stays finite, ancient rows are refused,
/// and closing days costs the days with data, not calendar days.
@Suite("Hostile input")
struct HostileInputCoreTests {
    static func parser(_ header: String, limits: ValueLimits = ValueLimits()) throws -> RecordParser {
        RecordParser(layout: try InputLayout.detect(header: header), limits: limits)
    }

    static func error(_ result: Result<Record, RowError>) -> RowError? {
        if case .failure(let e) = result { return e }
        return nil
    }

    // MARK: Values outside their plausible range

    @Test(arguments: ["1e308", "-1e308", "1e10", "-1000000001"])
    func implausibleSampleValuesAreRefusedAsOutOfRange(_ value: String) throws {
        let p = try Self.parser("timestamp,subject,metric,value")
        let e = try #require(Self.error(parseLine(p, "1767225600,s1,hr,\(value)")))
        #expect(e.kind == .outOfRange && e.field == "value", "\(e)")
        #expect(e.reason.contains("-1000000000 to 1000000000") || e.reason.contains("1e9"), "\(e.reason)")
        #expect(parseLine(p, "1767225600,s1,hr,1e9").record != nil, "the bound itself is plausible")
    }

    @Test func aMetricsOwnRangeApplies() throws {
        let p = try Self.parser("timestamp,subject,metric,value", limits: ValueLimits(metrics: ["hr": 20...250]))
        #expect(Self.error(parseLine(p, "1767225600,s1,hr,251"))?.kind == .outOfRange)
        #expect(Self.error(parseLine(p, "1767225600,s1,hr,19"))?.kind == .outOfRange)
        #expect(parseLine(p, "1767225600,s1,hr,250").record != nil)
        #expect(parseLine(p, "1767225600,s1,steps,5000").record != nil, "other metrics keep the default range")
    }

    @Test func configuredRangesReachTheParser() {
        var c = EngineConfiguration()
        var hr = MetricSettings()
        hr.range = 20...250
        c.metrics["hr"] = hr
        c.metrics["temp"] = MetricSettings()
        c.activity.maxCount = 500
        #expect(c.valueLimits.range(forMetric: "hr") == 20...250)
        #expect(c.valueLimits.range(forMetric: "temp") == ValueLimits.defaultSampleRange)
        #expect(c.valueLimits.activityCount == 0...500)
    }

    @Test func implausibleActivityAndTypingValuesAreRefused() throws {
        let activity = try Self.parser("timestamp,subject,steps")
        let a = try #require(Self.error(parseLine(activity, "1767225600,s1,100001")))
        #expect(a.kind == .outOfRange && a.field == "steps", "\(a)")
        #expect(parseLine(activity, "1767225600,s1,100000").record != nil)

        let typing = try Self.parser("timestamp,subject,hold_ms,flight_ms,key")
        #expect(Self.error(parseLine(typing, "1767225600,s1,60001,200,char"))?.field == "hold_ms")
        #expect(Self.error(parseLine(typing, "1767225600,s1,100,1e12,char"))?.field == "flight_ms")
        #expect(parseLine(typing, "1767225600,s1,60000,1e9,char").record != nil)
        let json = RecordParser(layout: .typingJSON())
        let j = try #require(Self.error(parseLine(json, #"{"timestamp":1767225600,"subject":"s1","hold_ms":1e300,"flight_ms":1,"key":"char"}"#)))
        #expect(j.kind == .outOfRange && j.field == "hold_ms")
    }

    // MARK: Every aggregate stays finite

    static let huge = Double.greatestFiniteMagnitude

    @Test func aggregatesOfExtremeFiniteValuesStayFinite() throws {
        for kind in [MetricSettings.Aggregate.mean, .sum, .median, .min, .max] {
            for values in [[Self.huge, Self.huge], [-Self.huge, -Self.huge, -Self.huge], [Self.huge, -Self.huge, Self.huge, 1]] {
                let v = try #require(Aggregation.apply(kind, values))
                #expect(v.isFinite, "\(kind) of \(values)")
            }
        }
        #expect(Aggregation.apply(.mean, [Self.huge, Self.huge]) == Self.huge)
        #expect(Aggregation.apply(.mean, [1e308, 1e308, -1e308]).map { abs($0 - 1e308 / 3) < 1e293 } == true)
        #expect(RobustStatistics.median([Self.huge, Self.huge]) == Self.huge)
        #expect(RobustStatistics.mad([-Self.huge, Self.huge, 0], around: 0)?.isFinite == true)
    }

    @Test func ewmaAndRobustBaselinesOfExtremeValuesStayFinite() {
        var ewma = EWMABaseline()
        for x in [1e308, -1e308, Self.huge, -Self.huge, 0] {
            let d = ewma.observe(x, alpha: 0.5, warmup: 1, floorAbsolute: 1)
            #expect(d.map { $0.z.isFinite && $0.scale.isFinite } ?? true)
        }
        #expect(ewma.mean.isFinite && ewma.variance.isFinite)

        var history = FeatureHistory()
        for (i, v) in [Self.huge, -Self.huge, Self.huge, -Self.huge].enumerated() { history.record(period: i, value: v) }
        let d = RobustBaseline(settings: BaselineSettings()).evaluate(value: -Self.huge, period: 4, history: history, circular: false,
                                                                       floorAbsolute: 1, floorRelative: 0.1, window: 28, minHistory: 2)
        #expect(d.map { $0.z.isFinite && $0.scale.isFinite && $0.centre.isFinite } == true)
    }

    /// Records of one subject with `value` every hour of `days` days, for a metric in each mode and aggregate.
    static func extremeRecords(_ values: [Double], days: Int) -> [Record] {
        var out: [Record] = []
        for day in 0..<days {
            for hour in 0..<24 {
                let t = Fixture.day(day) + Double(hour) * 3600
                let v = values[(day * 24 + hour) % values.count]
                for metric in ["day_mean", "day_sum", "day_median", "hour_mean", "raw"] {
                    out.append(.sample(SampleRecord(timestamp: t, subject: "p1", metric: metric, value: v)))
                }
            }
        }
        return out
    }

    static var modes: EngineConfiguration {
        var c = EngineConfiguration()
        func metric(_ mode: MetricSettings.Mode, _ aggregate: MetricSettings.Aggregate) -> MetricSettings {
            var m = MetricSettings()
            m.mode = mode
            m.aggregate = aggregate
            if mode == .raw { m.baseline = .ewma; m.rule = .rawDefault; m.warmup = 3 }
            m.range = -ValueLimits.maximumMagnitude...ValueLimits.maximumMagnitude
            return m
        }
        c.metrics = ["day_mean": metric(.day, .mean), "day_sum": metric(.day, .sum), "day_median": metric(.day, .median),
                     "hour_mean": metric(.hour, .mean), "raw": metric(.raw, .mean)]
        c.baseline.minHistoryDays = 3
        return c
    }

    @Test(arguments: [
        [ValueLimits.maximumMagnitude, -ValueLimits.maximumMagnitude],  // the widest a configuration allows
        [1e308, 1e308, -1e308, 1e308],                                   // beyond it: what the engine might still be handed
        [Double.greatestFiniteMagnitude, 0, -Double.greatestFiniteMagnitude],
    ])
    func theStateOfExtremeValuesCanAlwaysBeSaved(_ values: [Double]) throws {
        var engine = CanaryEngine(configuration: Self.modes)
        var sink = CollectingSink(wantsObservations: true)
        for r in Self.extremeRecords(values, days: 10) { engine.ingest(r, into: &sink) }
        engine.finish(into: &sink)
        let state = try engine.exportState()  // JSON holds no infinity: this threw once a sum overflowed
        #expect(state["p1"] != nil)
        #expect(!sink.observations.isEmpty)
        for o in sink.observations {
            #expect(o.deviation.z.isFinite && o.deviation.centre.isFinite && o.deviation.scale.isFinite, "\(o.metric)")
        }
        for a in sink.alerts {
            #expect((a.value ?? 0).isFinite && (a.z ?? 0).isFinite && (a.baseline ?? 0).isFinite && (a.scale ?? 0).isFinite, "\(a.rule)")
            #expect(!a.explanation.contains("inf") && !a.explanation.contains("nan"), "\(a.explanation)")
        }
    }

    // MARK: Ancient timestamps

    @Test func rowsBeforeTheEarliestAcceptedInstantAreTooOld() throws {
        var p = try Self.parser("timestamp,subject,metric,value")
        p.earliestAccepted = Fixture.day(0)
        let e = try #require(Self.error(parseLine(p, "0001-01-01T00:00:00Z,s1,hr,60")))
        #expect(e.kind == .tooOld && e.field == "timestamp" && e.line == 2, "\(e)")
        #expect(e.reason.contains("engine.max_past"))
        #expect(parseLine(p, "\(Int(Fixture.day(0))),s1,hr,60").record != nil)

        var sleep = try Self.parser("subject,start,end")
        sleep.earliestAccepted = Fixture.day(0)
        #expect(Self.error(parseLine(sleep, "s1,\(Int(Fixture.day(-1)) - 3600),\(Int(Fixture.day(-1)))"))?.kind == .tooOld)
    }

    @Test func withoutAClockRowsFarBehindTheirSubjectsLatestAreTooOld() throws {
        var p = try Self.parser("timestamp,subject,metric,value")
        p.maxPastBehindLatest = 400 * 86_400
        var results: [Result<Record, RowError>] = []
        let lines = ["2026-01-01T00:00:00Z,s1,hr,60",   // the first row of a subject sets its latest
                     "2024-11-01T00:00:00Z,s1,hr,60",   // 426 days behind s1's latest: too old
                     "2024-11-01T00:00:00Z,s2,hr,60",   // another subject has its own latest
                     "2025-01-01T00:00:00Z,s1,hr,60",   // 365 days behind: fine
                     "1990-01-01T00:00:00Z,s2,hr,60"]   // far behind s2's latest
        for (i, line) in lines.enumerated() {
            results.append(Array(line.utf8).withUnsafeBufferPointer { p.parse($0, line: i + 2) })
        }
        #expect(results.map { Self.error($0)?.kind } == [nil, .tooOld, nil, nil, .tooOld])
        #expect(Self.error(results[1])?.reason.contains("latest row") == true)
    }

    @Test func aSubjectsLatestRowIsRememberedWhenManyOtherSubjectsPushItOutOfTheNameCache() throws {
        var p = try Self.parser("timestamp,subject,metric,value")
        p.maxPastBehindLatest = 400 * 86_400
        func parse(_ line: String) -> RowError? { Self.error(Array(line.utf8).withUnsafeBufferPointer { p.parse($0, line: 2) }) }
        #expect(parse("2026-01-01T00:00:00Z,s-first,hr,60") == nil)
        // 20,000 other subjects and metrics: far more than the name cache holds, so s-first leaves it.
        for i in 0..<20_000 { _ = parse("2026-01-01T00:00:00Z,other-\(i),m\(i % 300),60") }
        #expect(parse("2024-11-01T00:00:00Z,s-first,hr,60")?.kind == .tooOld, "the latest row came back from where it was kept")
        #expect(parse("2025-06-01T00:00:00Z,s-first,hr,60") == nil)
        #expect(parse("2024-11-01T00:00:00Z,other-7,hr,60")?.kind == .tooOld)
    }

    // MARK: Closing days costs days with data

    @Test func aYearOneFirstRowClosesOnlyDaysWithData() {
        // Replay has no clock, so a first row dated year 0001 passes max_past; the next row, in 2026,
        // closes every day in between. Only days with data (and days a gap opens) are evaluated.
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink()
        let ancient = -62_135_596_800.0  // 0001-01-01T00:00:00Z
        engine.ingest(.sample(SampleRecord(timestamp: ancient, subject: "p1", metric: "hr", value: 60)), into: &sink)
        for i in 0..<3 {
            engine.ingest(.sample(SampleRecord(timestamp: Fixture.day(i), subject: "p1", metric: "hr", value: 60)), into: &sink)
        }
        engine.finish(into: &sink)
        #expect(engine.daysClosed <= 10, "closed \(engine.daysClosed) days for 4 days with data")
        // The long silence is reported once, as when every day was walked: a gap opened 48 h after year 0001.
        let gaps = sink.alerts.filter { $0.kind == .gap }
        #expect(gaps.count == 1 && gaps.first?.value == 48 && gaps.first?.period == "0001-01-02T00:00:00Z", "\(gaps.map(\.explanation))")
    }

    @Test func aFarJumpOfTheClockClosesOnlyDaysWithData() {
        let c = EngineConfiguration()
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink()
        for i in 0..<20 { engine.ingest(EngineTests.night(i, hours: 7.5), into: &sink) }
        engine.advance(to: Fixture.day(20) + 86_400 * 365 * 300, into: &sink)  // three centuries on
        #expect(engine.daysClosed <= 25, "closed \(engine.daysClosed) days")
        #expect(sink.alerts.filter { $0.kind == .gap }.count == 1)
    }

    @Test(arguments: ["72h", "50h", "12h", "0s", "100h"])
    func gapsOpenOnTheSameDayAsWhenEveryDayIsWalked(_ limit: String) throws {
        let seconds = ["72h": 72.0, "50h": 50, "12h": 12, "0s": 0, "100h": 100][limit]! * 3600
        var c = EngineConfiguration()
        c.gapSeconds = [.sleep: seconds]
        // 20 nights, 9 without, 5 more: the gap opens on the first day that ends `seconds` after the last covered one.
        let records = (0..<20).map { EngineTests.night($0, hours: 7.5) } + (29..<34).map { EngineTests.night($0, hours: 7.5) }
        let (alerts, _, engine) = EngineTests.run(records, configuration: c)
        let gap = try #require(alerts.first { $0.kind == .gap })
        let lastCovered = Fixture.day(20)  // the end of day 19, the last night's day
        let opened = (0...).first { Fixture.day(20 + $0 + 1) - lastCovered >= seconds }!
        #expect(gap.value == (Fixture.day(20 + opened + 1) - lastCovered) / 3600, "\(gap.explanation)")
        #expect(alerts.contains { $0.kind == .resolved && $0.rule == "gap.sleep" })
        #expect(engine.daysClosed <= 20 + 5 + 3)
    }
}
