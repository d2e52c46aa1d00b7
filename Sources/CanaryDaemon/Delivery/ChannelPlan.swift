import CanaryCore
import Foundation

/// Where an alert may go at the moment of emission (only while the subject's `monitor` grant is active):
/// the journal when the subject consented to it,
/// and each configured webhook that takes the alert's kind and severity and that the subject
/// consented to by name. Follows reloads.
final class ChannelPlan: @unchecked Sendable {
    private let lock = NSLock()
    private var webhooks: [WebhookSettings]
    private let consent: ConsentService

    init(webhooks: [WebhookSettings], consent: ConsentService) {
        self.webhooks = webhooks
        self.consent = consent
    }

    func update(_ webhooks: [WebhookSettings]) {
        lock.withLock { self.webhooks = webhooks }
    }

    func channels(for alert: Alert, at now: Double) -> [String] {
        // Without monitor consent nothing about the subject is said, whatever alert scopes remain.
        guard consent.allows(alert.subject, .monitor, at: now) else { return [] }
        var out: [String] = []
        if consent.allows(alert.subject, .alertJournal, at: now) { out.append(AlertChannel.journal) }
        for w in lock.withLock({ webhooks }) where w.takes(alert) && consent.allows(alert.subject, .alertWebhook(w.name), at: now) {
            out.append(AlertChannel.webhook(w.name))
        }
        return out
    }
}
