import Foundation

/// The body of a webhook request: one alert as a versioned JSON document (see the README).
/// The same alert always gives the same bytes for the same recipient, so a retried delivery is
/// byte-identical and a receiver can de-duplicate on `id` (also sent as `webhook-id`).
public enum WebhookPayload {
    /// Bumped on any incompatible change of the body; additions of members do not bump it.
    public static let version = 1
    public static let type = "canary.alert"

    /// - Parameters:
    ///   - subject: the subject as this recipient is entitled to see it (its id or its pseudonymous token).
    ///   - emittedAt: when canaryd emitted the alert (epoch seconds).
    ///   - daemonVersion: canaryd's version.
    public static func encode(_ alert: Alert, subject: String, emittedAt: Double, daemonVersion: String) -> String {
        AlertJSON.encode(alert, subject: subject,
                         leading: [("type", AlertJSON.quote(type)), ("version", String(version))],
                         trailing: [("emitted_at", AlertJSON.quote(rfc3339(emittedAt))),
                                    ("canary_version", AlertJSON.quote(daemonVersion))])
    }

    /// UTC with milliseconds, e.g. `2026-03-28T02:00:00.125Z`.
    public static func rfc3339(_ t: Double) -> String {
        let millis = Int64((t * 1000).rounded(.down))
        let days = Int(millis.quotientAndRemainderFloor(86_400_000).quotient)
        let rest = Int(millis - Int64(days) * 86_400_000)
        let c = TimestampParser.civil(fromDays: days)
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):"
            + "\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))Z"
    }
}

extension Int64 {
    fileprivate func quotientAndRemainderFloor(_ d: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = self / d
        let r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}
