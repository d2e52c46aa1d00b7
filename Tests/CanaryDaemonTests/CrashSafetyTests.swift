@testable import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// SIGKILL at random points of ingest, 20 times, with a client that resends what was not
/// acknowledged: every acknowledged row is in the saved state, and the alerts in the end are those
/// of one clean run (no alert twice under another id).
@Suite(.serialized) struct CrashSafetyTests {
    @Test func acknowledgedRowsSurviveSigkill() throws {
        let lines = try String(contentsOfFile: TestSupport.root("config/sample/sleep.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let header = lines[0]
        let rows = Array(lines.dropFirst())
        let noGaps = DaemonLifecycleTests.noGaps

        // The reference: one clean run.
        let whole = TestSupport.temporaryFile("whole.csv")
        try ([header] + rows).joined(separator: "\n").appending("\n").write(toFile: whole, atomically: true, encoding: .utf8)
        // One installation key for every run: alert ids are keyed with it.
        let keyFile = TestSupport.temporaryFile("pseudonym.key")
        let clean = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile)
        try clean.waitReady()
        let outcome = try IngestClient(socketPath: clean.socketPath).send(path: whole)
        #expect(outcome.accepted == rows.count, "\(outcome)")
        _ = try clean.waitForAlerts(atLeast: 10)
        sleep(2)
        #expect(try clean.stop() == 0)
        let expected = Set(clean.alerts().map { $0["id"] as! String })

        // Chunks of 2 sessions, each its own connection and commit, sent again until acknowledged.
        let chunks: [String] = stride(from: 0, to: rows.count, by: 2).map { start in
            let path = TestSupport.temporaryFile("chunk-\(start).csv")
            try! ([header] + rows[start..<min(start + 2, rows.count)]).joined(separator: "\n").appending("\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var pending = chunks
        var acknowledged: [String] = []
        let stateDirectory = "/tmp/canary-it-crash-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        var generator = SystemRandomNumberGenerator()
        var interrupted = 0
        // Days close as the data moves on, so alerts are decided (and logged) by the killed daemons too.
        var logged: [[String]] = []
        for _ in 0..<20 {
            let daemon = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile, stateDirectory: stateDirectory, maxLateness: "1h")
            try daemon.waitReady()
            let socket = daemon.socketPath
            let toSend = pending
            let done = LockedBox<[String]>([])
            let sender = Thread {
                for path in toSend {
                    guard let outcome = try? IngestClient(socketPath: socket).send(path: path), outcome.completed else { return }
                    done.mutate { $0.append(path) }
                }
            }
            sender.start()
            usleep(UInt32.random(in: 0...50_000, using: &generator))
            daemon.signal(SIGKILL)
            _ = try daemon.waitExit()
            logged.append(daemon.alerts().map { $0["id"] as! String })
            usleep(100_000)  // the sender sees the connection drop
            let ok = done.value
            if ok.count < toSend.count { interrupted += 1 }
            acknowledged += ok
            pending.removeAll { ok.contains($0) }
        }

        // Every acknowledged row is in the state the last killed daemon left.
        let store = try StateStore(path: stateDirectory + "/state.sqlite")
        var engine = CanaryEngine(configuration: EngineConfiguration())
        try engine.importState(store.loadSubjectStates())
        // Held in an open day, or its day is closed (evaluated: it is in the histories).
        var saved = Set(engine.subjects.values.flatMap { $0.days.values.flatMap { $0.sleep } }.map { "\($0.subject)|\($0.end)" })
        for (subject, state) in engine.subjects {
            guard let closedBefore = state.progress[.sleep]?.nextDay else { continue }
            var clock = state.clock
            var parser = RecordParser(layout: try InputLayout.detect(header: header))
            for row in rows {
                let record = Array(row.utf8).withUnsafeBufferPointer { parser.parse($0, line: 1) }
                guard case .success(.sleep(let r)) = record, r.subject == subject, clock.day(of: r.end) < closedBefore else { continue }
                saved.insert("\(subject)|\(r.end)")
            }
        }
        let ackedRows = try acknowledged.flatMap { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { line -> String in
                let f = line.split(separator: ",")
                var parser = RecordParser(layout: try InputLayout.detect(header: header))
                let record = Array(line.utf8).withUnsafeBufferPointer { parser.parse($0, line: 1) }
                guard case .success(.sleep(let s)) = record else { return "unparsed \(f[0])" }
                return "\(s.subject)|\(s.end)"
            }
        }
        #expect(!acknowledged.isEmpty)
        #expect(interrupted > 0, "at least one SIGKILL landed mid-ingest")
        #expect(Set(ackedRows).isSubset(of: saved), "\(Set(ackedRows).subtracting(saved).count) acknowledged rows missing")

        // The rest goes in, the days close: the alerts are exactly those of the clean run.
        let last = try DaemonHarness(extraConfig: noGaps, keyFile: keyFile, stateDirectory: stateDirectory)
        try last.waitReady()
        for path in pending { #expect(try IngestClient(socketPath: last.socketPath).send(path: path).completed) }
        let before = Set(logged.flatMap { $0 })
        _ = try last.waitForAlerts(atLeast: expected.subtracting(before).count)
        sleep(2)
        #expect(try last.stop() == 0)
        logged.append(last.alerts().map { $0["id"] as! String })
        let ids = logged.flatMap { $0 }
        #expect(Set(ids) == expected)
        #expect(logged.allSatisfy { $0.count == Set($0).count }, "no alert twice in one run")
    }
}

/// A value shared between a test and a thread.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func mutate(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
}
