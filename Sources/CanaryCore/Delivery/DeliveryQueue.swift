/// One alert waiting for one channel (`journal`, or `webhook:<name>`).
public struct DeliveryItem: Sendable, Equatable, Codable {
    /// Emission order across the whole daemon; deliveries to one channel about one subject go in this order.
    public var sequence: Int64
    public var alertID: String
    public var channel: String
    public var subject: String
    /// Attempts made so far.
    public var attempts: Int
    /// Not before this instant (epoch seconds).
    public var notBefore: Double
    /// When it was queued (emitted, or re-driven by hand): `max_age` counts from here.
    public var queuedAt: Double

    public init(sequence: Int64, alertID: String, channel: String, subject: String, attempts: Int = 0,
                notBefore: Double = 0, queuedAt: Double) {
        self.sequence = sequence
        self.alertID = alertID
        self.channel = channel
        self.subject = subject
        self.attempts = attempts
        self.notBefore = notBefore
        self.queuedAt = queuedAt
    }

    /// One channel's queue for one subject: deliveries in it go strictly one after another.
    public var lane: DeliveryLane { DeliveryLane(channel: channel, subject: subject) }
}

/// A channel and a subject: the unit of ordering.
public struct DeliveryLane: Hashable, Sendable {
    public var channel: String
    public var subject: String

    public init(channel: String, subject: String) {
        self.channel = channel
        self.subject = subject
    }
}

/// Which queued deliveries to attempt now: per lane only the oldest, once it is due, and at most
/// `limit` attempts at a time. A state machine without I/O; the shell performs the attempts and
/// reports each outcome back with `finish`.
public struct DeliveryQueue: Sendable {
    private var lanes: [DeliveryLane: [DeliveryItem]] = [:]
    /// An attempt under way: which delivery, and whether it counts against the limit.
    private struct Flight {
        var key: String
        var limited: Bool
    }

    /// The lanes with an attempt under way.
    private var inFlight: [DeliveryLane: Flight] = [:]
    /// Of those, the ones that count against the limit.
    private var limitedInFlight = 0
    private var keys: Set<String> = []
    /// Deliveries an operator hurried while their attempt was under way: a retry of theirs is due at once.
    private var hurried: Set<String> = []

    public init() {}

    /// Queued deliveries, including those in flight.
    public var count: Int { keys.count }
    public var inFlightCount: Int { inFlight.count }
    /// Attempts under way that count against the limit.
    public var limitedInFlightCount: Int { limitedInFlight }

    /// Adds deliveries; one already queued (same alert and channel) is ignored.
    public mutating func add(_ items: [DeliveryItem]) {
        var touched: Set<DeliveryLane> = []
        for item in items where keys.insert(Self.key(item)).inserted {
            lanes[item.lane, default: []].append(item)
            touched.insert(item.lane)
        }
        for lane in touched where lanes[lane]!.count > 1 {
            lanes[lane]!.sort { $0.sequence < $1.sequence }
        }
    }

    /// The deliveries to attempt now; their lanes count as in flight until `finish`. At most `limit`
    /// attempts on channels `isLimited` says count run at once; the others (a local journal) are not limited.
    public mutating func due(now: Double, limit: Int, isLimited: (String) -> Bool = { _ in true }) -> [DeliveryItem] {
        var candidates: [DeliveryItem] = []
        for (lane, items) in lanes where inFlight[lane] == nil {
            guard let head = items.first, head.notBefore <= now else { continue }
            candidates.append(head)
        }
        candidates.sort { $0.sequence < $1.sequence }
        var out: [DeliveryItem] = []
        for item in candidates {
            let limited = isLimited(item.channel)
            if limited && limitedInFlight >= limit { continue }
            if limited { limitedInFlight += 1 }
            inFlight[item.lane] = Flight(key: Self.key(item), limited: limited)
            out.append(item)
        }
        return out
    }

    /// The earliest instant a lane not in flight becomes due, if any.
    public func nextDue() -> Double? {
        lanes.lazy.filter { self.inFlight[$0.key] == nil }.compactMap { $0.value.first?.notBefore }.min()
    }

    /// Records an attempt's outcome: delivered and dead items leave their lane, a retry waits at its head.
    /// Returns false, changing nothing, when the item was not in flight (forgotten meanwhile by an erasure).
    @discardableResult
    public mutating func finish(_ item: DeliveryItem, _ outcome: DeliveryOutcome) -> Bool {
        let lane = item.lane
        guard let flight = inFlight[lane], flight.key == Self.key(item) else { return false }
        inFlight[lane] = nil
        if flight.limited { limitedInFlight -= 1 }
        guard var items = lanes[lane], let i = items.firstIndex(where: { $0.alertID == item.alertID }) else { return true }
        switch outcome {
        case .delivered, .dead:
            items.remove(at: i)
            keys.remove(Self.key(item))
            hurried.remove(Self.key(item))
        case .retry(let at, _):
            items[i].attempts = item.attempts
            items[i].notBefore = hurried.remove(Self.key(item)) != nil ? 0 : at
        }
        lanes[lane] = items.isEmpty ? nil : items
        return true
    }

    /// Makes waiting deliveries due now (an operator's retry); nil matches any alert or channel. Returns how many.
    @discardableResult
    public mutating func expedite(alertID: String?, channel: String?) -> Int {
        var count = 0
        for (lane, items) in lanes where channel == nil || lane.channel == channel {
            var changed = items
            for i in changed.indices where alertID == nil || changed[i].alertID == alertID {
                changed[i].notBefore = 0
                if inFlight[lane]?.key == Self.key(changed[i]) { hurried.insert(Self.key(changed[i])) }
                count += 1
            }
            lanes[lane] = changed
        }
        return count
    }

    /// Forgets every delivery about a subject (erasure); returns how many were queued.
    @discardableResult
    public mutating func remove(subject: String) -> Int {
        var removed = 0
        for lane in lanes.keys where lane.subject == subject {
            for item in lanes[lane]! {
                keys.remove(Self.key(item))
                hurried.remove(Self.key(item))
            }
            removed += lanes[lane]!.count
            lanes[lane] = nil
            if let flight = inFlight.removeValue(forKey: lane), flight.limited { limitedInFlight -= 1 }
        }
        return removed
    }

    /// When the oldest queued delivery was queued; nil when none is. O(lanes).
    public var oldestQueuedAt: Double? {
        lanes.values.lazy.compactMap { $0.map(\.queuedAt).min() }.min()
    }

    /// The queued deliveries of `lane`, oldest first (a grouped webhook sends them as one notification).
    public func items(in lane: DeliveryLane) -> [DeliveryItem] { lanes[lane] ?? [] }

    /// Lanes with deliveries queued.
    public var laneKeys: [DeliveryLane] { Array(lanes.keys) }

    /// Holds the head of `lane` until at least `instant` (a grouped webhook's group_interval).
    public mutating func hold(_ lane: DeliveryLane, until instant: Double) {
        guard var items = lanes[lane], inFlight[lane] == nil else { return }
        items[0].notBefore = max(items[0].notBefore, instant)
        lanes[lane] = items
    }

    /// `finish` for a notification that carried `batch` (the lane's head, in flight, first): delivered
    /// and dead take all of them out of the lane; a retry waits at the head.
    @discardableResult
    public mutating func finish(batch: [DeliveryItem], _ outcome: DeliveryOutcome) -> Bool {
        guard let head = batch.first else { return false }
        let lane = head.lane
        guard let flight = inFlight[lane], flight.key == Self.key(head) else { return false }
        inFlight[lane] = nil
        if flight.limited { limitedInFlight -= 1 }
        guard var items = lanes[lane] else { return true }
        switch outcome {
        case .delivered, .dead:
            let gone = Set(batch.map(Self.key))
            items.removeAll { gone.contains(Self.key($0)) }
            for k in gone {
                keys.remove(k)
                hurried.remove(k)
            }
        case .retry(let at, _):
            if let i = items.firstIndex(where: { $0.alertID == head.alertID }) {
                items[i].attempts = head.attempts
                items[i].notBefore = hurried.remove(Self.key(head)) != nil ? 0 : at
            }
        }
        lanes[lane] = items.isEmpty ? nil : items
        return true
    }

    /// Every queued delivery, oldest first.
    public var all: [DeliveryItem] {
        lanes.values.flatMap { $0 }.sorted { $0.sequence < $1.sequence }
    }

    private static func key(_ item: DeliveryItem) -> String { item.alertID + "\u{0}" + item.channel }
}
