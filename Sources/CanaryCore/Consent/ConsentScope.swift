/// What a person agreed to: being monitored at all, and each channel an alert about them may take.
public enum ConsentScope: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Their data may be ingested and baselined.
    case monitor
    /// Alerts about them may go to the journal (and the local alert log).
    case alertJournal
    /// Alerts about them may go to the named webhook.
    case alertWebhook(String)

    public init?(_ text: String) {
        switch text {
        case "monitor": self = .monitor
        case "alert:journal": self = .alertJournal
        default:
            let prefix = "alert:webhook:"
            guard text.hasPrefix(prefix), text.count > prefix.count else { return nil }
            let name = String(text.dropFirst(prefix.count))
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
            self = .alertWebhook(name)
        }
    }

    public var description: String {
        switch self {
        case .monitor: "monitor"
        case .alertJournal: "alert:journal"
        case .alertWebhook(let name): "alert:webhook:\(name)"
        }
    }

    public static func < (a: ConsentScope, b: ConsentScope) -> Bool { a.description < b.description }

    public static let help = "monitor, alert:journal or alert:webhook:<name>"
}

/// One recorded agreement: who agreed to what, on which form, recorded by whom, until when.
public struct ConsentGrant: Sendable, Equatable {
    public var subject: String
    public var scope: ConsentScope
    /// The consent reference, e.g. the signed form's id.
    public var reference: String
    /// Who recorded it (an operator's name).
    public var recordedBy: String
    public var grantedAt: Double
    public var expiresAt: Double?

    public init(subject: String, scope: ConsentScope, reference: String, recordedBy: String, grantedAt: Double, expiresAt: Double? = nil) {
        self.subject = subject
        self.scope = scope
        self.reference = reference
        self.recordedBy = recordedBy
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
    }

    public func isActive(at instant: Double) -> Bool {
        grantedAt <= instant && (expiresAt.map { instant < $0 } ?? true)
    }
}
