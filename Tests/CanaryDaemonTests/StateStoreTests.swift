import CanaryCore
import Foundation
import GRDB
import Logging
import Testing
@testable import CanaryDaemon

@Suite struct StateStoreTests {
    @Test func anOlderDatabaseIsMigratedOnStart() throws {
        let path = TestSupport.temporaryFile("old.sqlite")
        // A database as the first release left it: only the v1 migration applied, one grant in it.
        do {
            let pool = try DatabasePool(path: path)
            var v1 = DatabaseMigrator()
            v1.registerMigration("v1: consent and audit") { db in
                try db.execute(sql: """
                    CREATE TABLE consent (subject TEXT NOT NULL, scope TEXT NOT NULL, reference TEXT NOT NULL, recorded_by TEXT NOT NULL,
                        granted_at DOUBLE NOT NULL, expires_at DOUBLE, PRIMARY KEY (subject, scope));
                    CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at DOUBLE NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
                        scopes TEXT NOT NULL, actor TEXT NOT NULL, reference TEXT NOT NULL, detail TEXT NOT NULL);
                    INSERT INTO consent VALUES ('s1', 'monitor', 'form-1', 'dr-a', 100, NULL);
                    """)
            }
            try v1.migrate(pool)
            try pool.write { db in
                try db.execute(sql: "INSERT INTO audit (at, action, subject, scopes, actor, reference, detail) VALUES (50, 'revoke', 'legacy-77', 'monitor', 'dr-a', '', '')")
            }
        }
        let store = try StateStore(path: path)
        #expect(try store.loadConsent().allows("s1", .monitor, at: 200), "data of the older version is kept")
        try store.saveSubjectStates(["s1": Data("{}".utf8)], at: 300)  // the v2 table exists now
        #expect(try store.loadSubjectStates().keys.sorted() == ["s1"])

        // The audit trail of the older version named subjects by id: the next start names them by token.
        let pseudonyms = Pseudonymizer(key: Data(repeating: 3, count: 32))
        let consent = try ConsentService(store: store, systemd: RecordingSystemd(), logger: Logger(label: "test"), pseudonyms: pseudonyms)
        #expect(try consent.auditTrail(of: "legacy-77").map(\.action) == ["revoke"])
        #expect(try store.auditTrail().map(\.subject) == [pseudonyms.token(for: "legacy-77")])
        let dir = (path as NSString).deletingLastPathComponent
        #expect(ConsentTrustTests.filesContaining("legacy-77", under: dir) == [], "no copy of the id in the file or its log")
    }

    @Test func aNewerDatabaseIsRefusedWithAClearMessage() throws {
        let path = TestSupport.temporaryFile("new.sqlite")
        _ = try StateStore(path: path)
        let pool = try DatabasePool(path: path)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        #expect {
            _ = try StateStore(path: path)
        } throws: { error in
            "\(error)".contains("written by a newer version of Canary")
        }
    }

    static func alert(_ subject: String, _ period: String) -> Alert {
        Alert(kind: .deviation, severity: .warning, subject: subject, rule: "hr.threshold", features: ["hr"], value: 200,
              baseline: 60, scale: 5, z: 28, direction: .high, period: period, periodStart: 0, explanation: "hr 200")
    }

    @Test func theOutboxQueuesOncePerIdAndRetentionKeepsWhatIsOwed() throws {
        let store = try StateStore(path: TestSupport.temporaryFile("outbox.sqlite"))
        let old = Self.alert("s1", "2025-01-01"), recent = Self.alert("s1", "2026-11-01"), owed = Self.alert("s2", "2025-01-02")
        let items = try store.saveSubjectStates([:], alerts: [
            PendingAlert(alert: old, channels: ["journal", "webhook:clinic"], emittedAt: 100),
            PendingAlert(alert: recent, channels: ["journal"], emittedAt: 10_000),
            PendingAlert(alert: owed, channels: ["webhook:clinic"], emittedAt: 200),
        ], at: 10_000)
        #expect(items.map(\.alertID) == [old.id, old.id, recent.id, owed.id])
        #expect(items.map(\.sequence) == items.map(\.sequence).sorted(), "emission order")
        // Decided again (after a crash, say): not queued a second time.
        #expect(try store.saveSubjectStates([:], alerts: [PendingAlert(alert: old, channels: ["journal"], emittedAt: 300)], at: 10_001).isEmpty)

        try store.record(items.filter { $0.alertID != owed.id }.map { .init(item: $0, outcome: .delivered, status: 200) }, at: 10_002)
        #expect(try store.pendingDeliveries().map(\.alertID) == [owed.id])
        #expect(try store.deliveries(state: .delivered).count == 3)

        // Retention: settled alerts emitted before the cutoff go, with their history; one still owed stays.
        #expect(try store.trimAlerts(emittedBefore: 5_000) == 1)
        #expect(Set(try store.deliveries(state: nil).map(\.alertID)) == [recent.id, owed.id])

        // A dead letter comes back with a fresh age when re-driven.
        try store.record([.init(item: try store.pendingDeliveries()[0], outcome: .dead(reason: "HTTP 410"), status: 410)], at: 10_003)
        #expect(try store.deliveries(state: .dead).first?.status == 410)
        let again = try store.retryDead(alertID: owed.id, channel: nil, at: 20_000)
        #expect(again.count == 1 && again[0].queuedAt == 20_000 && again[0].attempts == 0)
        #expect(try store.deliveries(state: .dead).isEmpty && store.pendingDeliveries().count == 1)
    }
}
