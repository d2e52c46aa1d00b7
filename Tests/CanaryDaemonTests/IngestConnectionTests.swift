import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The per-connection protocol as a state machine, without a socket: events in, actions out.
@Suite struct IngestConnectionTests {
    static let header = "timestamp,subject,metric,value\n"

    static func machine(durable: Bool = true, batchSize: Int = 4096, maxInFlight: Int = 4, idle: Double? = 900,
                        admit: @escaping (String) -> Bool = { _ in true }) -> IngestConnection {
        let session = IngestSession(zones: ZoneBook(), latestAccepted: .infinity, admit: admit)
        return IngestConnection(session: session, settings: .init(maxFutureSeconds: 86_400, maxPastSeconds: 1e12, durable: durable,
                                                                  idleTimeoutSeconds: idle, batchSize: batchSize, maxInFlight: maxInFlight),
                                now: 0)
    }

    static func rows(_ n: Int, from start: Int = 0) -> String {
        (start..<start + n).map { "\(1_700_000_000 + $0 * 60),s1,hr,\(60 + $0 % 5)\n" }.joined()
    }

    static func receive(_ m: inout IngestConnection, _ text: String, now: Double = 1_800_000_000) -> [IngestConnection.Action] {
        Array(text.utf8).withUnsafeBufferPointer { m.received($0, now: now, monotonic: 1, admissionVersion: 0) }
    }

    static func submitted(_ actions: [IngestConnection.Action]) -> [[Record]] {
        actions.compactMap { if case .submit(let r) = $0 { r } else { nil } }
    }

    static func written(_ actions: [IngestConnection.Action]) -> [String] {
        actions.flatMap { action -> [String] in
            switch action {
            case .write(let lines), .close(let lines): lines
            default: []
            }
        }
    }

    @Test func nothingIsReadOrTakenBeforeThePeerIsAllowed() {
        var m = Self.machine()
        let before = Self.receive(&m, Self.header + Self.rows(3))
        #expect(before.isEmpty)
        let mayRead = m.shouldRead(writable: true)
        #expect(!mayRead)
        let refused = m.peerChecked(allowed: false)
        #expect(Self.written(refused) == ["ERR 0 unauthorized"])
        #expect(m.finished)
    }

    @Test func rowsGoToTheEngineInBatchesAndTheFinalOKWaitsForTheCommit() {
        var m = Self.machine(batchSize: 4)
        let allowed = m.peerChecked(allowed: true)
        #expect(allowed.contains { if case .read = $0 { true } else { false } })
        let actions = Self.receive(&m, Self.header + Self.rows(10))
        #expect(Self.submitted(actions).map(\.count) == [4, 4], "full batches go at once")
        let complete = m.readComplete(writable: true)
        #expect(Self.submitted(complete).map(\.count) == [2])
        #expect(m.inFlight == 3)
        // At most maxInFlight (4) waiting: reading goes on below it.
        #expect(complete.contains { if case .read = $0 { true } else { false } })
        let ended = m.inputEnded()
        #expect(ended.isEmpty, "no OK while batches are in flight")
        _ = m.batchEvaluated(BatchOutcome(), monotonic: 2, writable: true)
        _ = m.batchEvaluated(BatchOutcome(), monotonic: 2, writable: true)
        let last = m.batchEvaluated(BatchOutcome(late: 0, firstLate: nil, duplicate: 2, refused: []), monotonic: 2, writable: true)
        guard case .commit(.final)? = last.last else {
            Issue.record("expected the final commit, got \(last)")
            return
        }
        let ok = m.committed(.final, ok: true)
        #expect(Self.written(ok) == ["OK accepted=10 rejected=0 duplicate=2"])
    }

    @Test func readingStopsWhileTheEngineIsBehindAndResumesAfter() {
        var m = Self.machine(batchSize: 1, maxInFlight: 2)
        _ = m.peerChecked(allowed: true)
        _ = Self.receive(&m, Self.header + Self.rows(2))
        let complete = m.readComplete(writable: true)
        #expect(!complete.contains { if case .read = $0 { true } else { false } }, "two batches in flight: no more reads")
        let resumed = m.batchEvaluated(BatchOutcome(), monotonic: 2, writable: true)
        #expect(resumed.contains { if case .read = $0 { true } else { false } })
    }

    @Test func progressIsSaidOnlyAfterItsCommitAndOnlyWhenThereIsNews() {
        var m = Self.machine()
        _ = m.peerChecked(allowed: true)
        _ = Self.receive(&m, Self.header + Self.rows(5) + "1700009000,s1,hr,fast\n")
        let complete = m.readComplete(writable: true)
        #expect(Self.written(complete) == ["ERR 7 not-a-number: field 'value': not a number: \"fast\""])
        // The batch is still in flight: nothing is evaluated yet, nothing to acknowledge.
        let early = m.progressTick()
        #expect(early.isEmpty)
        _ = m.batchEvaluated(BatchOutcome(), monotonic: 2, writable: true)
        let tick = m.progressTick()
        guard case .commit(.progress(let mark))? = tick.first else {
            Issue.record("expected a progress commit, got \(tick)")
            return
        }
        #expect(mark == ProgressMark(line: 7, accepted: 5, rejected: 1))
        let busy = m.progressTick()
        #expect(busy.isEmpty, "one commit at a time")
        let said = m.committed(.progress(mark), ok: true)
        #expect(Self.written(said) == ["PROGRESS line=7 accepted=5 rejected=1"])
        let quiet = m.progressTick()
        #expect(quiet.isEmpty, "nothing new, nothing said")
        // A failed commit acknowledges nothing.
        _ = Self.receive(&m, Self.rows(1, from: 10))
        _ = m.readComplete(writable: true)
        _ = m.batchEvaluated(BatchOutcome(), monotonic: 3, writable: true)
        guard case .commit(let again)? = m.progressTick().first else {
            Issue.record("expected a second progress commit")
            return
        }
        let failed = m.committed(again, ok: false)
        #expect(failed.isEmpty)
    }

    @Test func theFirstLateRowIsNoticedOnceAndRefusedRowsAreNamedByLine() {
        var m = Self.machine()
        _ = m.peerChecked(allowed: true)
        _ = Self.receive(&m, Self.header + Self.rows(3))
        _ = m.readComplete(writable: true)
        let outcome = BatchOutcome(late: 2, firstLate: (index: 1, openSince: "2023-11-15"), duplicate: 0,
                                   refused: [.init(index: 2, refusal: .tooManyMetrics(limit: 256))])
        let actions = m.batchEvaluated(outcome, monotonic: 2, writable: true)
        let lines = Self.written(actions)
        #expect(lines.first?.hasPrefix("NOTICE 3 late: ") == true && lines.first?.hasSuffix("is 2023-11-15") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("ERR 4 too-many-metrics") == true, "\(lines)")
        #expect(actions.contains { if case .lateRows(3) = $0 { true } else { false } })
        #expect(actions.contains { if case .limitReached("engine.max_metrics_per_subject", _) = $0 { true } else { false } })
        _ = Self.receive(&m, Self.rows(1, from: 5))
        _ = m.readComplete(writable: true)
        let second = m.batchEvaluated(BatchOutcome(late: 1, firstLate: (index: 0, openSince: "2023-11-15"), duplicate: 0, refused: []),
                                      monotonic: 3, writable: true)
        #expect(Self.written(second).isEmpty, "noticed once per connection")
        guard case .commit(.final)? = m.inputEnded().last else {
            Issue.record("expected the final commit")
            return
        }
        let ok = m.committed(.final, ok: true)
        #expect(Self.written(ok) == ["OK accepted=3 rejected=1 late=3"])
    }

    @Test func anIdleConnectionIsClosedButNotWhileTheEngineWorksForIt() {
        var m = Self.machine(idle: 10)
        _ = m.peerChecked(allowed: true)
        let early = m.idleCheck(monotonic: 5)
        #expect(early.nextCheck == 10)
        _ = Self.receive(&m, Self.header + Self.rows(1))
        _ = m.readComplete(writable: true)
        // In flight: waiting for the engine is not the client's idleness.
        let working = m.idleCheck(monotonic: 50)
        #expect(working.nextCheck == 60)
        _ = m.batchEvaluated(BatchOutcome(), monotonic: 50, writable: true)
        let (actions, next) = m.idleCheck(monotonic: 61)
        #expect(next == nil)
        #expect(Self.written(actions).last?.hasPrefix("ERR 0 idle-timeout") == true)
        #expect(actions.contains { if case .limitReached("daemon.idle_timeout", _) = $0 { true } else { false } })
    }

    @Test func aDirectivesZoneReachesTheEngineBeforeTheRowsAfterIt() {
        var m = Self.machine(batchSize: 2)
        _ = m.peerChecked(allowed: true)
        let actions = Self.receive(&m, "#canary subject=s1 tz=Asia/Tokyo\n" + Self.header + Self.rows(3))
        let kinds = actions.map { action -> String in
            switch action {
            case .submit(let r): "submit \(r.count)"
            case .assignZone(let zone, let subject): "zone \(subject) \(zone.identifier)"
            default: "other"
            }
        }
        #expect(kinds == ["zone s1 Asia/Tokyo", "submit 2"])
        let rest = m.readComplete(writable: true)
        #expect(Self.submitted(rest).map(\.count) == [1])
    }

    @Test func tooManyConnectionsIsRefusedWithItsKey() {
        var m = Self.machine()
        let fine = m.opened(open: 3, limit: 3)
        #expect(fine.isEmpty)
        let actions = m.opened(open: 4, limit: 3)
        #expect(Self.written(actions).first?.hasPrefix("ERR 0 too-many-connections") == true)
        #expect(actions.contains { if case .limitReached("daemon.max_connections", _) = $0 { true } else { false } })
    }
}
