import Foundation

/// How a webhook with `notify = "grouped"` groups a person's alerts (Alertmanager's idea, for people):
/// the first notification waits `wait` after the first alert, so what is decided together goes
/// together; while the episode stays open an update goes at most every `interval`; with nothing new
/// and something still open, a reminder after `repeatEvery` (0: none). In seconds.
public struct GroupTiming: Sendable, Equatable {
    public var wait: Double = 30
    public var interval: Double = 86_400
    public var repeatEvery: Double = 0

    public init(wait: Double = 30, interval: Double = 86_400, repeatEvery: Double = 0) {
        self.wait = wait
        self.interval = interval
        self.repeatEvery = repeatEvery
    }
}

/// The body of a grouped notification (`type: "canary.notification"`, version 1): one message per
/// person listing what is deviating now, what is new and what resolved since the last message, with
/// their one-line explanations; `status` is `resolved` ("all back to usual") once nothing is open.
public enum NotificationPayload {
    public static let version = 1
    public static let type = "canary.notification"

    /// The alerts still open after `history` (a person's alerts and resolved events, oldest first): per
    /// rule, the last event, when it is not a `resolved`.
    public static func openAlerts(_ history: [Alert]) -> [Alert] {
        var last: [String: Alert] = [:]
        var order: [String] = []
        for a in history {
            if last[a.rule] == nil { order.append(a.rule) }
            last[a.rule] = a
        }
        return order.compactMap { last[$0] }.filter { $0.kind != .resolved }
    }

    struct Entry: Encodable {
        let id: String
        let kind: String
        let severity: String
        let rule: String
        let features: [String]
        let period: String
        let explanation: String

        init(_ a: Alert) {
            id = a.id
            kind = a.kind.rawValue
            severity = a.severity.rawValue
            rule = a.rule
            features = a.features
            period = a.period
            explanation = a.explanation
        }
    }

    struct Body: Encodable {
        let type = NotificationPayload.type
        let version = NotificationPayload.version
        let id: String
        let subject: String
        let status: String
        let reminder: Bool
        let summary: String
        let deviating: [Entry]
        let new: [Entry]
        let resolved: [Entry]
        let alerts: [String]
        let sent_at: String
        let canary_version: String
    }

    /// - Parameters:
    ///   - batch: the alerts and resolved events this message reports (none for a reminder).
    ///   - open: what is deviating after them (`openAlerts`).
    public static func encode(id: String, subject: String, batch: [Alert], open: [Alert], sentAt: Double, daemonVersion: String) -> String {
        let new = batch.filter { $0.kind != .resolved }
        let resolved = batch.filter { $0.kind == .resolved }
        let summary: String
        if open.isEmpty {
            summary = "all back to usual"
        } else if batch.isEmpty {
            summary = "still deviating, nothing new: \(open.count) open"
        } else {
            summary = "\(open.count) deviating, \(new.count) new, \(resolved.count) resolved"
        }
        let body = Body(id: id, subject: subject, status: open.isEmpty ? "resolved" : "firing", reminder: batch.isEmpty, summary: summary,
                        deviating: open.map(Entry.init), new: new.map(Entry.init), resolved: resolved.map(Entry.init),
                        alerts: batch.map(\.id), sent_at: WebhookPayload.rfc3339(sentAt), canary_version: daemonVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(body)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
