import CanaryCore
import Foundation
import GRDB
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
        }
        let store = try StateStore(path: path)
        #expect(try store.loadConsent().allows("s1", .monitor, at: 200), "data of the older version is kept")
        try store.saveSubjectStates(["s1": Data("{}".utf8)], at: 300)  // the v2 table exists now
        #expect(try store.loadSubjectStates().keys.sorted() == ["s1"])
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
}
