import CanaryCore
import Foundation

/// One request on the control socket (one JSON object on one line) and its answer (one JSON line).
public struct ControlRequest: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        case grant, revoke, list, show, resolve
        /// The alert outbox: deliveries by state, one alert in full, re-driving dead letters.
        case alertsList = "alerts-list", alertsShow = "alerts-show", alertsRetry = "alerts-retry"
    }
    public var cmd: Command
    public var subject: String?
    public var scopes: [String]?
    public var reference: String?
    public var by: String?
    /// Epoch seconds.
    public var expires: Double?
    public var erase: Bool?
    /// For `resolve`: a pseudonymous token from the journal.
    public var token: String?
    /// For the alert commands: an alert id, a channel (`journal`, `webhook:<name>`), a delivery state, a row limit.
    public var alert: String?
    public var channel: String?
    public var state: String?
    public var limit: Int?

    public init(cmd: Command, subject: String? = nil, scopes: [String]? = nil, reference: String? = nil,
                by: String? = nil, expires: Double? = nil, erase: Bool? = nil, token: String? = nil,
                alert: String? = nil, channel: String? = nil, state: String? = nil, limit: Int? = nil) {
        self.cmd = cmd
        self.subject = subject
        self.scopes = scopes
        self.reference = reference
        self.by = by
        self.expires = expires
        self.erase = erase
        self.token = token
        self.alert = alert
        self.channel = channel
        self.state = state
        self.limit = limit
    }
}

/// The answer to a control request.
public struct ControlResponse: Codable, Sendable, Equatable {
    /// One grant as the control socket shows it.
    public struct Grant: Codable, Sendable, Equatable {
        public var subject: String
        public var scope: String
        public var reference: String
        public var recordedBy: String
        public var grantedAt: Double
        public var expiresAt: Double?
        public var active: Bool
    }

    public var ok: Bool
    public var error: String?
    public var grants: [Grant]?
    public var revocation: ConsentService.Revocation?
    public var audit: [AuditRecord]?
    /// For `resolve`: the subject the token stands for; for `show`: the subject's pseudonymous token.
    public var subject: String?
    /// For the alert commands: deliveries, newest first.
    public var deliveries: [StateStore.DeliveryRecord]?
    /// For `alerts-show`: the alert itself.
    public var alertBody: Alert?
    /// For `alerts-retry`: dead letters queued again, and waiting deliveries made due now.
    public var requeued: Int?
    public var expedited: Int?

    static func failure(_ message: String) -> ControlResponse {
        ControlResponse(ok: false, error: message)
    }
}

extension ControlResponse.Grant {
    init(_ g: ConsentGrant, now: Double) {
        self.init(subject: g.subject, scope: g.scope.description, reference: g.reference, recordedBy: g.recordedBy,
                  grantedAt: g.grantedAt, expiresAt: g.expiresAt, active: g.isActive(at: now))
    }
}
