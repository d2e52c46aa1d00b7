import Foundation

/// Converts between UTC instants and one IANA time zone's local wall clock, correct across DST changes.
///
/// It caches the offset interval it last used, so a stream of nearby timestamps costs one
/// `TimeZone` lookup per DST period instead of one per row.
public struct ZoneClock: Sendable, Codable {
    public let timeZone: TimeZone
    private var cachedStart: Double = .infinity
    private var cachedEnd: Double = -.infinity
    private var cachedOffset: Int = 0

    public init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    private enum CodingKeys: String, CodingKey { case timeZone }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .timeZone)
        guard let zone = TimeZone(identifier: id) else {
            throw DecodingError.dataCorruptedError(forKey: .timeZone, in: c, debugDescription: "unknown time zone \(id)")
        }
        self.init(zone)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeZone.identifier, forKey: .timeZone)
    }

    /// Seconds east of UTC in force at `instant` (epoch seconds).
    public mutating func offset(at instant: Double) -> Int {
        if instant >= cachedStart && instant < cachedEnd { return cachedOffset }
        let date = Date(timeIntervalSince1970: instant)
        let offset = timeZone.secondsFromGMT(for: date)
        // Cache until the next transition (or a week, for zones without DST), from this instant on.
        let next = timeZone.nextDaylightSavingTimeTransition(after: date)?.timeIntervalSince1970
        cachedStart = instant
        cachedEnd = min(next ?? instant + 7 * 86_400, instant + 7 * 86_400)
        cachedOffset = offset
        return offset
    }

    /// Local wall-clock seconds (as if the wall clock were UTC) at `instant`.
    public mutating func local(_ instant: Double) -> Double {
        instant + Double(offset(at: instant))
    }

    /// The local calendar day (days since 1970-01-01 on the local calendar) holding `instant`.
    public mutating func day(of instant: Double) -> Int {
        Int((local(instant) / 86_400).rounded(.down))
    }

    /// Minutes since local midnight at `instant`, in [0, 1440).
    public mutating func minuteOfDay(_ instant: Double) -> Double {
        let l = local(instant)
        let m = (l - (l / 86_400).rounded(.down) * 86_400) / 60
        return m
    }

    /// The UTC instant of a local wall-clock time. An ambiguous time (the repeated hour when clocks
    /// go back) is read as its first occurrence; a time that does not exist (the skipped hour when
    /// clocks go forward) is moved forward by the size of the gap, as most calendars do.
    public mutating func instant(fromLocal wall: Double) -> Double {
        // Try the offsets in force just before and just after the wall time; keep the one that maps back.
        // Probe a whole day away: offsets reach +14 h, so half a day can land on the wrong side of a change.
        let before = offset(at: wall - 86_400)
        let after = offset(at: wall + 86_400)
        for candidate in [before, after] {
            let t = wall - Double(candidate)
            if offset(at: t) == candidate { return t }
        }
        // Non-existent wall time: use the offset from before the gap (moves the time forward).
        return wall - Double(before)
    }

    /// The UTC instant at which local day `day` starts.
    public mutating func startOfDay(_ day: Int) -> Double {
        instant(fromLocal: Double(day) * 86_400)
    }
}
