import Testing
@testable import CanaryCore

@Suite struct DeliveryPolicyTests {
    let policy = DeliveryPolicy(initialBackoff: 1, maxBackoff: 60, maxAge: 3600)

    @Test func twoHundredsDeliverAndTheRetryableStatusesRetry() {
        for code in [200, 201, 202, 204, 299] {
            #expect(policy.decide(.status(code, retryAfter: nil), attempts: 1, queuedAt: 0, now: 10, jitter: 0.5) == .delivered)
        }
        for code in [408, 429, 500, 502, 503, 504, 599] {
            guard case .retry(_, let reason) = policy.decide(.status(code, retryAfter: nil), attempts: 1, queuedAt: 0, now: 10, jitter: 0.5) else {
                Issue.record("\(code) should retry")
                continue
            }
            #expect(reason == "HTTP \(code)")
        }
        guard case .retry = policy.decide(.failed("connection refused"), attempts: 3, queuedAt: 0, now: 10, jitter: 0) else {
            Issue.record("network errors retry")
            return
        }
    }

    @Test func otherStatusesArePermanent() {
        for code in [301, 400, 401, 403, 404, 410, 413, 422] {
            guard case .dead(let reason) = policy.decide(.status(code, retryAfter: nil), attempts: 1, queuedAt: 0, now: 10, jitter: 0.5) else {
                Issue.record("\(code) should dead-letter")
                continue
            }
            #expect(reason.hasPrefix("HTTP \(code)"))
        }
    }

    @Test func backoffDoublesWithJitterAndStopsAtTheCap() {
        // Half fixed, half jitter: attempt n waits between c/2 and c, c = min(cap, initial * 2^(n-1)).
        #expect(policy.backoff(afterAttempts: 1, jitter: 0) == 0.5)
        #expect(policy.backoff(afterAttempts: 1, jitter: 1) == 1)
        #expect(policy.backoff(afterAttempts: 4, jitter: 0) == 4)
        #expect(policy.backoff(afterAttempts: 4, jitter: 0.5) == 6)
        #expect(policy.backoff(afterAttempts: 7, jitter: 1) == 60, "64 is capped at 60")
        #expect(policy.backoff(afterAttempts: 500, jitter: 0) == 30)
        guard case .retry(let at, _) = policy.decide(.status(503, retryAfter: nil), attempts: 2, queuedAt: 0, now: 100, jitter: 1) else {
            Issue.record("503 retries")
            return
        }
        #expect(at == 102)
    }

    @Test func retryAfterIsHonouredUpToTheBackoffCap() {
        guard case .retry(let at, _) = policy.decide(.status(429, retryAfter: 40), attempts: 1, queuedAt: 0, now: 100, jitter: 0) else {
            Issue.record("429 retries")
            return
        }
        #expect(at == 140, "Retry-After 40 s, above the 0.5 s backoff, below the 60 s cap")
        guard case .retry(let capped, _) = policy.decide(.status(429, retryAfter: 120), attempts: 1, queuedAt: 0, now: 100, jitter: 0) else {
            Issue.record("429 retries")
            return
        }
        #expect(capped == 160, "Retry-After 120 s is clamped to backoff_max 60 s")
    }

    /// Whatever a receiver's `Retry-After` says, the next attempt is a finite time between now and now + backoff_max.
    @Test(arguments: [
        "Sun, 06 Nov 1994 9999999999999999:00:00 GMT",   // the crash of issue 9: an overflowing hour
        "Sun, 06 Nov 9999999999999999 08:49:37 GMT",     // an overflowing year
        "Sun, 99999999999999999999 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov -9223372036854775808 08:49:37 GMT",
        "Sun, 06 Nov 1994 -9223372036854775808:-1:-1 GMT",
        "Sun, 06 Nov 1994 99:99:99 GMT", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun,  6 Nov 1994 08:49:37 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",                 // far future: clamped
        "Thu, 01 Jan 1970 00:00:00 GMT", "Mon, 01 Jan 0000 00:00:00 GMT",  // the past: now
        "99999999999999999999999999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616",
        "-1", "-9223372036854775808", "+5", "1e9", "1.5", "0x10", "inf", "nan", "NaN", "Infinity", "-0",
        "", " ", "\t", "\u{0}", "12\u{0}", "١٢٠", "１２０", "120 s", "1 2", "soon", "\r\n120",
        "  \t 3 \t ", "overlong digits", "overlong spaces", "overlong dates",
    ])
    func hostileRetryAfterValuesAreBoundedAndNeverTrap(_ argument: String) {
        // Overlong values are made here, so the test's name stays readable.
        let header = switch argument {
        case "overlong digits": String(repeating: "9", count: 100_000)
        case "overlong spaces": String(repeating: " ", count: 100_000) + "5"
        case "overlong dates": String(repeating: "Sun, 06 Nov 1994 08:49:37 GMT", count: 1000)
        default: argument
        }
        let now = 1_767_225_600.0
        let seconds = RetryAfter.seconds(header, now: now)
        if let seconds {
            #expect(seconds.isFinite && seconds >= 0 && seconds <= 1e9, "\(seconds)")
        }
        for code in [429, 503] {
            guard case .retry(let at, _) = policy.decide(.status(code, retryAfter: seconds), attempts: 1, queuedAt: now, now: now, jitter: 0.5) else {
                Issue.record("\(code) with Retry-After \(header.prefix(60)) should retry")
                continue
            }
            #expect(at.isFinite && at >= now && at <= now + policy.maxBackoff, "\(header.prefix(60)): next attempt at now + \(at - now) s")
        }
    }

    @Test func retryAfterClampsFarFutureDatesAndReadsPastDatesAsNow() {
        let now = 1_767_225_600.0  // 2026-01-01
        #expect(RetryAfter.seconds("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == 1e9, "saturated at RetryAfter.maxSeconds")
        #expect(RetryAfter.seconds("Thu, 01 Jan 1970 00:00:00 GMT", now: now) == 0)
        #expect(RetryAfter.seconds("Thu, 01 Jan 2026 00:00:30 GMT", now: now) == 30)
        #expect(RetryAfter.seconds("99999999999999999999999", now: now) == 1e9)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 9999999999999999:00:00 GMT", now: now) == nil, "unreadable: the normal backoff applies")
        guard case .retry(let at, _) = policy.decide(.status(503, retryAfter: RetryAfter.seconds("Fri, 31 Dec 9999 23:59:59 GMT", now: now)),
                                                     attempts: 1, queuedAt: now, now: now, jitter: 0) else {
            Issue.record("503 retries")
            return
        }
        #expect(at == now + 60, "clamped to backoff_max")
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, -5, 0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude])
    func aNonFiniteOrNegativeRetryAfterFallsBackToTheBackoff(_ value: Double) {
        guard case .retry(let at, _) = policy.decide(.status(503, retryAfter: value), attempts: 1, queuedAt: 0, now: 100, jitter: 0) else {
            Issue.record("503 retries")
            return
        }
        #expect(at.isFinite && at >= 100 && at <= 160, "\(value): \(at)")
    }

    @Test func anAlertOlderThanMaxAgeIsDeadLettered() {
        guard case .dead(let reason) = policy.decide(.status(500, retryAfter: nil), attempts: 9, queuedAt: 0, now: 3599.8, jitter: 0) else {
            Issue.record("past max_age")
            return
        }
        #expect(reason.contains("max_age 3600 s"))
        #expect(reason.contains("HTTP 500"))
        #expect(policy.isStale(queuedAt: 0, now: 3601))
        #expect(!policy.isStale(queuedAt: 0, now: 3599))
    }

    @Test func retryAfterReadsSecondsAndHTTPDates() {
        #expect(RetryAfter.seconds("120", now: 0) == 120)
        #expect(RetryAfter.seconds(" 0 ", now: 0) == 0)
        #expect(RetryAfter.seconds(nil, now: 0) == nil)
        #expect(RetryAfter.seconds("soon", now: 0) == nil)
        #expect(RetryAfter.seconds("-5", now: 0) == nil)
        // RFC 9110's example date: 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_707) == 70)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_800) == 0, "a date in the past means now")
    }
}

@Suite struct DeliveryQueueTests {
    func item(_ seq: Int64, _ subject: String, channel: String = "webhook:clinic", notBefore: Double = 0) -> DeliveryItem {
        DeliveryItem(sequence: seq, alertID: "a\(seq)", channel: channel, subject: subject, notBefore: notBefore, queuedAt: 0)
    }

    @Test func oneAttemptPerLaneInEmissionOrder() {
        var q = DeliveryQueue()
        q.add([item(3, "ana"), item(1, "ana"), item(2, "ben"), item(4, "ben"), item(5, "ana", channel: "journal")])
        let first = q.due(now: 0, limit: 10)
        #expect(first.map(\.sequence) == [1, 2, 5], "the head of each lane, oldest first")
        #expect(q.due(now: 0, limit: 10).isEmpty, "lanes in flight wait")
        q.finish(first[0], .delivered)
        #expect(q.due(now: 0, limit: 10).map(\.sequence) == [3])
        #expect(q.count == 4)
    }

    @Test func aRetryKeepsItsLaneBehindIt() {
        var q = DeliveryQueue()
        q.add([item(1, "ana"), item(2, "ana")])
        var head = q.due(now: 0, limit: 1)[0]
        head.attempts = 1
        q.finish(head, .retry(at: 50, reason: "HTTP 500"))
        #expect(q.due(now: 10, limit: 5).isEmpty, "alert 2 does not overtake alert 1")
        #expect(q.nextDue() == 50)
        let again = q.due(now: 50, limit: 5)
        #expect(again.map(\.sequence) == [1])
        #expect(again[0].attempts == 1)
        q.finish(again[0], .dead(reason: "HTTP 410"))
        #expect(q.due(now: 50, limit: 5).map(\.sequence) == [2], "a dead letter frees its lane")
    }

    @Test func theLimitBoundsAttemptsInFlight() {
        var q = DeliveryQueue()
        q.add((1...10).map { item(Int64($0), "s\($0)") })
        let a = q.due(now: 0, limit: 4)
        #expect(a.count == 4)
        #expect(q.due(now: 0, limit: 4).isEmpty)
        q.finish(a[0], .delivered)
        #expect(q.due(now: 0, limit: 4).count == 1)
        #expect(q.inFlightCount == 4)
    }

    @Test func onlyLimitedChannelsCountAgainstTheLimit() {
        var q = DeliveryQueue()
        q.add([item(1, "a"), item(2, "b"), item(3, "c", channel: "journal"), item(4, "d", channel: "journal")])
        let due = q.due(now: 0, limit: 1) { $0 != "journal" }
        #expect(due.map(\.sequence) == [1, 3, 4], "one webhook attempt; the journal is never held back by slow webhooks")
        #expect(q.limitedInFlightCount == 1)
    }

    @Test func anAttemptFinishingAfterAnErasureChangesNothing() {
        var q = DeliveryQueue()
        q.add([item(1, "ana")])
        let head = q.due(now: 0, limit: 1)[0]
        q.remove(subject: "ana")
        q.add([item(2, "ana")])  // consent granted again, a new alert
        let finished = q.finish(head, .dead(reason: "HTTP 410"))
        #expect(!finished, "the forgotten attempt is not in flight any more")
        #expect(q.due(now: 0, limit: 1).map(\.sequence) == [2], "and it does not free or block the new one")
        let delivered = q.finish(item(2, "ana"), .delivered)
        #expect(delivered)
    }

    @Test func duplicatesAreIgnoredAndErasureForgets() {
        var q = DeliveryQueue()
        q.add([item(1, "ana"), item(1, "ana"), item(2, "ben")])
        #expect(q.count == 2)
        #expect(q.remove(subject: "ana") == 1)
        #expect(q.all.map(\.subject) == ["ben"])
    }

    @Test func expediteMakesWaitingRetriesDue() {
        var q = DeliveryQueue()
        q.add([item(1, "ana", notBefore: 500), item(2, "ben", notBefore: 500)])
        #expect(q.due(now: 0, limit: 5).isEmpty)
        #expect(q.expedite(alertID: "a1", channel: nil) == 1)
        let head = q.due(now: 0, limit: 5)
        #expect(head.map(\.sequence) == [1])
        // Hurried again while its attempt runs: the retry that attempt asks for is due at once.
        q.expedite(alertID: "a1", channel: nil)
        q.finish(head[0], .retry(at: 900, reason: "HTTP 503"))
        #expect(q.due(now: 0, limit: 5).map(\.sequence) == [1])
    }
}

@Suite struct WebhookPayloadTests {
    @Test func theBodyIsVersionedStableAndNamesTheSubjectAsGiven() {
        let alert = Alert(kind: .deviation, severity: .warning, subject: "eli", rule: "steps.threshold", features: ["steps"],
                          value: 2908, baseline: 7763, scale: 1070.5, z: -4.5, direction: .low, period: "2026-03-28",
                          periodStart: 1_774_652_400, explanation: "steps 2908, usual 7763 ± 1070 (z -4.5), 3 of the last 4 days")
        let body = WebhookPayload.encode(alert, subject: "ps-0123", emittedAt: 1_774_742_400.125, daemonVersion: "1.2.3")
        #expect(body.hasPrefix("{\"type\":\"canary.alert\",\"version\":1,\"id\":\"\(alert.id)\",\"kind\":\"deviation\""))
        #expect(body.contains("\"subject\":\"ps-0123\""))
        #expect(!body.contains("eli\""), "the raw id stays out when a token is given")
        #expect(body.hasSuffix(",\"emitted_at\":\"2026-03-29T00:00:00.125Z\",\"canary_version\":\"1.2.3\"}"))
        #expect(body == WebhookPayload.encode(alert, subject: "ps-0123", emittedAt: 1_774_742_400.125, daemonVersion: "1.2.3"))
    }

    @Test func rfc3339BeforeAndAfterTheEpoch() {
        #expect(WebhookPayload.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(WebhookPayload.rfc3339(951_782_400) == "2000-02-29T00:00:00.000Z")
        #expect(WebhookPayload.rfc3339(-0.5) == "1969-12-31T23:59:59.500Z")
    }
}

/// Grouped notifications: what is open after a person's alerts, and a lane delivered as one.
@Suite("Grouped notifications")
struct GroupedNotificationCoreTests {
    static func alert(_ id: String, _ kind: AlertKind, rule: String) -> Alert {
        var a = Alert(kind: kind, severity: kind == .resolved ? .info : .warning, subject: "p", rule: rule,
                      features: [String(rule.split(separator: ".")[0])], period: "2026-03-28", periodStart: 0, explanation: "\(id) \(kind.rawValue)")
        a.id = id
        return a
    }

    @Test func openAlertsAreEachRulesLastEventWhenItIsNotResolved() {
        let history = [Self.alert("a", .deviation, rule: "sleep_duration.threshold"), Self.alert("b", .deviation, rule: "steps.threshold"),
                       Self.alert("c", .resolved, rule: "sleep_duration.threshold"), Self.alert("d", .composite, rule: "composite.wellbeing")]
        #expect(NotificationPayload.openAlerts(history).map(\.id) == ["b", "d"])
        #expect(NotificationPayload.openAlerts(history + [Self.alert("e", .resolved, rule: "steps.threshold"),
                                                          Self.alert("f", .resolved, rule: "composite.wellbeing")]).isEmpty)
        let body = NotificationPayload.encode(id: "n-1", subject: "ps-x", batch: [history[2]], open: [], sentAt: 0, daemonVersion: "t")
        #expect(body.contains(#""status":"resolved""#) && body.contains(#""summary":"all back to usual""#) && body.contains(#""alerts":["c"]"#))
        #expect(body.contains(#""type":"canary.notification""#) && body.contains(#""version":1"#))
    }

    @Test func aLaneDeliveredAsOneNotificationLeavesTheQueueWhole() {
        var queue = DeliveryQueue()
        let items = (0..<3).map { DeliveryItem(sequence: Int64($0), alertID: "a\($0)", channel: "webhook:w", subject: "p", queuedAt: 0) }
        queue.add(items)
        let due = queue.due(now: 1, limit: 4)
        #expect(due.count == 1)
        #expect(due.map(\.alertID) == ["a0"])
        let batch = queue.items(in: due[0].lane)
        #expect(batch.map(\.alertID) == ["a0", "a1", "a2"])
        // A retry keeps them all, the head waiting; a delivery takes them all.
        let retried = queue.finish(batch: batch, .retry(at: 5, reason: "503"))
        #expect(retried)
        let tooSoon = queue.due(now: 4, limit: 4)
        #expect(queue.count == 3 && tooSoon.isEmpty)
        let again = queue.due(now: 5, limit: 4)
        #expect(again.map(\.alertID) == ["a0"])
        let delivered = queue.finish(batch: queue.items(in: again[0].lane), .delivered)
        #expect(delivered)
        #expect(queue.count == 0 && queue.nextDue() == nil)
        // Not in flight: nothing changes.
        queue.add(items)
        let notInFlight = queue.finish(batch: items, .delivered)
        #expect(!notInFlight && queue.count == 3)
        queue.hold(items[0].lane, until: 100)
        let early = queue.due(now: 99, limit: 4), late = queue.due(now: 100, limit: 4)
        #expect(early.isEmpty && late.count == 1)
    }
}
