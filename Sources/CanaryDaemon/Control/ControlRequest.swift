import CanaryCore
import Foundation

/// One request on the control socket (one JSON object on one line) and its answer (one JSON line).
public struct ControlRequest: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable { case grant, revoke, list, show, resolve }
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

    public init(cmd: Command, subject: String? = nil, scopes: [String]? = nil, reference: String? = nil,
                by: String? = nil, expires: Double? = nil, erase: Bool? = nil, token: String? = nil) {
        self.cmd = cmd
        self.subject = subject
        self.scopes = scopes
        self.reference = reference
        self.by = by
        self.expires = expires
        self.erase = erase
        self.token = token
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
    /// For `resolve`: the subject the token stands for.
    public var subject: String?

    static func failure(_ message: String) -> ControlResponse {
        ControlResponse(ok: false, error: message, subject: nil)
    }
}

extension ControlResponse.Grant {
    init(_ g: ConsentGrant, now: Double) {
        self.init(subject: g.subject, scope: g.scope.description, reference: g.reference, recordedBy: g.recordedBy,
                  grantedAt: g.grantedAt, expiresAt: g.expiresAt, active: g.isActive(at: now))
    }
}
