import CanaryCore
import Foundation
import FuzzDriver

// The webhook response's `Retry-After` header, read for any status, and the retry decision it feeds:
// the next attempt is always a finite time between now and now + backoff_max.

runFuzzer { data, count in
    let header = String(decoding: fuzzBytes(data, count), as: UTF8.self)
    let now = 1_767_225_600.0
    let seconds = RetryAfter.seconds(header, now: now)
    if let seconds {
        fuzzCheck(seconds.isFinite && seconds >= 0 && seconds <= RetryAfter.maxSeconds, "Retry-After \(header.prefix(80)) read as \(seconds)")
    }
    let policy = DeliveryPolicy(initialBackoff: 1, maxBackoff: 300, maxAge: 86_400)
    for status in [200, 408, 429, 503, 410] {
        switch policy.decide(.status(status, retryAfter: seconds), attempts: 3, queuedAt: now, now: now, jitter: 0.5) {
        case .retry(let at, _):
            fuzzCheck(at.isFinite && at >= now && at <= now + policy.maxBackoff, "next attempt at now + \(at - now) s")
        case .delivered, .dead:
            break
        }
    }
    return 0
}
