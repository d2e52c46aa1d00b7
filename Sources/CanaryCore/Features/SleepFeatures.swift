/// Derives a day's sleep features from the sessions that ended on it (a night belongs to the day you wake up).
public enum SleepFeatures {
    /// Feature values keyed by feature name; empty when no main sleep ended that day.
    /// `minuteOfDay` maps an instant to minutes after the subject's local midnight.
    public static func compute(sessions: [SleepRecord], settings: SleepSettings,
                               minuteOfDay: (Double) -> Double) -> [String: Double] {
        guard let main = sessions.max(by: { ($0.end - $0.start, $0.end) < ($1.end - $1.start, $1.end) }),
              main.inBedMinutes >= settings.minMainSleepMinutes else { return [:] }
        let total = sessions.reduce(0) { $0 + $1.sleepMinutes }
        let inBed = sessions.reduce(0) { $0 + $1.inBedMinutes }
        return [
            Feature.sleepDuration.name: total,
            Feature.timeInBed.name: inBed,
            Feature.sleepEfficiency.name: inBed > 0 ? total / inBed : 0,
            Feature.sleepOnset.name: minuteOfDay(main.start),
            Feature.wakeTime.name: minuteOfDay(main.end),
            Feature.sleepMidpoint.name: minuteOfDay((main.start + main.end) / 2),
        ]
    }
}
