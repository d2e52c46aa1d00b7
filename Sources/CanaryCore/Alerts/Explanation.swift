import Foundation

/// Renders feature values the way a clinician reads them: hours, clock times, percentages.
public enum Explanation {
    public static func format(_ value: Double, unit: FeatureUnit) -> String {
        switch unit {
        case .minutes:
            return abs(value) >= 120 ? String(format: "%.1f h", value / 60) : String(format: "%.0f min", value)
        case .clock:
            let m = Int(RobustStatistics.wrap(value).rounded()) % 1440
            return String(format: "%02d:%02d", m / 60, m % 60)
        case .count:
            return String(format: "%.0f", value)
        case .fraction:
            return String(format: "%.1f%%", value * 100)
        case .milliseconds:
            return String(format: "%.0f ms", value)
        case .ratio:
            return String(format: "%.2f", value)
        case .value:
            return abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.3g", value)
        }
    }

    /// The spread shown after "±": clock and minute scales are durations.
    public static func formatScale(_ scale: Double, unit: FeatureUnit) -> String {
        switch unit {
        case .clock: return format(scale, unit: .minutes)
        default: return format(scale, unit: unit)
        }
    }

    /// "sleep duration 4.1 h, usual 7.3 h ± 0.4 h, 3 of the last 4 nights"
    public static func deviation(feature: Feature, deviation d: Deviation, detail: String) -> String {
        "\(feature.label) \(format(d.value, unit: feature.unit)), usual \(format(d.centre, unit: feature.unit))"
            + " ± \(formatScale(d.scale, unit: feature.unit)) (z \(String(format: "%+.1f", d.z))), \(detail)"
    }

    public static func periodNoun(_ kind: PeriodKind, stream: Stream, count: Int) -> String {
        switch kind {
        case .day: return stream == .sleep ? (count == 1 ? "night" : "nights") : (count == 1 ? "day" : "days")
        case .hour: return count == 1 ? "hour" : "hours"
        case .instant: return count == 1 ? "observation" : "observations"
        }
    }
}
