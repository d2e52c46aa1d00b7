import CanaryCore
import Foundation
import Logging
import Testing
@testable import CanaryDaemon

/// The delivery loop sleeps until something is due instead of polling.
@Suite struct DispatcherWakeupTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func dispatcher() throws -> (AlertDispatcher, StateStore, String) {
        let path = TestSupport.temporaryFile("state.sqlite")
        let store = try StateStore(path: path)
        let consent = try ConsentService(store: store, systemd: RecordingSystemd(), logger: quiet,
                                         pseudonyms: Pseudonymizer(key: Data(repeating: 1, count: 32)))
        let log = (path as NSString).deletingLastPathComponent + "/alerts.jsonl"
        let router = try AlertRouter(systemd: RecordingSystemd(), journal: "off", alertLog: log, logger: quiet)
        _ = try consent.grant(subject: "s1", scopes: [.monitor, .alertJournal], reference: "f", by: "t", expiresAt: nil,
                              now: Date().timeIntervalSince1970)
        let d = try AlertDispatcher(store: store, local: router, webhooks: [], consent: consent, maxConcurrent: 4,
                                    systemd: RecordingSystemd(), logger: quiet, pseudonyms: Pseudonymizer(key: Data(repeating: 1, count: 32)),
                                    journalByToken: true)
        return (d, store, log)
    }

    @Test func anIdleDispatcherDoesNotWakeAndANewAlertIsDeliveredAtOnce() async throws {
        let (dispatcher, store, log) = try Self.dispatcher()
        let running = Task { await dispatcher.run() }
        try await Task.sleep(for: .milliseconds(1500))
        let idle = await dispatcher.totals.wakeups
        #expect(idle <= 2, "woke \(idle) times in 1.5 s with nothing to do")

        let items = try store.saveSubjectStates([:], alerts: [PendingAlert(alert: StateStoreTests.alert("s1", "2026-03-01"), channels: [AlertChannel.journal],
                                                                           emittedAt: Date().timeIntervalSince1970)], at: 0)
        await dispatcher.add(items)
        let deadline = Date().addingTimeInterval(5)
        while await dispatcher.totals.delivered < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await dispatcher.totals.delivered == 1)
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("2026-03-01"))
        await dispatcher.stop(deadline: Date())
        running.cancel()
    }
}
