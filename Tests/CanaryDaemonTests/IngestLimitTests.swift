import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// An allowed feeder cannot exhaust canaryd: every bound answers with an ERR naming the line (or
/// line 0 for the connection), the journal hears of it, and the feeder's other rows go on.
@Suite(.serialized) struct IngestLimitTests {
    static let header = "timestamp,subject,metric,value\n"

    @Test func boundsOnSubjectsMetricsConnectionsAndIdleConnectionsAnswerWithERR() throws {
        let daemon = try DaemonHarness(
            daemonKeys: "max_subjects_per_connection = 2\nmax_connections = 3\nidle_timeout = \"2s\"\n",
            engineKeys: "max_subjects = 3\nmax_metrics_per_subject = 2\n")
        try daemon.waitReady()

        // Per connection: a third metric of s1, and a third subject (x), are refused by line.
        let a = try RawClient(path: daemon.socketPath)
        try a.send(Self.header + "1767225600,s1,m1,1\n1767225600,s1,m2,1\n1767225600,s1,m3,1\n1767225600,s2,m1,1\n1767225600,x,m1,1\n1767225660,s1,m1,2\n")
        a.halfClose()
        let aReply = a.readAll()
        #expect(aReply.contains("ERR 4 too-many-metrics: field 'metric'"), "\(aReply)")
        #expect(aReply.contains("ERR 6 too-many-subjects: field 'subject': this connection already sent rows of 2 subjects (daemon.max_subjects_per_connection)"), "\(aReply)")
        #expect(aReply.hasSuffix("OK accepted=4 rejected=2\n"), "\(aReply)")

        // In all: the engine holds s1, s2 and now ana; ben would be the fourth.
        let b = try RawClient(path: daemon.socketPath)
        try b.send(Self.header + "1767225600,ana,m1,1\n1767225600,ben,m1,1\n1767225660,ana,m1,2\n")
        b.halfClose()
        let bReply = b.readAll()
        #expect(bReply.contains("ERR 3 too-many-subjects: field 'subject': canaryd already holds its limit of 3 subjects (engine.max_subjects)"), "\(bReply)")
        #expect(bReply.hasSuffix("OK accepted=2 rejected=1\n"), "\(bReply)")
        try daemon.notify.wait(for: "three subjects held") { $0.contains("STATUS=3 subjects, 6 rows ingested") }

        // Connections: three open and silent, a fourth is turned away at once.
        let silent = try (0..<3).map { _ in try RawClient(path: daemon.socketPath) }
        usleep(200_000)
        let extra = try RawClient(path: daemon.socketPath)
        #expect(extra.readLine(timeout: 5)?.hasPrefix("ERR 0 too-many-connections") == true)
        #expect(extra.readLine(timeout: 5) == nil, "closed after the refusal")

        // The silent ones are closed after idle_timeout, each with its reason.
        for client in silent {
            let line = client.readLine(timeout: 10)
            #expect(line?.hasPrefix("ERR 0 idle-timeout: nothing received for 2 s") == true, "\(line ?? "nothing")")
            #expect(client.readLine(timeout: 5) == nil)
        }
        // With the slots free, a connection is served again.
        let c = try RawClient(path: daemon.socketPath)
        try c.send(Self.header + "1767225720,s1,m2,3\n")
        c.halfClose()
        let cReply = c.readAll()
        // (The row may come after its day closed: then a NOTICE about it comes first.)
        #expect(cReply.split(separator: "\n").contains { $0.hasPrefix("OK accepted=1 rejected=0") }, "\(cReply)")

        // canaryd's output reaches the test through a pipe: read it once the daemon has stopped.
        #expect(try daemon.stop() == 0)
        let keys = ["daemon.max_subjects_per_connection", "engine.max_metrics_per_subject", "engine.max_subjects",
                    "daemon.max_connections", "daemon.idle_timeout"]
        let deadline = Date().addingTimeInterval(5)
        while !keys.allSatisfy({ daemon.log.contains($0) }) && Date() < deadline { usleep(50_000) }
        let log = daemon.log
        for key in keys {
            #expect(log.contains("ingest limit reached") && log.contains(key), "no log entry for \(key)")
        }
    }

    @Test func aZoneDirectiveForASubjectWithoutConsentIsRefusedAndReachesNothing() throws {
        let daemon = try DaemonHarness(consent: ["s1"])
        try daemon.waitReady()
        let client = try RawClient(path: daemon.socketPath)
        var directives = ""
        for i in 0..<2000 { directives += "#canary format=samples subject=intruder\(i) tz=Europe/Oslo\n" }
        try client.send(directives + "#canary subject=s1 tz=America/New_York\ntimestamp,metric,value\n2026-01-01 00:00:00,hr,60\n")
        client.halfClose()
        let reply = client.readAll()
        let refused = reply.split(separator: "\n").filter { $0.contains("no-consent") }
        #expect(refused.count == 2000 && refused.first == "ERR 1 no-consent: no active monitor consent for this subject; nothing of the row was kept",
                "\(reply.prefix(300))")
        #expect(reply.hasSuffix("OK accepted=1 rejected=2000\n"), "\(reply.suffix(200))")
        // The engine holds s1 only, on the zone its directive named (the row's local midnight is New York's).
        try daemon.notify.wait(for: "one subject") { $0.contains("STATUS=1 subjects, 1 rows ingested") }
        #expect(try daemon.stop() == 0)
        let state = try StateStore(path: daemon.statePath).loadSubjectStates()
        #expect(Array(state.keys) == ["s1"])
        let saved = String(decoding: state["s1"] ?? Data(), as: UTF8.self)
        #expect(saved.contains("America\\/New_York") || saved.contains("America/New_York"), "\(saved.prefix(200))")
    }

    @Test func aWithdrawalEmptiesTheSessionOfTheSubject() {
        final class Ledger: @unchecked Sendable { var monitored: Set<String> = ["a", "b"] }
        let ledger = Ledger()
        var session = IngestSession(zones: ZoneBook(), latestAccepted: .infinity, admit: { ledger.monitored.contains($0) })
        session.refreshAdmission(version: 1)
        let text = "#canary subject=a tz=Europe/Oslo\n" + Self.header + "1767225600,a,hr,1\n1767225600,b,hr,1\n"
        Array(text.utf8).withUnsafeBufferPointer { session.receive($0, record: { _, _ in }, reply: { _ in }) }
        #expect(session.heldSubjects == ["a", "b"])
        // a withdraws: the next ledger version makes the session forget a at once, not at a's next row.
        ledger.monitored = ["b"]
        session.refreshAdmission(version: 2)
        #expect(session.heldSubjects == ["b"])
    }

    @Test func theSessionAsksConsentBeforeHoldingAnythingAndBoundsSubjects() {
        var asked: [String] = []
        var session = IngestSession(zones: ZoneBook(), latestAccepted: .infinity, maxSubjects: 2,
                                    admit: { asked.append($0); return $0 != "no" })
        var records: [(String, Int)] = []
        var replies: [String] = []
        var zones: [String] = []
        let text = "#canary subject=no tz=Europe/Oslo\n#canary subject=a tz=Europe/Oslo\n#canary subject=a tz=Europe/Oslo\n"
            + Self.header + "1767225600,a,hr,1\n1767225600,no,hr,1\n1767225600,b,hr,1\n1767225600,c,hr,1\n1767225660,a,hr,1\n"
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            session.receive(bytes, record: { records.append(($0.subject, $1)) }, reply: { replies.append($0) },
                            zone: { subject, _ in zones.append(subject) })
        }
        #expect(replies == [
            "ERR 1 no-consent: no active monitor consent for this subject; nothing of the row was kept",
            "ERR 6 no-consent: no active monitor consent for this subject; nothing of the row was kept",
            "ERR 8 too-many-subjects: field 'subject': this connection already sent rows of 2 subjects (daemon.max_subjects_per_connection); send the others on another connection",
        ])
        #expect(records.map(\.0) == ["a", "b", "a"] && records.map(\.1) == [5, 7, 9])
        // The repeated directive changed nothing and went nowhere; consent was asked once per admitted subject.
        #expect(zones == ["a"])
        #expect(asked == ["no", "a", "no", "b", "c"])
        #expect(session.subjectLimitReached && session.accepted == 3 && session.rejected == 3)
        session.engineRefused(1)
        #expect(session.okLine() == "OK accepted=2 rejected=4")
    }
}
