import CanaryCore
import Crypto
import Foundation

/// Alert ids as the daemon gives them out: HMAC-SHA256 with an installation key over the alert's
/// subject, rule, period and kind, so an id is the same whenever the same decision is made again
/// (after a restart or a crash: the idempotency key of the outbox and of webhook receivers), yet
/// nobody without the key can test a guessed subject id against an id seen in the journal.
///
/// The key is derived from the pseudonym key (domain-separated), so one secret is kept and rotated.
public struct AlertIdentity: Sendable {
    private let key: Data

    public init(pseudonymKey: Data) {
        let derived = HMAC<SHA256>.authenticationCode(for: Data("canary alert id v1".utf8), using: SymmetricKey(data: pseudonymKey))
        key = Data(derived)
    }

    /// 32 hex digits (128 bits of the MAC), the same shape as the unkeyed ids replay gives.
    public func id(subject: String, rule: String, period: String, kind: AlertKind) -> String {
        var message = Data()
        for part in [subject, rule, period, kind.rawValue] {
            message.append(contentsOf: part.utf8)
            message.append(0)
        }
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The alert with its keyed id.
    public func keyed(_ alert: Alert) -> Alert {
        var a = alert
        a.id = id(subject: alert.subject, rule: alert.rule, period: alert.period, kind: alert.kind)
        return a
    }
}
