import CanaryCore
import Foundation
import Logging
import Testing
@testable import CanaryDaemon

/// Records every call to the systemd seam, and can play an unreachable journald.
final class RecordingSystemd: SystemdAPI, @unchecked Sendable {
    private let lock = NSLock()
    private var _notified: [String] = []
    private var _journal: [[(String, String)]] = []
    let journalResult: Int32
    let socketPresent: Bool

    init(journalResult: Int32 = 0, socketPresent: Bool = true) {
        self.journalResult = journalResult
        self.socketPresent = socketPresent
    }

    var notified: [String] { lock.lock(); defer { lock.unlock() }; return _notified }
    var journal: [[(String, String)]] { lock.lock(); defer { lock.unlock() }; return _journal }

    func notify(_ state: String) -> Bool { lock.lock(); _notified.append(state); lock.unlock(); return true }
    func listenFDs() -> [ListenedSocket] { [] }
    func watchdogInterval() -> Duration? { nil }
    func journalSend(_ fields: [(String, String)]) -> Int32 { lock.lock(); _journal.append(fields); lock.unlock(); return journalResult }
    func journalSocketPresent() -> Bool { socketPresent }
}

@Suite struct SystemdSeamTests {
    static let alert = Alert(kind: .deviation, severity: .critical, subject: "s042", rule: "steps.threshold", features: ["steps"],
                             value: 1200, baseline: 8000, scale: 900, z: -7.5, direction: .low,
                             period: "2026-03-05", periodStart: 1_772_668_800, explanation: "steps 1200, usual 8000 ± 900")

    @Test func alertFieldsFollowTheJournalContract() {
        let fields = Dictionary(JournalFields.alert(Self.alert), uniquingKeysWith: { a, _ in a })
        #expect(fields["MESSAGE_ID"] == MessageID.deviation)
        #expect(fields["PRIORITY"] == "2")
        #expect(fields["CANARY_SUBJECT"] == "s042")
        #expect(fields["CANARY_Z"] == "-7.5")
        #expect(fields["CANARY_VALUE"] == "1200")
        #expect(fields["CANARY_PERIOD"] == "2026-03-05")
        #expect(fields["CANARY_ALERT_ID"] == Self.alert.id)
        #expect(Set([MessageID.deviation, MessageID.composite, MessageID.gap, MessageID.resolved]).count == 4)
    }

    @Test(arguments: [("peer_uid", "PEER_UID"), ("a.b-c", "A_B_C"), ("_x", "X"), ("9lives", "F_9LIVES"), ("ünï", "N_")])
    func metadataKeysAreSanitisedToJournalFieldRules(_ key: String, _ expected: String) {
        #expect(JournalFields.sanitize(key) == expected)
    }

    @Test func theCatalogExplainsEveryMessageID() throws {
        let catalog = try String(contentsOfFile: TestSupport.root("systemd/canary.catalog"), encoding: .utf8)
        for id in [MessageID.deviation, MessageID.composite, MessageID.gap, MessageID.resolved, MessageID.unauthorized, MessageID.reloadRefused] {
            #expect(catalog.contains("-- \(id)\n"), "no catalog entry for \(id)")
        }
    }

    @Test func reloadingCarriesMonotonicTime() {
        let systemd = RecordingSystemd()
        let notifier = ServiceNotifier(systemd: systemd)
        notifier.ready(status: "up")
        notifier.reloading()
        notifier.stopping(status: "bye")
        #expect(systemd.notified.count == 3)
        #expect(systemd.notified[0] == "READY=1\nSTATUS=up")
        #expect(systemd.notified[1].hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        let usec = systemd.notified[1].split(separator: "\n")[1].dropFirst("MONOTONIC_USEC=".count)
        #expect(UInt64(usec) ?? 0 > 0)
        #expect(systemd.notified[2].hasPrefix("STOPPING=1"))
    }

    @Test func anAlertJournaldRefusesGoesToTheAlertLogAndIsNotLost() throws {
        let log = TestSupport.temporaryFile("alerts.jsonl")
        let systemd = RecordingSystemd(journalResult: -111)
        let router = try AlertRouter(systemd: systemd, journal: "on", alertLog: log, logger: Logger(label: "test"))
        router.deliver(Self.alert, subject: Self.alert.subject)
        #expect(systemd.journal.count == 1)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == AlertJSON.encode(Self.alert) + "\n")
    }

    @Test func aMissingJournalSocketIsNotMistakenForDelivery() throws {
        // libsystemd returns 0 when journald's socket does not exist; the router checks first.
        let log = TestSupport.temporaryFile("alerts.jsonl")
        let systemd = RecordingSystemd(journalResult: 0, socketPresent: false)
        let router = try AlertRouter(systemd: systemd, journal: "on", alertLog: log, logger: Logger(label: "test"))
        router.deliver(Self.alert, subject: Self.alert.subject)
        #expect(systemd.journal.isEmpty)
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains(Self.alert.id))
    }
}
