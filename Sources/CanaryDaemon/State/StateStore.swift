import CanaryCore
import Foundation
import GRDB

/// canaryd's durable state: one SQLite database (WAL) in the state directory. It holds the consent
/// ledger, the audit trail and snapshots of the evaluation state (per subject). Migrations are versioned; a database from a newer Canary is refused.
///
/// Deleted content is overwritten (`PRAGMA secure_delete`), and an erasure ends with a checkpoint that
/// truncates the write-ahead log, so nothing of an erased subject stays behind in the files.
public final class StateStore: @unchecked Sendable {
    let pool: DatabasePool
    public let path: String
    private let snapshotLock = NSLock()
    /// Where async code runs its (blocking) database work: one serial queue of its own, off the cooperative
    /// thread pool, so a slow disk never holds a thread Swift's tasks need.
    private let blockingQueue = DispatchQueue(label: "canary.state-database")

    /// Queues `body` (a write nobody waits for) on the store's own queue: writes queued so run in the order
    /// they were queued, before anything queued after them. `offload { }` waits for all of them.
    public func enqueueWrite(_ body: @escaping @Sendable () -> Void) {
        blockingQueue.async(execute: body)
    }

    /// Runs `body` (database work that blocks) on the store's own queue and awaits its result; the
    /// awaiting task is suspended, no cooperative thread waits.
    public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            blockingQueue.async { c.resume(with: Result { try body() }) }
        }
    }

    /// Opens (creating when needed, owner-only) and migrates the database at `path`.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        // Created owner-only: the database holds who consented to what.
        let previous = umask(0o077)
        defer { umask(previous) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // Every connection overwrites what it deletes: an erasure must not leave the bytes in free pages.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw DaemonError("cannot open the state database \(path): \(error)")
        }
        let migrator = Self.migrator
        try pool.read { db in
            if try migrator.hasBeenSuperseded(db) {
                throw DaemonError("the state database \(path) was written by a newer version of Canary; refusing to use it (run that version, or move the file away)")
            }
        }
        try migrator.migrate(pool)
    }

    /// Every schema change, in order. A released migration is never edited: add a new one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: consent and audit") { db in
            try db.create(table: "consent") { t in
                t.column("subject", .text).notNull()
                t.column("scope", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("recorded_by", .text).notNull()
                t.column("granted_at", .double).notNull()
                t.column("expires_at", .double)
                t.primaryKey(["subject", "scope"])
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .double).notNull()
                t.column("action", .text).notNull()      // grant, revoke, expire, erase
                t.column("subject", .text).notNull()
                t.column("scopes", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        m.registerMigration("v2: evaluation state") { db in
            try db.create(table: "subject_state") { t in
                t.primaryKey("subject", .text)
                t.column("state", .blob).notNull()
                t.column("saved_at", .double).notNull()
            }
        }
        m.registerMigration("v3: alert outbox") { db in
            // Every alert kept, in emission order (seq); the deliveries still owed, made, and given up.
            try db.create(table: "alert") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("id", .text).notNull().unique()
                t.column("subject", .text).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("emitted_at", .double).notNull()
                t.column("body", .text).notNull()           // Alert as JSON (Codable)
            }
            try db.create(table: "outbox") { t in
                t.column("alert_id", .text).notNull().references("alert", column: "id", onDelete: .cascade)
                t.column("channel", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("not_before", .double).notNull().defaults(to: 0)
                t.column("queued_at", .double).notNull()   // max_age counts from here (emission, or a manual retry)
                t.column("last_status", .integer)
                t.column("last_error", .text)
                t.primaryKey(["alert_id", "channel"])
            }
            try db.create(table: "delivered") { t in
                t.column("alert_id", .text).notNull().references("alert", column: "id", onDelete: .cascade)
                t.column("channel", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("status", .integer)
                t.column("delivered_at", .double).notNull()
                t.primaryKey(["alert_id", "channel"])
            }
            try db.create(table: "dead_letter") { t in
                t.column("alert_id", .text).notNull().references("alert", column: "id", onDelete: .cascade)
                t.column("channel", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("status", .integer)
                t.column("reason", .text).notNull()
                t.column("dead_at", .double).notNull()
                t.primaryKey(["alert_id", "channel"])
            }
        }
        m.registerMigration("v4: audit by pseudonymous token") { db in
            // Rows written before are keyed at the next start (`keyAuditTrail`), when the key is at hand.
            try db.alter(table: "audit") { t in t.add(column: "keyed", .integer).notNull().defaults(to: 0) }
            try db.create(index: "audit_subject", on: "audit", columns: ["subject"])
        }
        return m
    }

    // MARK: Evaluation state

    /// Runs `body` with snapshot saves and erasures kept apart.
    func exclusively<T>(_ body: () throws -> T) throws -> T {
        snapshotLock.lock()
        defer { snapshotLock.unlock() }
        return try body()
    }

    /// Writes the saved evaluation state of the subjects in `states` (one row per subject; others keep
    /// theirs) and adds the alerts decided since the last save to the outbox, in one transaction: the
    /// state that made a decision and the decision are durable together. Returns the deliveries it
    /// queued (an alert already known by its id is not queued again).
    @discardableResult
    public func saveSubjectStates(_ states: [String: Data], removed: [String] = [], alerts: [PendingAlert] = [],
                                  at instant: Double) throws -> [DeliveryItem] {
        try pool.write { db in
            // Subjects the engine dropped (monitor consent withdrawn or expired): their saved state goes too.
            for subject in removed where states[subject] == nil {
                try db.execute(sql: "DELETE FROM subject_state WHERE subject = ?", arguments: [subject])
            }
            for (subject, state) in states {
                try db.execute(sql: "INSERT OR REPLACE INTO subject_state (subject, state, saved_at) VALUES (?, ?, ?)",
                               arguments: [subject, state, instant])
            }
            return try enqueue(alerts, db)
        }
    }

    public func loadSubjectStates() throws -> [String: Data] {
        try pool.read { db in
            var out: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT subject, state FROM subject_state") {
                out[row["subject"]] = row["state"]
            }
            return out
        }
    }

    // MARK: Consent

    public func loadConsent() throws -> ConsentLedger {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT subject, scope, reference, recorded_by, granted_at, expires_at FROM consent")
            return ConsentLedger(rows.compactMap { row in
                guard let scope = ConsentScope(row["scope"] as String) else { return nil }
                return ConsentGrant(subject: row["subject"], scope: scope, reference: row["reference"],
                                    recordedBy: row["recorded_by"], grantedAt: row["granted_at"], expiresAt: row["expires_at"])
            })
        }
    }

    /// One audited change of the ledger, in one transaction: the grants to write, the ones to delete,
    /// and the audit row.
    public func apply(upsert: [ConsentGrant], delete: [(String, ConsentScope)], audit: AuditRecord) throws {
        try pool.write { db in
            for g in upsert {
                try db.execute(sql: """
                    INSERT INTO consent (subject, scope, reference, recorded_by, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(subject, scope) DO UPDATE SET reference = excluded.reference, recorded_by = excluded.recorded_by,
                        granted_at = excluded.granted_at, expires_at = excluded.expires_at
                    """, arguments: [g.subject, g.scope.description, g.reference, g.recordedBy, g.grantedAt, g.expiresAt])
            }
            for (subject, scope) in delete {
                try db.execute(sql: "DELETE FROM consent WHERE subject = ? AND scope = ?", arguments: [subject, scope.description])
            }
            try insert(audit, db)
        }
    }

    /// Expiry: deletes each of these grants only if it is still expired at `instant` (a renewal recorded
    /// meanwhile stays), with an audit row for each one deleted, in one transaction. Returns the ones deleted.
    public func expire(_ due: [ConsentGrant], at instant: Double, audit: (ConsentGrant) -> AuditRecord) throws -> [ConsentGrant] {
        try pool.write { db in
            var deleted: [ConsentGrant] = []
            for g in due {
                try db.execute(sql: """
                    DELETE FROM consent WHERE subject = ? AND scope = ? AND expires_at IS NOT NULL AND expires_at <= ?
                    """, arguments: [g.subject, g.scope.description, instant])
                guard db.changesCount == 1 else { continue }
                deleted.append(g)
                try insert(audit(g), db)
            }
            return deleted
        }
    }

    /// Whether the audit trail has anything about the subject with this token (granted, revoked,
    /// expired or erased, ever): configuration seeds never enrol such a subject again.
    public func hasHistory(token: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM audit WHERE subject = ?)", arguments: [token]) ?? false
        }
    }

    /// Names subjects by token in audit rows written before the trail was keyed (older databases).
    public func keyAuditTrail(_ token: (String) -> String) throws {
        let converted = try pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, subject FROM audit WHERE keyed = 0")
            for row in rows {
                try db.execute(sql: "UPDATE audit SET subject = ?, keyed = 1 WHERE id = ?",
                               arguments: [token(row["subject"]), row["id"] as Int64])
            }
            return rows.count
        }
        // The ids the rows held must not stay behind in the write-ahead log.
        if converted > 0 { try truncateLog() }
    }

    /// Erasure: every row held for the subject goes (consent, evaluation state, alerts and their
    /// deliveries), in one transaction with its audit row; the subject's earlier audit rows lose their
    /// consent references, and an actor named like the subject is blanked. Then the write-ahead log is
    /// checkpointed and truncated, so its old pages do not keep what was deleted. Returns the consent
    /// rows and alerts removed.
    public func erase(subject: String, token: String, audit: AuditRecord) throws -> (consentRows: Int, alerts: AlertErasure) {
        let removed = try pool.write { db in
            try db.execute(sql: "UPDATE audit SET reference = '' WHERE subject = ?", arguments: [token])
            try db.execute(sql: "UPDATE audit SET actor = replace(actor, ?, '(erased subject)') WHERE instr(actor, ?) > 0",
                           arguments: [subject, subject])
            var alerts = AlertErasure()
            alerts.undelivered = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM outbox WHERE alert_id IN (SELECT id FROM alert WHERE subject = ?)
                """, arguments: [subject]) ?? 0
            try db.execute(sql: "DELETE FROM alert WHERE subject = ?", arguments: [subject])
            alerts.alerts = db.changesCount
            try db.execute(sql: "DELETE FROM consent WHERE subject = ?", arguments: [subject])
            let removed = (consentRows: db.changesCount, alerts: alerts)
            try db.execute(sql: "DELETE FROM subject_state WHERE subject = ?", arguments: [subject])
            try insert(audit, db)
            return removed
        }
        try truncateLog()
        return removed
    }

    /// Copies every committed page into the main file and truncates the write-ahead log to zero bytes
    /// (waiting for readers), so pages that held deleted rows are gone from the `-wal` file.
    public func truncateLog() throws {
        _ = try pool.barrierWriteWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    /// What an erasure removed of a subject's alerts.
    public struct AlertErasure: Sendable, Codable, Equatable {
        public var alerts = 0
        public var undelivered = 0
    }

    /// The audit trail, or the rows about the subject with this pseudonymous token.
    public func auditTrail(token: String? = nil) throws -> [AuditRecord] {
        try pool.read { db in
            let rows = token == nil
                ? try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id")
                : try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE subject = ? ORDER BY id", arguments: [token])
            return rows.map { AuditRecord(at: $0["at"], action: $0["action"], subject: $0["subject"], scopes: $0["scopes"],
                                          actor: $0["actor"], reference: $0["reference"], detail: $0["detail"]) }
        }
    }

    private func insert(_ a: AuditRecord, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO audit (at, action, subject, scopes, actor, reference, detail, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                       arguments: [a.at, a.action, a.subject, a.scopes, a.actor, a.reference, a.detail])
    }
}

/// One row of the audit trail: a grant, revoke, expiry or erasure. Never holds health values, and
/// names the subject by pseudonymous token only, so it can outlive an erasure.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var at: Double
    public var action: String
    /// The subject's pseudonymous token (`ps-…`), never its id.
    public var subject: String
    public var scopes: String
    public var actor: String
    public var reference: String
    public var detail: String

    public init(at: Double, action: String, subject: String, scopes: String, actor: String, reference: String, detail: String) {
        self.at = at
        self.action = action
        self.subject = subject
        self.scopes = scopes
        self.actor = actor
        self.reference = reference
        self.detail = detail
    }
}
