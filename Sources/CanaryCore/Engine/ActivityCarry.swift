/// What a subject's activity stream carries from one closed day to the next: the evening a night starts
/// in (the night is judged on the day it ends), and the last days' minutes for the rhythm window.
struct ActivityCarry: Sendable, Equatable {
    /// The day `evening` belongs to: the last 12 hours of its minute counts (NaN: missing).
    var eveningDay: Int?
    var evening: [Float] = []
    /// Per day of the rhythm window: which clock minutes were worn and which were active.
    var rhythm: [Int: MinuteBits] = [:]

    static let eveningMinutes = 720
}

/// One day of minutes by clock minute (0 ..< 1440) as two bit sets, and whether the day was worn long
/// enough to count towards the rhythm features.
struct MinuteBits: Sendable, Equatable, Codable {
    var present = [UInt64](repeating: 0, count: 23)
    var active = [UInt64](repeating: 0, count: 23)
    var worn = false

    mutating func set(_ minute: Int, active isActive: Bool) {
        let bit: UInt64 = 1 << UInt64(minute & 63)
        present[minute >> 6] |= bit
        if isActive { active[minute >> 6] |= bit } else { active[minute >> 6] &= ~bit }
    }

    func minute(_ minute: Int) -> Bool? {
        let bit: UInt64 = 1 << UInt64(minute & 63)
        guard present[minute >> 6] & bit != 0 else { return nil }
        return active[minute >> 6] & bit != 0
    }
}

extension ActivityCarry: Codable {
    private enum CodingKeys: String, CodingKey { case eveningDay, evening, rhythm }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        eveningDay = try c.decodeIfPresent(Int.self, forKey: .eveningDay)
        // Missing minutes are saved as -1 (JSON has no NaN); counts are never negative.
        evening = try (c.decodeIfPresent([Float].self, forKey: .evening) ?? []).map { $0 < 0 ? .nan : $0 }
        rhythm = try c.decodeIfPresent([Int: MinuteBits].self, forKey: .rhythm) ?? [:]
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(eveningDay, forKey: .eveningDay)
        try c.encode(evening.map { $0.isNaN ? -1 : $0 }, forKey: .evening)
        try c.encode(rhythm, forKey: .rhythm)
    }
}
