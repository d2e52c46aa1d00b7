import Foundation
import Testing
@testable import CanaryCore

/// The engine's bounds on what feeders can make it hold, and the cost of a zone directive.
@Suite("Engine limits")
struct EngineLimitTests {
    static func sample(_ subject: String, _ metric: String = "hr", at t: Double = Fixture.day0) -> Record {
        .sample(SampleRecord(timestamp: t, subject: subject, metric: metric, value: 60))
    }

    @Test func aNewSubjectBeyondMaxSubjectsIsRefusedAndNothingOfItKept() {
        var c = EngineConfiguration()
        c.maxSubjects = 2
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: false)
        #expect(engine.ingest(Self.sample("a"), into: &sink) == nil)
        #expect(engine.ingest(Self.sample("b"), into: &sink) == nil)
        #expect(engine.ingest(Self.sample("c"), into: &sink) == .tooManySubjects(limit: 2))
        // Subjects already held go on.
        #expect(engine.ingest(Self.sample("a", at: Fixture.day0 + 60), into: &sink) == nil)
        #expect(engine.subjectCount == 2 && engine.refusedRows == 1)
        #expect(engine.subjects["c"] == nil)
        // An erasure frees the slot.
        engine.erase(subject: "b")
        #expect(engine.ingest(Self.sample("c"), into: &sink) == nil)
        let error = IngestRefusal.tooManySubjects(limit: 2).rowError(line: 7)
        #expect(error.line == 7 && error.kind == .tooManySubjects && error.reason.contains("engine.max_subjects"))
    }

    @Test func aNewMetricBeyondMaxMetricsPerSubjectIsRefusedAlsoAfterARestart() throws {
        var c = EngineConfiguration()
        c.maxMetricsPerSubject = 2
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: false)
        #expect(engine.ingest(Self.sample("a", "m1"), into: &sink) == nil)
        #expect(engine.ingest(Self.sample("a", "m2"), into: &sink) == nil)
        #expect(engine.ingest(Self.sample("a", "m3"), into: &sink) == .tooManyMetrics(limit: 2))
        #expect(engine.ingest(Self.sample("a", "m1", at: Fixture.day0 + 60), into: &sink) == nil)
        // Another subject has its own allowance; other streams are not metrics.
        #expect(engine.ingest(Self.sample("b", "m3"), into: &sink) == nil)
        #expect(engine.ingest(.activity(ActivityRecord(timestamp: Fixture.day0, subject: "a", count: 5)), into: &sink) == nil)
        #expect(engine.refusedRows == 1)
        #expect(engine.subjects["a"]!.days.values.allSatisfy { $0.samples["m3"] == nil })

        // The names are rebuilt from the saved state: a restart does not reset the allowance.
        var restored = CanaryEngine(configuration: c)
        try restored.importState(engine.exportState())
        #expect(restored.ingest(Self.sample("a", "m3", at: Fixture.day0 + 120), into: &sink) == .tooManyMetrics(limit: 2))
        #expect(restored.ingest(Self.sample("a", "m2", at: Fixture.day0 + 120), into: &sink) == nil)
    }

    @Test func aZoneDirectiveTouchesOnlyItsSubject() {
        var c = EngineConfiguration()
        c.zones = ZoneBook(defaultZone: Fixture.utc, subjects: ["cfg": Fixture.newYork])
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: false)
        for s in ["a", "b", "cfg"] { engine.ingest(Self.sample(s), into: &sink) }
        engine.assignZone(Fixture.oslo, to: "a")
        engine.assignZone(Fixture.oslo, to: "later")
        #expect(engine.subjects["a"]!.clock.timeZone == Fixture.oslo)
        #expect(engine.subjects["b"]!.clock.timeZone == Fixture.utc)
        #expect(engine.subjects["cfg"]!.clock.timeZone == Fixture.newYork)
        // The configuration is not copied or changed; a subject first seen later gets its zone.
        #expect(engine.configuration.zones.subjects == ["cfg": Fixture.newYork])
        engine.ingest(Self.sample("later"), into: &sink)
        #expect(engine.subjects["later"]!.clock.timeZone == Fixture.oslo)
        // A reload keeps what directives set; an erasure forgets it.
        engine.reconfigure(c)
        #expect(engine.subjects["a"]!.clock.timeZone == Fixture.oslo)
        engine.erase(subject: "a")
        #expect(engine.zone(for: "a") == Fixture.utc && engine.assignedZoneCount == 1)
    }

    @Test func aZoneSetByADirectiveSurvivesARestart() throws {
        var c = EngineConfiguration()
        c.zones = ZoneBook(defaultZone: Fixture.utc)
        var engine = CanaryEngine(configuration: c)
        var sink = CollectingSink(wantsObservations: false)
        engine.assignZone(Fixture.oslo, to: "before")   // directive, then the subject's first row
        engine.ingest(Self.sample("before"), into: &sink)
        engine.ingest(Self.sample("after"), into: &sink)
        engine.assignZone(Fixture.newYork, to: "after")  // the subject's rows, then a directive
        let saved = try engine.exportChanges()

        // A new process with the same configuration and the saved state.
        var restarted = CanaryEngine(configuration: c)
        try restarted.importState(saved)
        #expect(restarted.zone(for: "before") == Fixture.oslo)
        #expect(restarted.zone(for: "after") == Fixture.newYork)
        #expect(restarted.subjects["after"]!.clock.timeZone == Fixture.newYork)
        // Still so after a reload.
        restarted.reconfigure(c)
        #expect(restarted.subjects["before"]!.clock.timeZone == Fixture.oslo)
    }

    @Test func zoneDirectivesForManySubjectsCostLinearTime() {
        // Before: each directive copied the whole zone map and rebuilt every subject's clock (quadratic:
        // 10,000 directives over 10,000 subjects took minutes). Now each touches one subject.
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink(wantsObservations: false)
        let n = 10_000
        for i in 0..<n { engine.ingest(Self.sample("s\(i)"), into: &sink) }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for i in 0..<n { engine.assignZone(i % 2 == 0 ? Fixture.oslo : Fixture.newYork, to: "s\(i)") }
        }
        #expect(elapsed < .seconds(3), "10,000 zone directives took \(elapsed)")
        #expect(engine.subjects["s1"]!.clock.timeZone == Fixture.newYork && engine.assignedZoneCount == n)
    }

    @Test func theParserHoldsOneClockPerZoneNotPerSubject() throws {
        // Local timestamps of ever new subjects used to leave a clock per subject behind, before consent was asked.
        let layout = try InputLayout.detect(header: "timestamp,subject,metric,value", format: nil, defaultSubject: nil)
        var parser = RecordParser(layout: layout, zones: ZoneBook(defaultZone: Fixture.oslo, subjects: ["p2": Fixture.newYork]))
        for i in 0..<1000 {
            let r = Array("2026-01-01 01:00:00,s\(i),hr,60".utf8).withUnsafeBufferPointer { parser.parse($0, line: i + 2) }
            #expect(r.record?.timestamp == Fixture.day0)
        }
        let ny = Array("2026-01-01 01:00:00,p2,hr,60".utf8).withUnsafeBufferPointer { parser.parse($0, line: 1002) }
        #expect(ny.record?.timestamp == Fixture.day0 + 6 * 3600)
        #expect(parser.clockCount == 2)
    }
}

/// What the operator's metrics read from the engine and the delivery queue: counts, never who.
@Suite("Engine census")
struct EngineCensusTests {
    @Test func closedDaysCountEveryPeriodClosedAndTheCensusWhatIsHeld() {
        var engine = CanaryEngine(configuration: EngineConfiguration())
        var sink = CollectingSink(wantsObservations: false)
        for subject in ["a", "b"] {
            for i in 0..<10 {
                let start = Fixture.day(i) - 3600
                engine.ingest(.sleep(SleepRecord(subject: subject, start: start, end: start + 8 * 3600)), into: &sink)
            }
        }
        engine.ingest(EngineLimitTests.sample("a", "hr", at: Fixture.day(9)), into: &sink)
        // Each subject's closed days, as the engine's own per-subject count has them.
        #expect(engine.closedDays == engine.daysClosed && engine.closedDays > 0)
        let before = engine.closedDays
        var census = engine.census
        #expect(census.subjects == 2 && census.openDays >= 2)
        #expect(census.series >= 2 * 3)  // at least duration, onset, midpoint each
        engine.finish(at: Fixture.day(11), into: &sink)
        #expect(engine.closedDays > before && engine.closedDays == engine.daysClosed)
        census = engine.census
        #expect(census.openDays == 0)
        engine.erase(subject: "b")
        #expect(engine.census.subjects == 1)
    }

    @Test func theOldestQueuedDeliveryIsFoundAcrossLanes() {
        var queue = DeliveryQueue()
        #expect(queue.oldestQueuedAt == nil)
        queue.add([DeliveryItem(sequence: 2, alertID: "b", channel: "journal", subject: "s2", queuedAt: 200),
                   DeliveryItem(sequence: 1, alertID: "a", channel: "webhook:x", subject: "s1", queuedAt: 100),
                   DeliveryItem(sequence: 3, alertID: "c", channel: "journal", subject: "s2", queuedAt: 300)])
        #expect(queue.oldestQueuedAt == 100)
        queue.remove(subject: "s1")
        #expect(queue.oldestQueuedAt == 200)
    }
}
