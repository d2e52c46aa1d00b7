/// The per-person state of one feature's rules: persistence window, episode, cooldown and CUSUM sums.
///
/// A value type driven only by (period, z) pairs, so every rule can be tested with plain numbers.
public struct ThresholdRule: Sendable, Equatable, Codable {
    /// Periods that deviated in the low / high direction, newest last (only the last `n` are kept).
    private var lowHits: [Int] = []
    private var highHits: [Int] = []
    /// The open excursion of the threshold rule, if it alerted and has not resolved.
    public private(set) var thresholdActive: Direction?
    public private(set) var cusumActive: Direction?
    public private(set) var thresholdCooldownUntil = Int.min
    public private(set) var cusumCooldownUntil = Int.min
    public private(set) var cusumHigh = 0.0
    public private(set) var cusumLow = 0.0

    public init() {}

    /// The periods that deviated low / high, of the last n kept.
    var lowHitPeriods: [Int] { lowHits }
    var highHitPeriods: [Int] { highHits }

    /// Feeds the z-score of `period` and returns what the rules decide.
    public mutating func evaluate(period: Int, z: Double, settings s: RuleSettings) -> [RuleEvent] {
        // Fast path for the common case: nothing open, nothing pending, nothing crossing.
        if thresholdActive == nil && cusumActive == nil && lowHits.isEmpty && highHits.isEmpty
            && s.cusumK == nil && abs(z) <= s.threshold {
            return []
        }
        var events: [RuleEvent] = []
        let n = max(1, s.persistenceN)
        let k = min(max(1, s.persistenceK), n)
        if z < -s.threshold { lowHits.append(period) }
        if z > s.threshold { highHits.append(period) }
        lowHits.removeAll { $0 <= period - n }
        highHits.removeAll { $0 <= period - n }

        // Resolve an open excursion once the value is back inside the band.
        if let d = thresholdActive, inside(z, direction: d, band: s.resolveBelow) {
            thresholdActive = nil
            events.append(.resolved(rule: "threshold"))
        }
        if thresholdActive == nil && period >= thresholdCooldownUntil {
            let candidates: [(Direction, Int)] = [(.low, lowHits.count), (.high, highHits.count)]
            for (d, hits) in candidates where watches(s.direction, d) && hits >= k && lastHit(d) == period {
                events.append(.threshold(direction: d, hits: hits, window: n))
                if s.episodes { thresholdActive = d }
                thresholdCooldownUntil = period + max(1, s.cooldownPeriods)
                break
            }
        }

        if let ck = s.cusumK {
            // z is clipped so that one outlying period cannot cross h alone: CUSUM is for sustained shifts.
            let clipped = min(max(z, -s.cusumClip), s.cusumClip)
            cusumHigh = max(0, cusumHigh + clipped - ck)
            cusumLow = max(0, cusumLow - clipped - ck)
            if let d = cusumActive, inside(z, direction: d, band: s.resolveBelow) {
                cusumActive = nil
                cusumHigh = 0
                cusumLow = 0
                events.append(.resolved(rule: "cusum"))
            }
            // While the threshold rule is reporting an excursion, the shift is already told: the sums
            // restart so that the excursion itself does not fire CUSUM once it is over.
            if thresholdActive != nil || events.contains(where: { if case .threshold = $0 { true } else { false } }) {
                cusumHigh = 0
                cusumLow = 0
            }
            if cusumActive == nil && period >= cusumCooldownUntil {
                let sums: [(Direction, Double)] = [(.low, cusumLow), (.high, cusumHigh)]
                for (d, sum) in sums where watches(s.direction, d) && sum > s.cusumH {
                    // Only a slow shift is CUSUM's to report: if the threshold rule speaks this period, CUSUM stays quiet.
                    let thresholdSpoke = events.contains { if case .threshold = $0 { return true } else { return false } }
                    if !thresholdSpoke && thresholdActive != d {
                        events.append(.cusum(direction: d, sum: sum))
                        if s.episodes { cusumActive = d }
                        cusumCooldownUntil = period + max(1, s.cooldownPeriods)
                    }
                    cusumHigh = 0
                    cusumLow = 0
                    break
                }
            }
        }
        return events
    }

    private func lastHit(_ d: Direction) -> Int? {
        d == .low ? lowHits.last : highHits.last
    }

    private func watches(_ setting: Direction, _ d: Direction) -> Bool {
        setting == .both || setting == d
    }

    private func inside(_ z: Double, direction: Direction, band: Double) -> Bool {
        switch direction {
        case .low: z > -band
        case .high: z < band
        case .both: abs(z) < band
        }
    }
}
