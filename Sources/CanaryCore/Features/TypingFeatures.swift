/// Derives a day's typing-rhythm features from key timing events (never key content).
public enum TypingFeatures {
    /// Feature values keyed by name; empty when the day has fewer keystrokes than the settings require.
    public static func compute(events: [TypingRecord], settings: TypingSettings,
                               minuteOfDay: (Double) -> Double) -> [String: Double] {
        guard events.count >= settings.minKeystrokes else { return [:] }
        let sorted = events.sorted { $0.timestamp < $1.timestamp }
        var sessions = 0
        var previous = -Double.infinity
        var flights: [Double] = []
        var holds: [Double] = []
        flights.reserveCapacity(sorted.count)
        holds.reserveCapacity(sorted.count)
        var backspaces = 0
        var lateNight = 0
        let lateNightEnd = Double(settings.lateNightEndHour * 60)
        for e in sorted {
            let newSession = e.timestamp - previous > settings.sessionGapSeconds
            if newSession { sessions += 1 }
            // The flight into a session's first key is a pause, not rhythm.
            if !newSession && e.flightMilliseconds <= settings.maxFlightMilliseconds {
                flights.append(e.flightMilliseconds)
            }
            holds.append(e.holdMilliseconds)
            if e.key == .backspace { backspaces += 1 }
            if minuteOfDay(e.timestamp) < lateNightEnd { lateNight += 1 }
            previous = e.timestamp
        }
        let count = Double(sorted.count)
        var values: [String: Double] = [
            Feature.keystrokes.name: count,
            Feature.typingSessions.name: Double(sessions),
            Feature.backspaceRate.name: Double(backspaces) / count,
            Feature.lateNightShare.name: Double(lateNight) / count,
        ]
        if let hold = RobustStatistics.median(holds) { values[Feature.holdMedian.name] = hold }
        if let flight = RobustStatistics.median(flights) {
            values[Feature.flightMedian.name] = flight
            values[Feature.flightVariability.name] = RobustStatistics.mad(flights, around: flight)
        }
        return values
    }
}
