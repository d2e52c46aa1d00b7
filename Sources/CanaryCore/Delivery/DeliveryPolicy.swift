import Foundation

/// What one delivery attempt came to, as the shell observed it.
public enum DeliveryAttempt: Sendable, Equatable {
    /// The receiver answered with an HTTP status; `retryAfter` is its `Retry-After`, in seconds from now.
    case status(Int, retryAfter: Double?)
    /// No answer: connection refused, reset, timed out, TLS failure. The text says which.
    case failed(String)
}

/// What happens to a queued delivery next.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// Try again at this instant (epoch seconds).
    case retry(at: Double, reason: String)
    /// Give up: the delivery moves to the dead-letter table with this reason.
    case dead(reason: String)

    /// `delivered`, `retry` or `dead`: the outcome without its details (a metric's label).
    public var label: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "retry"
        case .dead: "dead"
        }
    }
}

/// How deliveries are retried: exponential backoff with full jitter and a cap, `Retry-After`
/// honoured, permanent failures and stale alerts dead-lettered. Pure: the clock and the random
/// draw are passed in.
public struct DeliveryPolicy: Sendable, Equatable {
    /// The first retry waits up to this long, in seconds; each further one doubles it.
    public var initialBackoff: Double = 1
    /// No wait between attempts is longer than this, in seconds, whatever a `Retry-After` asks for: a receiver
    /// may ask for a shorter or longer wait than the backoff, but never for one past this cap.
    public var maxBackoff: Double = 300
    /// An alert still undelivered this long after it was emitted is dead-lettered, in seconds.
    public var maxAge: Double = 24 * 3600

    public init(initialBackoff: Double = 1, maxBackoff: Double = 300, maxAge: Double = 24 * 3600) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxAge = maxAge
    }

    /// Whether a status is worth retrying: 408, 429 and every 5xx; other 4xx are the receiver's final word.
    public static func isRetryable(_ status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// The wait before attempt number `attempts + 1`, given `attempts` failures so far and a uniform draw in [0, 1).
    /// Half fixed, half jitter, so waits never collapse to zero and clients spread out.
    public func backoff(afterAttempts attempts: Int, jitter: Double) -> Double {
        let exponent = Double(max(0, min(attempts - 1, 30)))
        let ceiling = min(maxBackoff, initialBackoff * pow2(exponent))
        return ceiling / 2 + ceiling / 2 * min(max(jitter, 0), 1)
    }

    /// Whether a delivery queued at `queuedAt` is too old to attempt at all.
    public func isStale(queuedAt: Double, now: Double) -> Bool {
        now - queuedAt > maxAge
    }

    /// Decides after an attempt. `attempts` counts this one; `queuedAt` is when the delivery was queued.
    public func decide(_ attempt: DeliveryAttempt, attempts: Int, queuedAt: Double, now: Double, jitter: Double) -> DeliveryOutcome {
        let reason: String
        var wait = backoff(afterAttempts: attempts, jitter: jitter)
        switch attempt {
        case .status(let code, _) where (200...299).contains(code):
            return .delivered
        case .status(let code, let retryAfter) where Self.isRetryable(code):
            reason = "HTTP \(code)"
            // The header is the peer's word: read as a bounded number, and never past the cap.
            if let retryAfter, retryAfter.isFinite, retryAfter > 0 { wait = min(retryAfter, maxBackoff) }
        case .status(let code, _):
            return .dead(reason: "HTTP \(code): the receiver refused the alert permanently")
        case .failed(let text):
            reason = text
        }
        let next = now + wait
        if next - queuedAt > maxAge {
            return .dead(reason: "undelivered after \(Int(now - queuedAt)) s (max_age \(Int(maxAge)) s); last: \(reason)")
        }
        return .retry(at: next, reason: reason)
    }

    private func pow2(_ e: Double) -> Double {
        var v = 1.0
        for _ in 0..<Int(e) { v *= 2 }
        return v
    }
}
