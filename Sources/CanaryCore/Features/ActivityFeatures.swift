/// Derives a day's activity features from minute counts, telling non-wear apart from inactivity.
public enum ActivityFeatures {
    /// What one day of minute counts yields: the features (empty when too little was worn) and the worn minutes.
    public struct Result: Sendable, Equatable {
        public var values: [String: Double]
        public var wornMinutes: Int
        public var nonWearMinutes: Int
    }

    /// `minutes[i]` is the count for the i-th minute of the local day, nil when no data arrived for it.
    /// `clockOfMinute` turns an index into minutes after local midnight (differs from `i` on DST days).
    public static func compute(minutes: [Double?], settings: ActivitySettings,
                               clockOfMinute: (Int) -> Double) -> Result {
        compute(minutes: minutes, nonWear: NonWear.mark(minutes, settings: settings), settings: settings, clockOfMinute: clockOfMinute)
    }

    /// The same with the day's non-wear minutes already marked (`NonWear.mark`).
    public static func compute(minutes: [Double?], nonWear: [Bool], settings: ActivitySettings,
                               clockOfMinute: (Int) -> Double) -> Result {
        let n = minutes.count
        var worn = 0
        var missing = 0
        var nonWearCount = 0
        var total = 0.0
        var active = 0
        var firstActive: Int?
        var lastActive: Int?
        for k in 0..<n {
            guard let c = minutes[k] else { missing += 1; continue }
            if nonWear[k] { nonWearCount += 1; continue }
            worn += 1
            total += c
            if c >= settings.activeThreshold {
                active += 1
                if firstActive == nil { firstActive = k }
                lastActive = k
            }
        }
        guard worn >= settings.minWearMinutes else {
            return Result(values: [:], wornMinutes: worn, nonWearMinutes: nonWearCount + missing)
        }
        var sedentary = 0
        var longest = 0
        if let first = firstActive, let last = lastActive {
            var run = 0
            for k in first...last {
                if let c = minutes[k], !nonWear[k], c < settings.sedentaryThreshold {
                    sedentary += 1; run += 1; longest = max(longest, run)
                } else {
                    run = 0
                }
            }
        }
        var values: [String: Double] = [
            Feature.steps.name: Saturating.finite(total),
            Feature.activeMinutes.name: Double(active),
            Feature.sedentaryMinutes.name: Double(sedentary),
            Feature.longestSedentaryBout.name: Double(longest),
            Feature.nonWearMinutes.name: Double(nonWearCount + missing),
        ]
        if let firstActive { values[Feature.firstActiveTime.name] = clockOfMinute(firstActive) }
        if let lastActive { values[Feature.lastActiveTime.name] = clockOfMinute(lastActive) }
        return Result(values: values, wornMinutes: worn, nonWearMinutes: nonWearCount + missing)
    }
}
