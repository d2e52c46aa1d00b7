import CanaryCore
import Foundation

/// One request on the control socket (one JSON object on one line) and its answer (one JSON line).
public struct ControlRequest: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        case grant, revoke, list, show, resolve
        /// The alert outbox: deliveries by state, one alert in full, re-driving dead letters.
        case alertsList = "alerts-list", alertsShow = "alerts-show", alertsRetry = "alerts-retry"
        /// A subject's baselines, recent values and rule states (`canaryctl baseline`).
        case baseline
        /// The operator's metrics in Prometheus text format (`canaryctl metrics`).
        case metrics
        /// A subject's report data (`canaryctl report`): daily values, baselines, alerts.
        case report
        /// Read the configuration file again (`canaryctl reload`, the unit's `ExecReload=`).
        case reload
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
    /// For `baseline`: one feature (or metric) only.
    public var feature: String?

    public init(cmd: Command, subject: String? = nil, scopes: [String]? = nil, reference: String? = nil,
                by: String? = nil, expires: Double? = nil, erase: Bool? = nil, token: String? = nil,
                alert: String? = nil, channel: String? = nil, state: String? = nil, limit: Int? = nil, feature: String? = nil) {
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
        self.feature = feature
    }

    /// Reads one request line as the control socket receives it; nil when it is not a request. Never traps,
    /// whatever the peer sent (the fuzz target `fuzz-control` feeds it arbitrary bytes).
    public static func decode(line: String) -> ControlRequest? {
        try? JSONDecoder().decode(ControlRequest.self, from: Data(line.utf8))
    }
}
