import CanaryCore

/// An alert the engine decided, with the channels consent and configuration allowed at the moment
/// of emission (`journal`, `webhook:<name>`). It waits on the engine thread for the next snapshot
/// and is written to the outbox in the same transaction.
public struct PendingAlert: Sendable, Equatable {
    public var alert: Alert
    public var channels: [String]
    public var emittedAt: Double

    public init(alert: Alert, channels: [String], emittedAt: Double) {
        self.alert = alert
        self.channels = channels
        self.emittedAt = emittedAt
    }
}

/// Channel names as the outbox stores them.
public enum AlertChannel {
    public static let journal = "journal"
    public static let webhookPrefix = "webhook:"

    public static func webhook(_ name: String) -> String { webhookPrefix + name }

    /// The webhook a channel names, if it names one.
    public static func webhookName(_ channel: String) -> String? {
        channel.hasPrefix(webhookPrefix) ? String(channel.dropFirst(webhookPrefix.count)) : nil
    }

    /// The consent scope a channel needs.
    public static func scope(_ channel: String) -> ConsentScope {
        webhookName(channel).map { .alertWebhook($0) } ?? .alertJournal
    }
}
