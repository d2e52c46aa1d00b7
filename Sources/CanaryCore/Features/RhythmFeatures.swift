/// Non-parametric circadian rhythm analysis of minute activity (Witting et al. 1990; van Someren et al.
/// 1999), as pyActigraphy 1.2.2 computes it with its defaults: every minute is binarized (active when its
/// count is above a threshold, 4 for Actiwatch-style counts), IS and IV are taken over hourly sums, L5 and
/// M10 over the average day at minute resolution.
///
/// - IS, interdaily stability: sample variance of the average day's 24 hourly values over the sample
///   variance of all hourly values (how alike the days are).
/// - IV, intradaily variability: mean squared difference of consecutive hourly values over their sample
///   variance (how fragmented the rhythm is).
/// - L5 / M10: mean of the least active 5 h / most active 10 h of the average day (a share of active
///   minutes), with their start times; RA = (M10 − L5) / (M10 + L5).
///
/// Missing and non-wear minutes are missing data, never inactivity: an hour with one has no hourly value,
/// and the average day is taken over the days that have each minute.
public enum RhythmFeatures {
    /// One minute: active, inactive, or missing (nil).
    public typealias Minute = Bool?

    /// What one window yields; nil fields when the data cannot give them (no variance, no hours).
    public struct Result: Sendable, Equatable {
        public var interdailyStability: Double?
        public var intradailyVariability: Double?
        public var relativeAmplitude: Double?
        public var l5: Double?
        public var m10: Double?
        /// Start of the least active 5 h / most active 10 h, in minutes after midnight of the average day.
        public var l5Start: Int?
        public var m10Start: Int?
    }

    /// `minutes` is consecutive minutes starting at `firstMinuteOfDay` (minutes after midnight, a whole
    /// hour); hours are consecutive 60-minute blocks from there, and the i-th minute falls on minute
    /// `(firstMinuteOfDay + i) % 1440` of the average day.
    public static func compute(_ minutes: [Minute], firstMinuteOfDay: Int = 0) -> Result {
        var result = Result()
        // Hourly sums; nil when any minute of the hour is missing.
        var hours: [Double?] = []
        hours.reserveCapacity(minutes.count / 60)
        var i = 0
        while i + 60 <= minutes.count {
            var sum = 0
            var complete = true
            for m in minutes[i..<(i + 60)] {
                guard let m else { complete = false; break }
                if m { sum += 1 }
            }
            hours.append(complete ? Double(sum) : nil)
            i += 60
        }
        let firstHour = firstMinuteOfDay / 60
        if let total = sampleVariance(hours.compactMap { $0 }), total > 0 {
            var profileSum = [Double](repeating: 0, count: 24)
            var profileCount = [Int](repeating: 0, count: 24)
            for (h, x) in hours.enumerated() {
                guard let x else { continue }
                profileSum[(firstHour + h) % 24] += x
                profileCount[(firstHour + h) % 24] += 1
            }
            let profile = (0..<24).compactMap { profileCount[$0] > 0 ? profileSum[$0] / Double(profileCount[$0]) : nil }
            if let between = sampleVariance(profile) { result.interdailyStability = between / total }
            var squares = 0.0
            var pairs = 0
            for (a, b) in zip(hours, hours.dropFirst()) {
                guard let a, let b else { continue }
                squares += (b - a) * (b - a)
                pairs += 1
            }
            if pairs > 0 { result.intradailyVariability = (squares / Double(pairs)) / total }
        }

        // The average day at minute resolution, then the least and most active windows on its circle.
        var active = [Int](repeating: 0, count: 1440)
        var present = [Int](repeating: 0, count: 1440)
        for (k, m) in minutes.enumerated() {
            guard let m else { continue }
            let slot = (firstMinuteOfDay + k) % 1440
            present[slot] += 1
            if m { active[slot] += 1 }
        }
        guard present.contains(where: { $0 > 0 }) else { return result }
        let profile = (0..<1440).map { present[$0] > 0 ? Double(active[$0]) / Double(present[$0]) : 0 }
        let (l5Start, l5) = window(profile, length: 300, lowest: true)
        let (m10Start, m10) = window(profile, length: 600, lowest: false)
        result.l5 = l5
        result.m10 = m10
        result.l5Start = l5Start
        result.m10Start = m10Start
        if m10 + l5 > 0 { result.relativeAmplitude = (m10 - l5) / (m10 + l5) }
        return result
    }

    /// The start and mean of the window of `length` minutes with the lowest (highest) sum on the circle of
    /// the average day; the earliest start among windows equal to within rounding. A minute no day has
    /// counts as nothing in the sum (as the reference's rolling sum skips it) but the mean is over `length`.
    static func window(_ profile: [Double], length: Int, lowest: Bool) -> (start: Int, mean: Double) {
        // Prefix sums over two laps of the circle; each window's sum is one difference.
        var prefix = [Double](repeating: 0, count: 2 * 1440 + 1)
        for i in 0..<(2 * 1440) { prefix[i + 1] = prefix[i] + profile[i % 1440] }
        var best = 0
        var bestSum = prefix[length]
        for s in 1..<1440 {
            let sum = prefix[s + length] - prefix[s]
            if lowest ? sum < bestSum - 1e-9 : sum > bestSum + 1e-9 {
                best = s
                bestSum = sum
            }
        }
        // The mean of the chosen window, summed directly (no prefix-difference rounding).
        var sum = 0.0
        for k in best..<(best + length) { sum += profile[k % 1440] }
        return (best, sum / Double(length))
    }

    /// Sample variance (n − 1 in the denominator), nil for fewer than two values.
    static func sampleVariance(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }
}
