/// The per-person, per-stream gap rule: how long since the stream last had usable data.
///
/// A gap opens when the stream has been silent (or below its coverage requirement) for longer than
/// the configured time, and closes with a `resolved` event when data returns. An open gap
/// suppresses the deviation rules of that stream's features.
public struct GapRule: Sendable, Equatable, Codable {
    /// End of the last period (or instant) with usable data.
    public private(set) var lastCovered: Double
    /// Start of the open gap, if one is open.
    public private(set) var openSince: Double?

    public init(firstSeen: Double) {
        lastCovered = firstSeen
    }

    public enum Event: Sendable, Equatable {
        case opened(since: Double, silentSeconds: Double)
        case closed(since: Double)
    }

    /// Usable data up to `instant` arrived.
    public mutating func covered(until instant: Double) -> Event? {
        lastCovered = max(lastCovered, instant)
        if let since = openSince {
            openSince = nil
            return .closed(since: since)
        }
        return nil
    }

    /// Usable data arrived while no gap is open (the cheap path for every raw observation).
    public mutating func noteCovered(until instant: Double) {
        if instant > lastCovered { lastCovered = instant }
    }

    /// Time has reached `now` without usable data since `lastCovered`.
    public mutating func check(now: Double, limit: Double) -> Event? {
        guard openSince == nil, now - lastCovered >= limit else { return nil }
        openSince = lastCovered
        return .opened(since: lastCovered, silentSeconds: now - lastCovered)
    }

    public var isOpen: Bool { openSince != nil }
}
