import CanaryCore
import Foundation
import Logging

/// The consent ledger as the daemon keeps it: answers from memory (every ingested row and every alert
/// asks), changes written to the state database and audited (a table row and a journal entry) before
/// they take effect.
public final class ConsentService: @unchecked Sendable {
    private let lock = NSLock()
    private var ledger: ConsentLedger {
        didSet { changes += 1 }
    }
    private var changes = 0
    /// The engine sequence number of each subject's last erasure: a snapshot taken before it never brings it back.
    private var erasedAt: [String: Int] = [:]
    private let store: StateStore
    private let systemd: any SystemdAPI
    private let logger: Logger
    /// Drops an erased subject's evaluation state; set by the service once the engine runs.
    var eraseEngineState: @Sendable (String) async -> (deleted: Bool, sequence: Int) = { _ in (false, 0) }
    /// Drops an erased subject's queued deliveries from the dispatcher's memory; set by the service.
    var forgetDeliveries: @Sendable (String) async -> Void = { _ in }
    /// How a subject is named in the journal (its pseudonymous token, or its id).
    var journalName: @Sendable (String) -> String = { $0 }

    public init(store: StateStore, systemd: any SystemdAPI, logger: Logger) throws {
        self.store = store
        self.systemd = systemd
        self.logger = logger
        ledger = try store.loadConsent()
    }

    /// Changes whenever the ledger does (grant, revoke, expiry, erasure): ingest re-asks about subjects then.
    public var version: Int {
        lock.lock()
        defer { lock.unlock() }
        return changes
    }

    public func allows(_ subject: String, _ scope: ConsentScope, at instant: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return ledger.allows(subject, scope, at: instant)
    }

    public func grants(of subject: String) -> [ConsentGrant] {
        lock.lock()
        defer { lock.unlock() }
        return ledger.grants(of: subject)
    }

    /// Saves an engine snapshot, and the alerts it carries into the outbox, without any subject erased
    /// after it was taken: an erasure must stick. Returns the deliveries queued.
    public func save(_ snapshot: EngineSnapshot, at instant: Double) throws -> [DeliveryItem] {
        try store.exclusively {
            let (keep, alerts) = lock.withLock {
                let kept = { (subject: String) in self.erasedAt[subject].map { $0 < snapshot.sequence } ?? true }
                return (snapshot.states.filter { kept($0.key) }, snapshot.alerts.filter { kept($0.alert.subject) })
            }
            let encoder = JSONEncoder()
            return try store.saveSubjectStates(try keep.mapValues { try $0.encoded(with: encoder) }, alerts: alerts, at: instant)
        }
    }

    /// The subject whose token is `token`, among those the ledger holds.
    public func resolve(token: String) -> String? {
        lock.lock()
        let subjects = ledger.subjects
        lock.unlock()
        return subjects.first { journalName($0) == token }
    }

    public var all: [ConsentGrant] {
        lock.lock()
        defer { lock.unlock() }
        return ledger.all
    }

    /// Records grants (replacing earlier ones of the same scopes).
    public func grant(subject: String, scopes: [ConsentScope], reference: String, by actor: String,
                      expiresAt: Double?, now: Double) throws -> [ConsentGrant] {
        let grants = scopes.map { ConsentGrant(subject: subject, scope: $0, reference: reference, recordedBy: actor,
                                               grantedAt: now, expiresAt: expiresAt) }
        let names = scopes.map(\.description).sorted().joined(separator: ",")
        let detail = expiresAt.map { "expires \(PeriodFormat.instant($0))" } ?? "no expiry"
        try store.apply(upsert: grants, delete: [], audit: AuditRecord(at: now, action: "grant", subject: subject, scopes: names,
                                                                       actor: actor, reference: reference, detail: detail))
        lock.lock()
        for g in grants { ledger.record(g) }
        lock.unlock()
        journal(action: "grant", subject: subject, scopes: names, actor: actor, reference: reference,
                message: "consent granted for \(subject): \(names) (\(reference), recorded by \(actor), \(detail))")
        return grants
    }

    /// What a revocation removed.
    public struct Revocation: Sendable, Codable, Equatable {
        public var scopes: [String]
        public var erased: Bool
        public var consentRowsDeleted: Int
        public var engineStateDeleted: Bool
        /// Alerts kept for the subject (delivered, owed or dead-lettered) that were deleted.
        public var alertsDeleted = 0
        /// Of those, deliveries still owed: they will never be sent.
        public var undeliveredDeleted = 0
    }

    /// Revokes scopes (all when nil); with `erase`, deletes everything held for the subject.
    public func revoke(subject: String, scopes: [ConsentScope]?, by actor: String, erase: Bool, now: Double) async throws -> Revocation {
        let held = grants(of: subject)
        let removing = erase ? held.map(\.scope) : (scopes ?? held.map(\.scope)).filter { s in held.contains { $0.scope == s } }
        let names = removing.map(\.description).sorted().joined(separator: ",")
        if erase {
            let (engineDeleted, sequence) = await eraseEngineState(subject)
            // Under the store's snapshot lock: no snapshot saved from now on brings the subject back,
            // and one being saved has finished before the rows are deleted.
            let removed = try store.exclusively {
                lock.withLock { erasedAt[subject] = sequence }
                return try store.erase(subject: subject, audit: AuditRecord(
                    at: now, action: "erase", subject: subject, scopes: names, actor: actor, reference: "",
                    detail: "consent rows, evaluation state (days, baselines, rule states) and alerts with their deliveries deleted"))
            }
            lock.withLock { _ = ledger.revoke(subject) }
            await forgetDeliveries(subject)
            journal(action: "erase", subject: subject, scopes: names, actor: actor, reference: "",
                    message: "consent revoked and data erased for \(subject) by \(actor)")
            return Revocation(scopes: removing.map(\.description), erased: true, consentRowsDeleted: removed.consentRows,
                              engineStateDeleted: engineDeleted, alertsDeleted: removed.alerts.alerts,
                              undeliveredDeleted: removed.alerts.undelivered)
        }
        try store.apply(upsert: [], delete: removing.map { (subject, $0) }, audit: AuditRecord(
            at: now, action: "revoke", subject: subject, scopes: names, actor: actor, reference: "", detail: ""))
        lock.withLock { _ = ledger.revoke(subject, scopes: removing) }
        journal(action: "revoke", subject: subject, scopes: names, actor: actor, reference: "",
                message: "consent revoked for \(subject): \(names.isEmpty ? "nothing held" : names) by \(actor)")
        return Revocation(scopes: removing.map(\.description), erased: false, consentRowsDeleted: removing.count, engineStateDeleted: false)
    }

    /// Removes grants whose expiry has passed, each audited; called from the daemon's clock.
    public func expireDue(now: Double) {
        lock.lock()
        var probe = ledger
        lock.unlock()
        let due = probe.expire(at: now)
        for g in due {
            do {
                try store.apply(upsert: [], delete: [(g.subject, g.scope)], audit: AuditRecord(
                    at: now, action: "expire", subject: g.subject, scopes: g.scope.description, actor: "canaryd",
                    reference: g.reference, detail: "expired at \(PeriodFormat.instant(g.expiresAt ?? now))"))
                lock.lock()
                ledger.revoke(g.subject, scopes: [g.scope])
                lock.unlock()
                journal(action: "expire", subject: g.subject, scopes: g.scope.description, actor: "canaryd", reference: g.reference,
                        message: "consent expired for \(g.subject): \(g.scope)")
            } catch {
                logger.error("cannot record a consent expiry", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// Seeds grants from the configuration for subjects the ledger knows nothing about yet.
    public func seed(_ seeds: [ConsentSeed], now: Double) throws {
        for s in seeds where grants(of: s.subject).isEmpty {
            _ = try grant(subject: s.subject, scopes: s.scopes, reference: s.reference, by: "configuration", expiresAt: s.expiresAt, now: now)
        }
    }

    private func journal(action: String, subject: String, scopes: String, actor: String, reference: String, message: String) {
        let name = journalName(subject)
        _ = systemd.journalSend([
            ("MESSAGE", message.replacingOccurrences(of: " \(subject)", with: " \(name)")),
            ("PRIORITY", "5"),
            ("MESSAGE_ID", MessageID.consentAudit),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_SUBJECT", name),
            ("CANARY_CONSENT", "\(action) \(scopes)"),
            ("CANARY_ACTOR", actor),
            ("CANARY_REFERENCE", reference),
        ])
        logger.notice("consent changed", metadata: ["action": "\(action)", "scopes": "\(scopes)"])
    }
}

/// RFC 3339 UTC for audit text.
enum PeriodFormat {
    static func instant(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}
