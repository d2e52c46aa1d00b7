/// The unit a feature's value is measured in; it decides how values are shown and compared.
public enum FeatureUnit: String, Sendable, Codable {
    /// A duration in minutes (shown as hours when long).
    case minutes
    /// A clock time in minutes after local midnight; compared on the circle of a day.
    case clock
    case count
    /// A share in 0...1 (shown as a percentage).
    case fraction
    case milliseconds
    /// A dimensionless index (the rhythm's stability, variability and amplitude), shown with two decimals.
    case ratio
    /// A `samples` metric in whatever unit the sender uses.
    case value
}

/// The input stream a feature is derived from; gaps and coverage are tracked per stream.
public enum Stream: String, Sendable, Codable, CaseIterable, Comparable {
    case sleep, activity, typing, samples

    public static func < (a: Stream, b: Stream) -> Bool { a.rawValue < b.rawValue }
}

/// A daily (or hourly) quantity derived from the input, such as total sleep time or median flight time.
public struct Feature: Sendable, Hashable, Codable {
    public let name: String
    public let stream: Stream
    public let unit: FeatureUnit
    /// Human label used in explanations ("sleep duration").
    public let label: String

    public init(name: String, stream: Stream, unit: FeatureUnit, label: String) {
        self.name = name
        self.stream = stream
        self.unit = unit
        self.label = label
    }

    public var isCircular: Bool { unit == .clock }

    /// The same feature estimated from another stream (sleep from activity): the explanation says so.
    public var estimated: Feature {
        Feature(name: name, stream: stream, unit: unit, label: "\(label) (estimated from activity)")
    }

    /// The scale floor of a feature scored without a rule of its own, so a flat history still gives a
    /// finite z (for `--scores` and composite rules). Rules set their own floors.
    public var defaultFloor: Double {
        switch unit {
        case .minutes: 5
        case .clock: 15
        case .count: 1
        case .fraction: 0.005
        case .milliseconds: 2
        case .ratio: 0.02
        case .value: 0
        }
    }

    public static let sleepDuration = Feature(name: "sleep_duration", stream: .sleep, unit: .minutes, label: "sleep duration")
    public static let timeInBed = Feature(name: "time_in_bed", stream: .sleep, unit: .minutes, label: "time in bed")
    public static let sleepOnset = Feature(name: "sleep_onset", stream: .sleep, unit: .clock, label: "sleep onset")
    public static let wakeTime = Feature(name: "wake_time", stream: .sleep, unit: .clock, label: "wake time")
    public static let sleepMidpoint = Feature(name: "sleep_midpoint", stream: .sleep, unit: .clock, label: "sleep midpoint")
    public static let sleepEfficiency = Feature(name: "sleep_efficiency", stream: .sleep, unit: .fraction, label: "sleep efficiency")
    /// Estimated from activity only (the wake minutes inside the night's rest period).
    public static let wakeAfterSleepOnset = Feature(name: "wake_after_sleep_onset", stream: .sleep, unit: .minutes, label: "wake after sleep onset")

    public static let steps = Feature(name: "steps", stream: .activity, unit: .count, label: "steps")
    public static let activeMinutes = Feature(name: "active_minutes", stream: .activity, unit: .minutes, label: "active time")
    public static let sedentaryMinutes = Feature(name: "sedentary_minutes", stream: .activity, unit: .minutes, label: "sedentary time")
    public static let longestSedentaryBout = Feature(name: "longest_sedentary_bout", stream: .activity, unit: .minutes, label: "longest sedentary bout")
    public static let firstActiveTime = Feature(name: "first_active_time", stream: .activity, unit: .clock, label: "first active time")
    public static let lastActiveTime = Feature(name: "last_active_time", stream: .activity, unit: .clock, label: "last active time")
    public static let nonWearMinutes = Feature(name: "non_wear_minutes", stream: .activity, unit: .minutes, label: "non-wear time")
    // The rest-activity rhythm over the trailing days (`RhythmFeatures`).
    public static let interdailyStability = Feature(name: "interdaily_stability", stream: .activity, unit: .ratio, label: "day-to-day rhythm stability (IS)")
    public static let intradailyVariability = Feature(name: "intradaily_variability", stream: .activity, unit: .ratio, label: "rhythm fragmentation (IV)")
    public static let relativeAmplitude = Feature(name: "relative_amplitude", stream: .activity, unit: .ratio, label: "rhythm amplitude (RA)")
    public static let l5 = Feature(name: "l5", stream: .activity, unit: .fraction, label: "activity in the least active 5 h (L5)")
    public static let m10 = Feature(name: "m10", stream: .activity, unit: .fraction, label: "activity in the most active 10 h (M10)")
    public static let l5Onset = Feature(name: "l5_onset", stream: .activity, unit: .clock, label: "start of the least active 5 h")
    public static let m10Onset = Feature(name: "m10_onset", stream: .activity, unit: .clock, label: "start of the most active 10 h")

    public static let keystrokes = Feature(name: "keystrokes", stream: .typing, unit: .count, label: "keystrokes")
    public static let typingSessions = Feature(name: "typing_sessions", stream: .typing, unit: .count, label: "typing sessions")
    public static let flightMedian = Feature(name: "flight_median", stream: .typing, unit: .milliseconds, label: "median flight time")
    public static let flightVariability = Feature(name: "flight_mad", stream: .typing, unit: .milliseconds, label: "flight-time variability")
    public static let holdMedian = Feature(name: "hold_median", stream: .typing, unit: .milliseconds, label: "median hold time")
    public static let backspaceRate = Feature(name: "backspace_rate", stream: .typing, unit: .fraction, label: "backspace rate")
    public static let lateNightShare = Feature(name: "late_night_share", stream: .typing, unit: .fraction, label: "late-night typing")

    /// Every built-in daily feature, in a stable order.
    public static let builtIn: [Feature] = [
        sleepDuration, timeInBed, sleepOnset, wakeTime, sleepMidpoint, sleepEfficiency, wakeAfterSleepOnset,
        steps, activeMinutes, sedentaryMinutes, longestSedentaryBout, firstActiveTime, lastActiveTime, nonWearMinutes,
        interdailyStability, intradailyVariability, relativeAmplitude, l5, m10, l5Onset, m10Onset,
        keystrokes, typingSessions, flightMedian, flightVariability, holdMedian, backspaceRate, lateNightShare,
    ]

    public static func builtIn(named name: String) -> Feature? {
        builtIn.first { $0.name == name }
    }

    /// The feature for a `samples` metric.
    public static func metric(_ name: String) -> Feature {
        Feature(name: name, stream: .samples, unit: .value, label: String(name.map { $0 == "_" ? " " : $0 }))
    }
}
