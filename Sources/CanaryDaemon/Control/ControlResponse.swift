import CanaryCore
import Foundation

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
    /// For `baseline`: the subject's baselines as the engine holds them now.
    public var baseline: BaselineReport?
    /// For `metrics`: the Prometheus text exposition.
    public var metrics: String?
    /// For `report`: what the report draws, the subject named as the journal names it.
    public var report: ReportData?
    /// For `reload`: what was done (a refused file is a failure with its reason).
    public var reloaded: String?

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
