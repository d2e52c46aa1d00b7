import CanaryCore

/// A grant written in the configuration (`[[consent.grant]]`), applied at start to subjects with no ledger entry.
public struct ConsentSeed: Sendable, Equatable {
    public var subject: String
    public var scopes: [ConsentScope]
    public var reference: String
    public var expiresAt: Double?
}
