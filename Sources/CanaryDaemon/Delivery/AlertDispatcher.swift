import CanaryCore
import Crypto
import Foundation
import Logging

/// Delivers the outbox: each queued alert to each channel it was emitted for, the journal at once,
/// webhooks signed and retried, one at a time per subject and channel so order holds, at most
/// `maxConcurrent` requests at a time. Consent is asked again just before each delivery.
/// Every outcome is written to the state database before the queue moves on, so a restart resumes
/// exactly the deliveries still owed.
public actor AlertDispatcher {
    /// Delivery counters for STATUS= and the tests.
    public struct Counters: Sendable, Equatable {
        public var delivered = 0
        public var retried = 0
        public var dead = 0
        /// Times the delivery loop woke (arrivals, finished attempts, backoffs due).
        public var wakeups = 0
    }

    private var queue = DeliveryQueue()
    private var targets: [String: WebhookTarget]
    private let store: StateStore
    private let local: AlertRouter
    private let sender: WebhookSender
    private let consent: ConsentService
    private let maxConcurrent: Int
    private let logger: Logger
    private let systemd: any SystemdAPI
    private let pseudonyms: Pseudonymizer
    private let journalByToken: Bool
    private let wakeUp: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    /// Requests in flight, by lane (one per lane at most).
    private var running: [DeliveryLane: Task<Void, Never>] = [:]
    private var counters = Counters()
    private let metrics: DaemonMetrics?
    /// Grouped webhooks: when each (webhook, subject) lane last had a notification delivered (its
    /// `group_interval` counts from there), from the delivery history at start.
    private var lastNotified: [DeliveryLane: Double] = [:]
    /// Grouped lanes whose notification is being retried: the alerts it carries (a retry sends the same
    /// notification, under the same id, whatever arrived meanwhile).
    private var retrying: [DeliveryLane: Set<String>] = [:]
    /// Grouped lanes whose last notification left something open (a reminder may be due).
    private var openLanes: Set<DeliveryLane> = []

    /// - Parameters:
    ///   - pseudonyms: subject tokens, for the journal when `journalByToken` and for webhooks whose `subject` is "token".
    public init(store: StateStore, local: AlertRouter, webhooks: [WebhookTarget], consent: ConsentService, maxConcurrent: Int,
                systemd: any SystemdAPI, logger: Logger, pseudonyms: Pseudonymizer, journalByToken: Bool,
                metrics: DaemonMetrics? = nil) throws {
        self.metrics = metrics
        self.store = store
        self.local = local
        self.sender = WebhookSender()
        self.consent = consent
        self.maxConcurrent = maxConcurrent
        self.systemd = systemd
        self.logger = logger
        self.pseudonyms = pseudonyms
        self.journalByToken = journalByToken
        targets = Dictionary(webhooks.map { ($0.settings.name, $0) }, uniquingKeysWith: { a, _ in a })
        (wakes, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        let groupedChannels = webhooks.filter(\.settings.grouped).map { AlertChannel.webhook($0.settings.name) }
        let last = try store.lastDelivered(channels: groupedChannels)
        lastNotified = last
        for lane in last.keys {
            guard let name = AlertChannel.webhookName(lane.channel), let w = webhooks.first(where: { $0.settings.name == name }),
                  w.settings.grouping.repeatEvery > 0 else { continue }
            if !NotificationPayload.openAlerts(try store.alerts(subject: lane.subject).filter(w.settings.takes)).isEmpty { openLanes.insert(lane) }
        }
        let targets = self.targets
        queue.add(try store.pendingDeliveries().map { Self.held($0, targets: targets, lastNotified: last) })
    }

    public var totals: Counters { counters }
    /// Deliveries owed (queued or in flight).
    public var backlog: Int { queue.count }
    /// When the oldest delivery owed was queued (epoch seconds); nil when none is owed.
    public var oldestOwed: Double? { queue.oldestQueuedAt }

    /// New deliveries, just committed with the state that decided them.
    public func add(_ items: [DeliveryItem]) {
        guard !items.isEmpty else { return }
        queue.add(items.map(held))
        wakeUp.yield()
    }

    /// An operator's retry: dead letters (all, one alert's, or one channel's) are queued again with a
    /// fresh attempt count and age, and matching deliveries waiting for a backoff are made due now.
    /// Returns how many dead letters came back and how many waiting deliveries were hurried.
    public func retry(alertID: String?, channel: String?) async throws -> (requeued: Int, expedited: Int) {
        let store = self.store
        let items = try await store.offload { try store.retryDead(alertID: alertID, channel: channel, at: Date().timeIntervalSince1970) }
        let expedited = queue.expedite(alertID: alertID, channel: channel)
        queue.add(items)
        wakeUp.yield()
        return (items.count, expedited)
    }

    /// Erasure: the subject's deliveries are gone from the database; forget them here too, and remove
    /// the subject's lines from the alert log.
    public func forget(subject: String) {
        local.forget(names: [journalName(subject), subject])
        queue.remove(subject: subject)
        lastNotified = lastNotified.filter { $0.key.subject != subject }
        retrying = retrying.filter { $0.key.subject != subject }
        openLanes = openLanes.filter { $0.subject != subject }
        for (lane, task) in running where lane.subject == subject {
            task.cancel()
            running[lane] = nil
        }
    }

    /// A reload: webhooks added, changed or removed. Deliveries to a removed webhook are dead-lettered when due.
    public func reconfigure(_ webhooks: [WebhookTarget]) {
        targets = Dictionary(webhooks.map { ($0.settings.name, $0) }, uniquingKeysWith: { a, _ in a })
        wakeUp.yield()
    }

    /// Delivers until the task is cancelled. Wakes when deliveries arrive or finish, and otherwise sleeps
    /// until the next one waiting for a backoff is due (no polling: an idle daemon does not wake).
    public func run() async {
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        wakeUp.yield()
        for await _ in wakes {
            if Task.isCancelled { break }
            counters.wakeups += 1
            await pump()
            remind()
            timer?.cancel()
            timer = nil
            // Due already but not started: held by the concurrency limit, and a finishing attempt wakes us.
            let now = Date().timeIntervalSince1970
            if let next = [queue.nextDue(), nextReminder()].compactMap({ $0 }).min(), next > now {
                let delay = min(next - now, 86_400)
                timer = Task { [wakeUp] in
                    try? await Task.sleep(for: .seconds(delay))
                    if !Task.isCancelled { wakeUp.yield() }
                }
            }
        }
    }

    /// Stopping, first step: `run` returns once the round it is in has finished (it starts no other).
    public func endRounds() {
        wakeUp.finish()
    }

    /// Stopping: no new attempts; requests in flight get until `deadline`; the journal gets what is due.
    /// Whatever is left stays in the outbox for the next start.
    public func stop(deadline: Date) async {
        wakeUp.finish()
        await pump(journalOnly: true)
        for task in running.values {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { task.cancel(); continue }
            let waiter = Task { try? await Task.sleep(for: .seconds(remaining)); task.cancel() }
            await task.value
            waiter.cancel()
        }
        await sender.shutdown()
        // Every delivery result recorded before this returns.
        _ = try? await store.offload {}
    }

    /// Starts what is due. The alerts' bodies are read on the store's queue (the actor may take other
    /// calls meanwhile: an erasure's consent withdrawal, taken first in memory, then stops any of them in
    /// `refusal`, and a forgotten delivery's result is never recorded).
    private func pump(journalOnly: Bool = false) async {
        while true {
            let due = queue.due(now: Date().timeIntervalSince1970, limit: maxConcurrent) { $0 != AlertChannel.journal }
            if due.isEmpty { return }
            let bodies: [String: StateStore.StoredAlert]
            let store = self.store, ids = due.map(\.alertID)
            do {
                bodies = try await store.offload { try store.alerts(ids) }
            } catch {
                logger.error("cannot read queued alerts from the state database", metadata: ["reason": "\(error)"])
                let now = Date().timeIntervalSince1970
                for item in due { queue.finish(item, .retry(at: now + 5, reason: "state database unreadable")) }
                return
            }
            let now = Date().timeIntervalSince1970
            var results: [StateStore.AttemptResult] = []
            for var item in due {
                let channel = item.channel
                guard let stored = bodies[item.alertID] else {
                    // Erased meanwhile (then the record changes nothing), or a body this version cannot read.
                    let outcome = DeliveryOutcome.dead(reason: "the stored alert is missing or unreadable")
                    queue.finish(item, outcome)
                    results.append(.init(item: item, outcome: outcome, status: nil))
                    continue
                }
                let alert = stored.alert
                if let refusal = refusal(item, now: now) {
                    queue.finish(item, refusal)
                    results.append(.init(item: item, outcome: refusal, status: nil))
                    deadLettered(item, refusal, status: nil)
                    continue
                }
                if channel == AlertChannel.journal {
                    item.attempts += 1
                    local.deliver(alert, subject: journalName(alert.subject))
                    queue.finish(item, .delivered)
                    results.append(.init(item: item, outcome: .delivered, status: nil))
                    counters.delivered += 1
                } else if journalOnly {
                    queue.finish(item, .retry(at: .infinity, reason: "stopping"))  // stays owed in the database
                } else if let name = AlertChannel.webhookName(channel), let target = targets[name], target.settings.grouped {
                    let lane = queue.items(in: item.lane)
                    notify(retrying[item.lane].map { ids in lane.filter { ids.contains($0.alertID) } } ?? lane, target: target)
                } else if let name = AlertChannel.webhookName(channel), let target = targets[name] {
                    let subject = target.settings.subject == "token" ? pseudonyms.token(for: alert.subject) : alert.subject
                    let body = WebhookPayload.encode(alert, subject: subject, emittedAt: stored.emittedAt,
                                                     daemonVersion: CanaryCoreVersion.string)
                    let sender = self.sender
                    let attempting = item
                    running[item.lane] = Task {
                        let attempt = await sender.post(body, id: alert.id, to: target, timestamp: Int(Date().timeIntervalSince1970))
                        self.attempted(attempting, alert, attempt, policy: target.settings.policy)
                    }
                } else {
                    let outcome = DeliveryOutcome.dead(reason: "unknown channel \(channel)")
                    queue.finish(item, outcome)
                    results.append(.init(item: item, outcome: outcome, status: nil))
                }
            }
            record(results)
        }
    }

    /// Why a due delivery must not be attempted: consent withdrawn, webhook gone, or too old.
    private func refusal(_ item: DeliveryItem, now: Double) -> DeliveryOutcome? {
        let channel = item.channel
        guard consent.allows(item.subject, .monitor, at: now) else {
            return .dead(reason: "consent for monitor withdrawn before delivery; not sent")
        }
        guard consent.allows(item.subject, AlertChannel.scope(channel), at: now) else {
            return .dead(reason: "consent for \(AlertChannel.scope(channel)) withdrawn before delivery; not sent")
        }
        guard let name = AlertChannel.webhookName(channel) else { return nil }
        guard let target = targets[name] else {
            return .dead(reason: "webhook \(name) is no longer configured")
        }
        if target.settings.policy.isStale(queuedAt: item.queuedAt, now: now) {
            return .dead(reason: "older than max_age (\(Int(target.settings.policy.maxAge)) s) before it could be attempted")
        }
        return nil
    }

    private func attempted(_ item: DeliveryItem, _ alert: Alert, _ attempt: DeliveryAttempt, policy: DeliveryPolicy) {
        var item = item
        item.attempts += 1
        let now = Date().timeIntervalSince1970
        let outcome = policy.decide(attempt, attempts: item.attempts, queuedAt: item.queuedAt, now: now, jitter: Double.random(in: 0..<1))
        var status: Int?
        if case .status(let code, _) = attempt { status = code }
        // Forgotten by an erasure while the request ran: nothing of it is kept or said.
        guard queue.finish(item, outcome) else { return }
        running[item.lane] = nil
        record([.init(item: item, outcome: outcome, status: status)])
        switch outcome {
        case .delivered:
            counters.delivered += 1
        case .retry(let at, let reason):
            counters.retried += 1
            warnRetry(item, "webhook delivery failed; will retry", reason: reason, ["retry_in_s": "\(Int((at - now).rounded(.up)))"])
        case .dead:
            deadLettered(item, outcome, status: status)
        }
        wakeUp.yield()
    }

    // MARK: Grouped notifications

    /// A delivery to a grouped webhook waits `group_wait` after it was queued, and `group_interval` after
    /// the lane's last notification.
    private func held(_ item: DeliveryItem) -> DeliveryItem {
        Self.held(item, targets: targets, lastNotified: lastNotified)
    }

    private static func held(_ item: DeliveryItem, targets: [String: WebhookTarget], lastNotified: [DeliveryLane: Double]) -> DeliveryItem {
        guard let name = AlertChannel.webhookName(item.channel), let target = targets[name], target.settings.grouped else { return item }
        let g = target.settings.grouping
        var held = item
        held.notBefore = max(item.notBefore, item.queuedAt + g.wait, lastNotified[item.lane].map { $0 + g.interval } ?? 0)
        return held
    }

    /// The id of the notification that carries these deliveries: the same deliveries, the same id (a
    /// notification re-sent after a crash is recognisable by its receiver).
    static func notificationID(_ batch: [DeliveryItem]) -> String {
        let text = ([batch.first?.channel ?? ""] + batch.map(\.alertID).sorted()).joined(separator: "\n")
        return "n-" + SHA256.hash(data: Data(text.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Sends one notification for the lane's queued deliveries (`batch`, the head in flight first): what
    /// is new and resolved among them, and what is open for the person after them.
    private func notify(_ batch: [DeliveryItem], target: WebhookTarget) {
        guard let head = batch.first else { return }
        let store = self.store, sender = self.sender, settings = target.settings
        let subject = settings.subject == "token" ? pseudonyms.token(for: head.subject) : head.subject
        running[head.lane] = Task {
            let loaded = try? await store.offload { (try store.alerts(batch.map(\.alertID)), try store.alerts(subject: head.subject)) }
            guard let (bodies, history) = loaded else {
                self.attempted(batch, .failed("the state database could not be read"), policy: settings.policy, interval: settings.grouping.interval)
                return
            }
            let alerts = batch.compactMap { bodies[$0.alertID]?.alert }
            let open = NotificationPayload.openAlerts(history.filter(settings.takes))
            let now = Date().timeIntervalSince1970
            let id = Self.notificationID(batch)
            let body = NotificationPayload.encode(id: id, subject: subject, batch: alerts, open: open, sentAt: now,
                                                  daemonVersion: CanaryCoreVersion.string)
            let attempt = await sender.post(body, id: id, to: target, timestamp: Int(now))
            self.attempted(batch, attempt, policy: settings.policy, interval: settings.grouping.interval, open: !open.isEmpty)
        }
    }

    /// When the next reminder is due: a grouped lane with something open, nothing queued, and
    /// `repeat_interval` passed since its last message.
    private func nextReminder() -> Double? {
        openLanes.compactMap { lane -> Double? in
            guard let name = AlertChannel.webhookName(lane.channel), let t = targets[name], t.settings.grouped,
                  t.settings.grouping.repeatEvery > 0, let last = lastNotified[lane] else { return nil }
            return last + t.settings.grouping.repeatEvery
        }.min()
    }

    /// Sends the reminders that are due: what is still open, nothing new. Its id follows from the lane
    /// and its last message, so a reminder sent again after a restart is recognisable.
    private func remind() {
        let now = Date().timeIntervalSince1970
        for lane in openLanes where running[lane] == nil && queue.items(in: lane).isEmpty {
            guard let name = AlertChannel.webhookName(lane.channel), let target = targets[name], target.settings.grouped,
                  target.settings.grouping.repeatEvery > 0, let last = lastNotified[lane], now >= last + target.settings.grouping.repeatEvery,
                  consent.allows(lane.subject, .monitor, at: now), consent.allows(lane.subject, AlertChannel.scope(lane.channel), at: now)
            else { continue }
            let store = self.store, sender = self.sender, settings = target.settings
            let subject = settings.subject == "token" ? pseudonyms.token(for: lane.subject) : lane.subject
            let id = "r-" + SHA256.hash(data: Data("\(lane.channel)\n\(lane.subject)\n\(last)".utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
            running[lane] = Task {
                let history = (try? await store.offload { try store.alerts(subject: lane.subject) }) ?? []
                let open = NotificationPayload.openAlerts(history.filter(settings.takes))
                var delivered = false
                if !open.isEmpty {
                    let sentAt = Date().timeIntervalSince1970
                    let body = NotificationPayload.encode(id: id, subject: subject, batch: [], open: open, sentAt: sentAt,
                                                          daemonVersion: CanaryCoreVersion.string)
                    if case .status(let code, _) = await sender.post(body, id: id, to: target, timestamp: Int(sentAt)), (200...299).contains(code) {
                        delivered = true
                    }
                }
                self.reminded(lane, open: !open.isEmpty, delivered: delivered, retryAfter: settings.policy.initialBackoff)
            }
        }
    }

    private func reminded(_ lane: DeliveryLane, open: Bool, delivered: Bool, retryAfter: Double) {
        running[lane] = nil
        let now = Date().timeIntervalSince1970
        if !open {
            openLanes.remove(lane)
        } else if delivered {
            lastNotified[lane] = now
        } else if let name = AlertChannel.webhookName(lane.channel), let t = targets[name] {
            // Not delivered: try again after the webhook's first backoff.
            lastNotified[lane] = now - t.settings.grouping.repeatEvery + max(1, retryAfter)
        }
        wakeUp.yield()
    }

    private func attempted(_ batch: [DeliveryItem], _ attempt: DeliveryAttempt, policy: DeliveryPolicy, interval: Double, open: Bool = false) {
        let batch = batch.map { item -> DeliveryItem in
            var item = item
            item.attempts += 1
            return item
        }
        guard let head = batch.first else { return }
        let now = Date().timeIntervalSince1970
        let outcome = policy.decide(attempt, attempts: head.attempts, queuedAt: head.queuedAt, now: now, jitter: Double.random(in: 0..<1))
        var status: Int?
        if case .status(let code, _) = attempt { status = code }
        guard queue.finish(batch: batch, outcome) else { return }
        running[head.lane] = nil
        if case .retry = outcome { retrying[head.lane] = Set(batch.map(\.alertID)) } else { retrying[head.lane] = nil }
        record(batch.map { .init(item: $0, outcome: outcome, status: status) })
        switch outcome {
        case .delivered:
            counters.delivered += batch.count
            lastNotified[head.lane] = now
            queue.hold(head.lane, until: now + interval)
            if open { openLanes.insert(head.lane) } else { openLanes.remove(head.lane) }
        case .retry(_, let reason):
            counters.retried += 1
            warnRetry(head, "webhook notification failed; will retry", reason: reason, ["alerts": "\(batch.count)"])
        case .dead:
            for item in batch { deadLettered(item, outcome, status: status) }
        }
        wakeUp.yield()
    }

    private func journalName(_ subject: String) -> String {
        journalByToken ? pseudonyms.token(for: subject) : subject
    }

    /// Records results on the store's queue, in order, without waiting for the disk.
    private func record(_ results: [StateStore.AttemptResult]) {
        guard !results.isEmpty else { return }
        if let metrics {
            for r in results { metrics.delivered(channel: r.item.channel, outcome: r.outcome.label) }
        }
        let store = self.store, logger = self.logger, now = Date().timeIntervalSince1970
        store.enqueueWrite {
            do {
                try store.record(results, at: now)
            } catch {
                // The queue moved on in memory; the database still holds them as owed, so a restart sends them again.
                logger.error("cannot record delivery results", metadata: ["reason": "\(error)", "results": "\(results.count)"])
            }
        }
    }

    /// A journal error naming the webhook and the status, with the alert id to re-drive it by.
    /// A failed attempt that will be retried, logged on the first attempt and every tenth (no subject, no body).
    private func warnRetry(_ item: DeliveryItem, _ message: Logger.Message, reason: String, _ extra: Logger.Metadata) {
        guard item.attempts == 1 || item.attempts % 10 == 0 else { return }
        var metadata: Logger.Metadata = ["webhook": "\(AlertChannel.webhookName(item.channel) ?? item.channel)",
                                         "reason": "\(reason)", "attempts": "\(item.attempts)"]
        metadata.merge(extra) { $1 }
        logger.warning(message, metadata: metadata)
    }

    private func deadLettered(_ item: DeliveryItem, _ outcome: DeliveryOutcome, status: Int?) {
        guard case .dead(let reason) = outcome else { return }
        counters.dead += 1
        let channel = item.channel
        let name = AlertChannel.webhookName(channel) ?? channel
        _ = systemd.journalSend([
            ("MESSAGE", "alert \(item.alertID) for \(name) moved to dead letters: \(reason)"),
            ("PRIORITY", "3"),
            ("MESSAGE_ID", MessageID.deliveryDead),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_ALERT_ID", item.alertID),
            ("CANARY_CHANNEL", channel),
            ("CANARY_WEBHOOK", AlertChannel.webhookName(channel) ?? ""),
            ("CANARY_HTTP_STATUS", status.map(String.init) ?? ""),
            ("CANARY_SUBJECT", journalName(item.subject)),
            ("CANARY_ATTEMPTS", String(item.attempts)),
        ])
        // The alert id stays in the journal entry above: it is derived from the subject id.
        logger.error("alert delivery given up", metadata: [
            "channel": "\(channel)", "status": "\(status.map(String.init) ?? "none")", "reason": "\(reason)",
        ])
    }
}
