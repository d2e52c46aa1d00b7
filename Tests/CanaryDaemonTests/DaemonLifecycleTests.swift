import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// canaryd as systemd runs it: the sd_notify conversation, reload, drain, socket activation.
@Suite(.serialized) struct DaemonLifecycleTests {
    static let noGaps = """
    [gaps]
    sleep = "off"
    activity = "off"
    typing = "off"
    samples = "off"

    [subjects.chen]
    timezone = "America/New_York"

    [subjects.dara]
    timezone = "Asia/Tokyo"
    """
    static let sleepFile = TestSupport.root("config/sample/sleep.csv")

    @Test func notifiesReadyStatusWatchdogReloadingAndStoppingInOrder() throws {
        let daemon = try DaemonHarness(extraConfig: Self.noGaps, environment: ["WATCHDOG_USEC": "1000000"])
        try daemon.waitReady()
        try daemon.notify.wait(for: "WATCHDOG=1") { $0 == "WATCHDOG=1" }

        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: Self.sleepFile)
        #expect(outcome.completed && outcome.accepted == 189 && outcome.rejected == 0)
        try daemon.notify.wait(for: "STATUS with the rows") { $0.contains("STATUS=") && $0.contains("189 rows ingested") }
        _ = try daemon.waitForAlerts(atLeast: 10)  // once ingest has settled, the days are evaluated

        // A valid reload: RELOADING=1 with MONOTONIC_USEC, then READY=1.
        try daemon.reloadValid()

        // An invalid one is refused, the reason goes to STATUS=, the daemon keeps serving.
        let refused = try daemon.reloadInvalid()
        #expect(refused.contains("READY=1"))
        #expect(refused.contains("engine.timezone"))
        let again = try IngestClient(socketPath: daemon.socketPath).send(path: Self.sleepFile)
        #expect(again.completed && again.accepted == 189)

        #expect(try daemon.stop() == 0)
        let messages = daemon.notify.messages
        func index(_ predicate: (String) -> Bool) -> Int { messages.firstIndex(where: predicate) ?? -1 }
        let ready = index { $0.hasPrefix("READY=1") }
        let reloading = index { $0.hasPrefix("RELOADING=1") }
        let stopping = index { $0.hasPrefix("STOPPING=1") }
        #expect(ready >= 0 && ready < reloading && reloading < stopping, "\(messages)")
        let reloadingMessages = messages.filter { $0.hasPrefix("RELOADING=1") }
        #expect(reloadingMessages.count == 2)
        #expect(reloadingMessages.allSatisfy { $0.contains("MONOTONIC_USEC=") })
        #expect(stopping == messages.count - 1 || messages[(stopping + 1)...].allSatisfy { $0 == "WATCHDOG=1" || $0.hasPrefix("STATUS=") })

        // The alerts were decided and written: eli's short nights.
        let alerts = daemon.alerts()
        #expect(alerts.contains { ($0["rule"] as? String) == "sleep_duration.threshold" && ($0["period"] as? String) == "2026-03-28" })
        // The alert log names subjects as the journal does: by token.
        let eli = try daemon.token("eli")
        #expect(alerts.allSatisfy { ($0["subject"] as? String) == eli }, "\(alerts.map { "\($0["subject"]!) \($0["rule"]!) \($0["period"]!)" })")
    }

    /// `canaryctl reload` (the unit's `ExecReload=`, no `kill` binary needed) waits for the outcome:
    /// exit 0 when applied, 1 with the key and reason when refused (the daemon keeps serving with the
    /// previous configuration); with --pid and no control socket it falls back to SIGHUP.
    @Test func canaryctlReloadWaitsForTheOutcomeAndFailsOnARefusedFile() throws {
        let daemon = try DaemonHarness(extraConfig: Self.noGaps)
        try daemon.waitReady()
        let ctl = DaemonHarness.binary("canaryctl")
        try (try String(contentsOfFile: daemon.configPath, encoding: .utf8) + "\n[subjects.eli]\ntimezone = \"Europe/Oslo\"\n")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let applied = try ProcessRun.run(ctl, ["reload", "--control", daemon.controlPath])
        #expect(applied.status == 0 && applied.output == "configuration reloaded\n", "\(applied)")

        let valid = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try (valid + "\n[subjects.bob]\ntimezone = \"Mars/Olympus\"\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let refused = try ProcessRun.run(ctl, ["reload", "--control", daemon.controlPath, "--pid", "\(daemon.pid)"])
        #expect(refused.status == 1 && refused.output.contains("subjects.<subject>.timezone") && !refused.output.contains("bob") && refused.output.contains("previous configuration stays"),
                "\(refused)")
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: Self.sleepFile).accepted == 189)

        try valid.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let signalled = try ProcessRun.run(ctl, ["reload", "--control", daemon.directory + "/none.sock", "--pid", "\(daemon.pid)"])
        #expect(signalled.status == 0 && signalled.output.contains("sent SIGHUP"), "\(signalled)")
        try daemon.notify.wait(for: "READY after the signalled reload") { $0.contains("READY=1") && $0.contains("configuration reloaded") }
        let unreachable = try ProcessRun.run(ctl, ["reload", "--control", daemon.directory + "/none.sock"])
        #expect(unreachable.status == 2)
        #expect(daemon.notify.messages.filter { $0.hasPrefix("RELOADING=1") }.count == 3)
        #expect(try daemon.stop() == 0)
    }

    @Test func servesASocketPassedBySystemdSocketActivate() throws {
        let daemon = try DaemonHarness(extraConfig: Self.noGaps, socketActivated: true)
        #expect(daemon.sendStarting(path: Self.sleepFile)?.accepted == 189)
        let ready = try daemon.notify.wait(for: "READY=1") { $0.contains("READY=1") }
        #expect(ready.contains("STATUS="))
        #expect(daemon.log.contains("socket-activated"), "\(daemon.log)")
        #expect(try daemon.stop() == 0)
    }

    @Test func drainsAClientMidStreamOnSigterm() throws {
        let daemon = try DaemonHarness(extraConfig: Self.noGaps)
        try daemon.waitReady()
        let lines = try String(contentsOfFile: Self.sleepFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let client = try RawClient(path: daemon.socketPath)
        try client.send(lines[..<100].joined(separator: "\n") + "\n")
        usleep(200_000)
        daemon.signal(SIGTERM)
        try daemon.notify.wait(for: "STOPPING=1") { $0.hasPrefix("STOPPING=1") }
        // The connection in flight is finished: the rest of the lines, then a half-close.
        try client.send(lines[100...].joined(separator: "\n"))
        client.halfClose()
        let reply = client.readAll()
        #expect(reply.hasSuffix("OK accepted=189 rejected=0\n"), "\(reply)")
        #expect(try daemon.waitExit() == 0)
        // New connections are refused while draining and after.
        #expect(throws: (any Error).self) { try RawClient(path: daemon.socketPath) }
    }

    @Test func refusesToTakeOverASocketAnotherDaemonServes() throws {
        let first = try DaemonHarness()
        try first.waitReady()
        #expect(throws: DaemonError.self) { try IngestServer.removeStaleSocket(at: first.socketPath) }
        #expect(try first.stop() == 0)
        // Once nobody answers, a stale socket file is removed safely.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        #expect(POSIXIO.unixSocketCall(fd, first.socketPath, bind) == 0)
        #expect(FileManager.default.fileExists(atPath: first.socketPath))
        try IngestServer.removeStaleSocket(at: first.socketPath)
        #expect(!FileManager.default.fileExists(atPath: first.socketPath))
    }
}

/// A graceful stop right after ingest: every alert committed reaches the alert log before canaryd exits.
@Suite struct GracefulStopDeliveryTests {
    @Test func everyCommittedAlertIsInTheAlertLogWhenTheStopReturns() throws {
        let subjects = (0..<40).map { "s\($0)" }
        let daemon = try DaemonHarness(extraConfig: ConsentTrustTests.rawRule, consent: subjects)
        try daemon.waitReady()
        // 40 people × 2000 raw samples, a spike every 97 minutes: hundreds of alerts, decided as rows arrive.
        let file = try ConsentTrustTests.file(ConsentTrustTests.samples(subjects, from: 0, count: 2000))
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: file)
        #expect(outcome.accepted == 80_000 && outcome.rejected == 0)
        // Acknowledged: the alerts are committed. Stop at once; they must all be delivered to the log first.
        #expect(try daemon.stop() == 0)
        let store = try StateStore(path: daemon.statePath)
        let owed = try store.pendingDeliveries().count
        #expect(owed == 0, "\(owed) deliveries still owed after a graceful stop")
        #expect(daemon.alerts().count == 40 * 20, "\(daemon.alerts().count) alerts in the log")
    }
}
