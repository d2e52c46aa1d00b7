import CanaryCore
import Foundation
import Logging

/// The consent ledger as the daemon keeps it: answers from memory (every ingested row and every alert
/// asks), changes written to the state database and audited (a table row and a journal entry).
///
/// Changes are made one at a time (grant, revoke, expiry, erasure, seeding). A withdrawal takes effect
/// in memory first, so nothing more is admitted while the database catches up; a grant takes effect
/// once it is durable. The audit trail names subjects by pseudonymous token, so it can say that a
/// person was erased, and when, without keeping who.
public final class ConsentService: @unchecked Sendable {
    private let lock = NSLock()
    /// Held across a change's database write and memory update, so changes never interleave.
    private let changeLock = NSLock()
    private var ledger: ConsentLedger {
        didSet { changes += 1 }
    }
    private var changes = 0
    /// The engine sequence number of each subject's last erasure, by token: a snapshot taken before it
    /// never brings the subject back.
    private var erasedAt: [String: Int] = [:]
    private let store: StateStore
    private let systemd: any SystemdAPI
    private let logger: Logger
    private let pseudonyms: Pseudonymizer
    private let stateEncoder: SubjectStateEncoder
    /// How a subject is named in the journal (its pseudonymous token, or its id).
    let journalName: @Sendable (String) -> String

    /// - Parameter pseudonyms: names subjects in the audit trail.
    /// - Parameter journalName: how the journal names a subject (`privacy.journal_subject`).
    public init(store: StateStore, systemd: any SystemdAPI, logger: Logger, pseudonyms: Pseudonymizer,
                journalName: @escaping @Sendable (String) -> String = { $0 }) throws {
        self.journalName = journalName
        self.store = store
        self.systemd = systemd
        self.logger = logger
        self.pseudonyms = pseudonyms
        stateEncoder = SubjectStateEncoder(systemd: systemd, logger: logger)
        try store.keyAuditTrail { pseudonyms.token(for: $0) }
        ledger = try store.loadConsent()
    }

    /// The subject's pseudonymous token, as the audit trail names it.
    public func token(_ subject: String) -> String {
        pseudonyms.token(for: subject)
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

    /// The audit trail about a subject (found by its token).
    public func auditTrail(of subject: String) throws -> [AuditRecord] {
        try store.auditTrail(token: token(subject))
    }

    /// Saves an engine snapshot, and the alerts it carries into the outbox, without any subject erased
    /// after it was taken: an erasure must stick. Returns the deliveries queued.
    public func save(_ snapshot: EngineSnapshot, at instant: Double) throws -> [DeliveryItem] {
        try store.exclusively {
            let (keep, alerts) = lock.withLock {
                guard !erasedAt.isEmpty else { return (snapshot.states, snapshot.alerts) }
                let kept = { (subject: String) in self.erasedAt[self.token(subject)].map { $0 < snapshot.sequence } ?? true }
                return (snapshot.states.filter { kept($0.key) }, snapshot.alerts.filter { kept($0.alert.subject) })
            }
            let encoder = JSONEncoder()
            // Per subject: one whose state cannot be encoded is reported (by token) and left out, never the whole commit.
            let states = stateEncoder.encode(keep, with: encoder, name: { pseudonyms.token(for: $0) })
            let items = try store.saveSubjectStates(states, removed: snapshot.removed, alerts: alerts, at: instant)
            // Snapshots are saved in order: none taken before these erasures can come any more.
            lock.withLock { erasedAt = erasedAt.filter { $0.value >= snapshot.sequence } }
            return items
        }
    }

    /// The subject whose token is `token`, among those the ledger holds.
    public func resolve(token: String) -> String? {
        lock.lock()
        let subjects = ledger.subjects
        lock.unlock()
        return subjects.first { journalName($0) == token || self.token($0) == token }
    }

    public var all: [ConsentGrant] {
        lock.lock()
        defer { lock.unlock() }
        return ledger.all
    }

    /// Records grants (replacing earlier ones of the same scopes).
    public func grant(subject: String, scopes: [ConsentScope], reference: String, by actor: String,
                      expiresAt: Double?, now: Double) throws -> [ConsentGrant] {
        try changeLock.withLock {
            try recordGrant(subject: subject, scopes: scopes, reference: reference, by: actor, expiresAt: expiresAt, now: now)
        }
    }

    private func recordGrant(subject: String, scopes: [ConsentScope], reference: String, by actor: String,
                             expiresAt: Double?, now: Double) throws -> [ConsentGrant] {
        let grants = scopes.map { ConsentGrant(subject: subject, scope: $0, reference: reference, recordedBy: actor,
                                               grantedAt: now, expiresAt: expiresAt) }
        let names = scopes.map(\.description).sorted().joined(separator: ",")
        let detail = expiresAt.map { "expires \(PeriodFormat.instant($0))" } ?? "no expiry"
        try store.apply(upsert: grants, delete: [], audit: AuditRecord(at: now, action: "grant", subject: token(subject), scopes: names,
                                                                       actor: actor, reference: reference, detail: detail))
        lock.withLock { for g in grants { ledger.record(g) } }
        journal(action: "grant", subject: subject, scopes: names, actor: actor,
                message: "consent granted for \(subject): \(names) (recorded by \(actor), \(detail))")
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
    ///
    /// The withdrawal takes effect in memory before anything else: from then on no row of the subject is
    /// admitted (by connections or by the engine), no alert about them is emitted or delivered.
    /// `erasing` drops what the engine and the dispatcher hold in memory (the caller, which has them, says how).
    public func revoke(subject: String, scopes: [ConsentScope]?, by actor: String, erase: Bool, now: Double,
                       erasing steps: ErasureSteps = .none) async throws -> Revocation {
        if erase { return try await eraseSubject(subject, by: actor, now: now, steps: steps) }
        return try await store.offload { try self.revokeNow(subject: subject, scopes: scopes, by: actor, now: now) }
    }

    private func revokeNow(subject: String, scopes: [ConsentScope]?, by actor: String, now: Double) throws -> Revocation {
        try changeLock.withLock {
            let held = grants(of: subject)
            let removing = (scopes ?? held.map(\.scope)).filter { s in held.contains { $0.scope == s } }
            let names = removing.map(\.description).sorted().joined(separator: ",")
            lock.withLock { _ = ledger.revoke(subject, scopes: removing) }
            try store.apply(upsert: [], delete: removing.map { (subject, $0) }, audit: AuditRecord(
                at: now, action: "revoke", subject: token(subject), scopes: names, actor: actor, reference: "", detail: ""))
            journal(action: "revoke", subject: subject, scopes: names, actor: actor,
                    message: "consent revoked for \(subject): \(names.isEmpty ? "nothing held" : names) by \(actor)")
            return Revocation(scopes: removing.map(\.description), erased: false, consentRowsDeleted: removing.count, engineStateDeleted: false)
        }
    }

    private func eraseSubject(_ subject: String, by actor: String, now: Double, steps: ErasureSteps) async throws -> Revocation {
        let tokenName = token(subject)
        // Withdrawn in memory first: connections and the engine stop admitting the subject's rows.
        let held = lock.withLock { ledger.revoke(subject) }
        let names = held.map(\.scope.description).sorted().joined(separator: ",")
        // After every batch queued before this point; rows queued later find no consent and are dropped.
        let (engineDeleted, sequence) = await steps.dropEngineState(subject)
        // Under the store's snapshot lock: no snapshot saved from now on brings the subject back,
        // and one being saved has finished before the rows are deleted.
        let store = self.store
        let removed = try await store.offload {
            try self.changeLock.withLock {
                try store.exclusively {
                    self.lock.withLock { self.erasedAt[tokenName] = sequence }
                    return try store.erase(subject: subject, token: tokenName, audit: AuditRecord(
                        at: now, action: "erase", subject: tokenName, scopes: names, actor: actor, reference: "",
                        detail: "consent rows, evaluation state (days, baselines, rule states) and alerts with their deliveries deleted"))
                }
            }
        }
        // A grant recorded while the erasure ran was deleted with the rest: forget it here too.
        lock.withLock { _ = ledger.revoke(subject) }
        await steps.forgetDeliveries(subject)
        journal(action: "erase", subject: subject, scopes: names, actor: actor,
                message: "consent revoked and data erased for \(subject) by \(actor)")
        return Revocation(scopes: held.map(\.scope.description), erased: true, consentRowsDeleted: removed.consentRows,
                          engineStateDeleted: engineDeleted, alertsDeleted: removed.alerts.alerts,
                          undeliveredDeleted: removed.alerts.undelivered)
    }

    /// `save`, on the store's own queue (no cooperative thread waits for the disk).
    func commit(_ snapshot: EngineSnapshot, at instant: Double) async throws -> [DeliveryItem] {
        try await store.offload { try self.save(snapshot, at: instant) }
    }

    /// `expireDue`, on the store's own queue.
    func expireDueOffloaded(now: Double) async {
        _ = try? await store.offload { self.expireDue(now: now) }
    }

    /// Removes grants whose expiry has passed, each audited; called from the daemon's clock. One
    /// transaction, and only grants still expired in the database and in memory: a renewal is never undone.
    public func expireDue(now: Double) {
        changeLock.withLock {
            let due = lock.withLock { ledger.all.filter { $0.expiresAt.map { $0 <= now } ?? false } }
            guard !due.isEmpty else { return }
            do {
                let expired = try store.expire(due, at: now) { g in
                    AuditRecord(at: now, action: "expire", subject: self.token(g.subject), scopes: g.scope.description, actor: "canaryd",
                                reference: g.reference, detail: "expired at \(PeriodFormat.instant(g.expiresAt ?? now))")
                }
                lock.withLock {
                    for g in expired where ledger.grants(of: g.subject).contains(where: { $0.scope == g.scope && $0 == g }) {
                        ledger.revoke(g.subject, scopes: [g.scope])
                    }
                }
                for g in expired {
                    journal(action: "expire", subject: g.subject, scopes: g.scope.description, actor: "canaryd",
                            message: "consent expired for \(g.subject): \(g.scope)")
                }
            } catch {
                logger.error("cannot record a consent expiry", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// Seeds grants from the configuration, only for subjects the ledger has never known: a subject
    /// with grants, or with any audit history (revoked, expired, erased), is never enrolled again by
    /// the configuration; only an explicit grant does that.
    public func seed(_ seeds: [ConsentSeed], now: Double) throws {
        try changeLock.withLock {
            for s in seeds where grants(of: s.subject).isEmpty {
                guard try !store.hasHistory(token: token(s.subject)) else {
                    logger.notice("a configured consent seed was not applied: the subject has a consent history (revoked, expired or erased)",
                                  metadata: ["subject": "\(token(s.subject))"])
                    continue
                }
                _ = try recordGrant(subject: s.subject, scopes: s.scopes, reference: s.reference, by: "configuration",
                                    expiresAt: s.expiresAt, now: now)
            }
        }
    }

    /// The audit entry in the journal: the subject as the journal names it, no consent reference.
    private func journal(action: String, subject: String, scopes: String, actor: String, message: String) {
        let name = journalName(subject)
        _ = systemd.journalSend([
            ("MESSAGE", message.replacingOccurrences(of: " \(subject)", with: " \(name)")),
            ("PRIORITY", "5"),
            ("MESSAGE_ID", MessageID.consentAudit),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_SUBJECT", name),
            ("CANARY_CONSENT", "\(action) \(scopes)"),
            ("CANARY_ACTOR", actor),
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

/// What an erasure does beyond the ledger and the database: the engine forgets the subject (after every
/// batch queued before it; it returns whether it held anything and its command sequence number then),
/// and the dispatcher forgets the subject's queued deliveries and alert-log lines.
public struct ErasureSteps: Sendable {
    var dropEngineState: @Sendable (String) async -> (deleted: Bool, sequence: Int)
    var forgetDeliveries: @Sendable (String) async -> Void

    init(dropEngineState: @escaping @Sendable (String) async -> (deleted: Bool, sequence: Int),
         forgetDeliveries: @escaping @Sendable (String) async -> Void) {
        self.dropEngineState = dropEngineState
        self.forgetDeliveries = forgetDeliveries
    }

    /// Nothing held in memory elsewhere (tests of the ledger alone).
    public static let none = ErasureSteps(dropEngineState: { _ in (false, 0) }, forgetDeliveries: { _ in })
}
