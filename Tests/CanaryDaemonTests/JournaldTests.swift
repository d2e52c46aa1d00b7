import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Alerts and refusals in a real systemd-journald (scripts/test.sh starts one when none runs),
/// read back with journalctl by MESSAGE_ID and field, and explained by the catalog.
@Suite(.serialized, .enabled(if: getuid() == 0 && LibSystemd().journalSocketPresent(), "needs root and a running journald"))
struct JournaldTests {
    static func journalctl(_ args: [String]) throws -> String {
        let sync = Process()
        sync.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        sync.arguments = ["--sync"]
        try sync.run()
        sync.waitUntilExit()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = ["--no-pager"] + args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func entries(_ filters: [String]) throws -> [[String: Any]] {
        try journalctl(["-o", "json", "-a"] + filters).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func alertsAreStructuredEntriesFilterableByMessageIDAndSubject() throws {
        // A subject id unique to this run, so entries of earlier runs cannot answer for it.
        let subject = "eli-\(UUID().uuidString.prefix(8).lowercased())"
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, journal: "on", consent: DaemonHarness.defaultConsent + [subject])
        try daemon.waitReady()
        let data = daemon.directory + "/sleep.csv"
        try String(contentsOfFile: TestSupport.root("config/sample/sleep.csv"), encoding: .utf8)
            .replacingOccurrences(of: "\neli,", with: "\n\(subject),")
            .write(toFile: data, atomically: true, encoding: .utf8)
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: data)
        #expect(outcome.accepted == 189)
        let logged = try daemon.waitForAlerts(atLeast: 10)
        #expect(try daemon.stop() == 0)

        // Journal entries name the subject by its pseudonymous token, never by its id.
        let token = try daemon.token(subject)
        #expect(try Self.entries(["CANARY_SUBJECT=\(subject)"]).isEmpty)
        let deviations = try Self.entries(["MESSAGE_ID=\(MessageID.deviation)", "CANARY_SUBJECT=\(token)"])
        let expected = logged.filter { ($0["kind"] as? String) == "deviation" }
        #expect(deviations.count == expected.count && !expected.isEmpty)
        let sleep = try #require(deviations.first { ($0["CANARY_RULE"] as? String) == "sleep_duration.threshold" })
        for field in ["MESSAGE", "PRIORITY", "CANARY_ALERT_ID", "CANARY_SUBJECT", "CANARY_KIND", "CANARY_RULE", "CANARY_FEATURE",
                      "CANARY_VALUE", "CANARY_BASELINE", "CANARY_SCALE", "CANARY_Z", "CANARY_PERIOD"] {
            #expect(sleep[field] != nil, "missing \(field)")
        }
        #expect(sleep["CANARY_KIND"] as? String == "deviation")
        #expect(sleep["CANARY_FEATURE"] as? String == "sleep_duration")
        #expect(sleep["CANARY_PERIOD"] as? String == "2026-03-28")
        #expect(sleep["PRIORITY"] as? String == "4")
        #expect(sleep["SYSLOG_IDENTIFIER"] as? String == "canaryd")
        #expect((sleep["MESSAGE"] as? String)?.contains("3 of the last 4 nights") == true)
        let id = sleep["CANARY_ALERT_ID"] as? String
        #expect(expected.contains { ($0["id"] as? String) == id }, "the journal and the alert log carry the same ids")

        #expect((sleep["MESSAGE"] as? String)?.hasPrefix(token + ": ") == true)
        #expect((sleep["MESSAGE"] as? String)?.contains(subject) == false)
        let resolved = try Self.entries(["MESSAGE_ID=\(MessageID.resolved)", "CANARY_SUBJECT=\(token)"])
        #expect(!resolved.isEmpty)
        let composite = try Self.entries(["MESSAGE_ID=\(MessageID.composite)", "CANARY_SUBJECT=\(token)"])
        #expect(composite.count == 1)

        // journalctl -x explains the entry from the catalog.
        let explained = try Self.journalctl(["-x", "MESSAGE_ID=\(MessageID.deviation)", "CANARY_SUBJECT=\(token)"])
        #expect(explained.contains("Subject: Canary deviation: \(token)"), "\(explained.prefix(600))")
    }

    @Test func aRefusedPeerIsRecordedInTheJournal() throws {
        let daemon = try DaemonHarness(daemonKeys: "allow_users = [\"root\"]\nallow_groups = []")
        try daemon.waitReady()
        let reply = try TestSupport.runAsNobody(python:
            "import socket; s=socket.socket(socket.AF_UNIX); s.connect('\(daemon.socketPath)'); print(s.recv(100).decode(), end='')")
        #expect(reply == "ERR 0 unauthorized\n")
        #expect(try daemon.stop() == 0)
        let pid = daemon.pid
        let refused = try Self.entries(["MESSAGE_ID=\(MessageID.unauthorized)", "_PID=\(pid)"])
        #expect(refused.count == 1)
        #expect(refused.first?["CANARY_PEER_UID"] as? String == "65534")
    }

    @Test func aRefusedReloadIsRecordedWithTheKey() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()
        try "[rules.steps]\nthreshold = -2\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.notify.wait(for: "READY after the refused reload") { $0.contains("reload refused") }
        #expect(try daemon.stop() == 0)
        let entries = try Self.entries(["MESSAGE_ID=\(MessageID.reloadRefused)", "_PID=\(daemon.pid)"])
        #expect(entries.first?["CANARY_CONFIG_KEY"] as? String == "rules.steps.threshold")
    }

    @Test func anIngestLimitIsAJournalWarningNamingItsKeyOncePerConnection() throws {
        let daemon = try DaemonHarness(daemonKeys: "max_subjects_per_connection = 1\n", journal: "on")
        try daemon.waitReady()
        let client = try RawClient(path: daemon.socketPath)
        try client.send("timestamp,subject,metric,value\n1767225600,s1,hr,60\n1767225600,s2,hr,60\n1767225600,x,hr,60\n")
        client.halfClose()
        let reply = client.readAll()
        #expect(reply.contains("ERR 3 too-many-subjects") && reply.contains("ERR 4 too-many-subjects"), "\(reply)")
        #expect(try daemon.stop() == 0)
        let entries = try Self.entries(["MESSAGE_ID=\(MessageID.ingestLimit)", "_PID=\(daemon.pid)"])
        #expect(entries.count == 1, "once per connection and bound")
        #expect(entries.first?["CANARY_LIMIT"] as? String == "daemon.max_subjects_per_connection")
        #expect(entries.first?["PRIORITY"] as? String == "4")
        let message = entries.first?["MESSAGE"] as? String ?? ""
        #expect(!message.contains("s2") && !message.contains("x,"), "no subject id: \(message)")
        // The catalog explains it.
        #expect(try Self.journalctl(["-x", "MESSAGE_ID=\(MessageID.ingestLimit)", "_PID=\(daemon.pid)"])
            .contains("An allowed feeder reached one of the bounds"))
    }

    @Test func operationalLogsAreStructuredJournalEntriesUnderSystemd() throws {
        // INVOCATION_ID is how a process knows systemd started it; then its own logs go to journald.
        let daemon = try DaemonHarness(environment: ["INVOCATION_ID": UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()])
        try daemon.waitReady()
        #expect(try daemon.stop() == 0)
        let entries = try Self.entries(["SYSLOG_IDENTIFIER=canaryd", "_PID=\(daemon.pid)"])
        let listening = try #require(entries.first { ($0["MESSAGE"] as? String) == "listening" })
        #expect(listening["CANARY_SOCKET"] as? String == daemon.socketPath)
        #expect(listening["PRIORITY"] as? String == "6")
        #expect(entries.contains { ($0["MESSAGE"] as? String) == "stopped" })
        #expect(!daemon.log.contains("listening"), "under systemd the logs go to the journal, not standard error")
    }
}
