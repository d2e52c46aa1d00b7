/// The consent ledger as a value: default deny, one grant per (subject, scope), expiry honoured at
/// the moment of each question. The daemon keeps it durable and audited; this type only decides.
public struct ConsentLedger: Sendable, Equatable {
    private var grants: [String: [ConsentScope: ConsentGrant]] = [:]

    public init(_ grants: [ConsentGrant] = []) {
        for g in grants { record(g) }
    }

    /// True only while an active grant of `scope` exists for `subject`.
    public func allows(_ subject: String, _ scope: ConsentScope, at instant: Double) -> Bool {
        grants[subject]?[scope]?.isActive(at: instant) ?? false
    }

    /// Records (or replaces) a grant.
    public mutating func record(_ grant: ConsentGrant) {
        grants[grant.subject, default: [:]][grant.scope] = grant
    }

    /// Removes the given scopes (all when nil) of a subject; returns what was removed.
    @discardableResult
    public mutating func revoke(_ subject: String, scopes: [ConsentScope]? = nil) -> [ConsentGrant] {
        guard var held = grants[subject] else { return [] }
        var removed: [ConsentGrant] = []
        for scope in scopes ?? Array(held.keys) {
            if let g = held.removeValue(forKey: scope) { removed.append(g) }
        }
        grants[subject] = held.isEmpty ? nil : held
        return removed.sorted { $0.scope < $1.scope }
    }

    /// Grants whose expiry has passed at `instant`, removed from the ledger and returned (for the audit).
    public mutating func expire(at instant: Double) -> [ConsentGrant] {
        var expired: [ConsentGrant] = []
        for (subject, held) in grants {
            for (scope, g) in held where g.expiresAt.map({ $0 <= instant }) ?? false {
                expired.append(g)
                grants[subject]?[scope] = nil
            }
            if grants[subject]?.isEmpty ?? false { grants[subject] = nil }
        }
        return expired.sorted { ($0.subject, $0.scope) < ($1.subject, $1.scope) }
    }

    public func grants(of subject: String) -> [ConsentGrant] {
        (grants[subject].map { Array($0.values) } ?? []).sorted { $0.scope < $1.scope }
    }

    public var subjects: [String] { grants.keys.sorted() }

    public var all: [ConsentGrant] { subjects.flatMap { grants(of: $0) } }
}
