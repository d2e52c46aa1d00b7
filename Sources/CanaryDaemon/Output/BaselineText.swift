import CanaryCore
import Foundation

/// `canaryctl baseline` as a person reads it: per stream where its days stand, then per feature its
/// baseline, its last values with their z, and its rules' state.
public enum BaselineText {
    public static func render(_ r: BaselineReport, now: Double = Date().timeIntervalSince1970) -> String {
        var out = "subject \(r.subject)\n"
        for s in r.streams {
            var line = "  \(s.stream.rawValue): "
            line += s.openFrom.map { "days from \($0) still open" } ?? "no day yet"
            if let latest = s.latest { line += ", newest data \(instant(latest))" }
            if s.gapOpen { line += ", GAP OPEN (no usable data for longer than [gaps] allows)" }
            out += line + "\n"
        }
        if r.series.isEmpty { out += "\nno feature has a value yet\n" }
        for s in r.series {
            out += "\n\(s.name): \(s.label)\(s.kind == "day" ? "" : " (\(s.kind))")\n"
            let baseline: String
            if let c = s.centre, let sc = s.scale {
                baseline = "\(Explanation.format(c, unit: s.unit)) ± \(Explanation.formatScale(sc, unit: s.unit))"
            } else {
                baseline = "not yet (too little history)"
            }
            if s.kind == "raw" {
                let shown = s.centre == nil && s.baseline != "ewma" ? "\(s.baseline), no single centre to show" : baseline
                out += "  baseline  \(shown), from \(s.coverage) observations (scored after \(s.minimumHistory))\n"
            } else {
                let unit = s.kind == "hour" ? "hours" : "days"
                out += "  baseline  \(baseline)\(s.next.map { " for \($0)" } ?? ""), from \(s.coverage) of \(s.window) \(unit)"
                    + " with a value (scored from \(s.minimumHistory) days)\n"
            }
            for (i, v) in s.last.enumerated() {
                let z = v.z.map { String(format: "z %+.1f", $0) } ?? "z -"
                out += "  \(i == 0 ? "last     " : "         ") \(v.period)  \(Explanation.format(v.value, unit: s.unit))  \(z)\n"
            }
            if let rule = s.rule {
                var line = "  rules     threshold \(format(rule.threshold)) \(rule.direction), \(rule.persistenceK)/\(rule.persistenceN): "
                    + "\(rule.deviatingLow) low and \(rule.deviatingHigh) high of the last \(rule.persistenceN)"
                if let h = rule.cusumH {
                    line += "; CUSUM low \(format(rule.cusumLow ?? 0)), high \(format(rule.cusumHigh ?? 0)) of \(format(h))"
                }
                line += rule.open.isEmpty ? "; nothing open" : "; open: \(rule.open.joined(separator: ", "))"
                if rule.thresholdCooldown > 0 || rule.cusumCooldown > 0 {
                    line += "; cooldown \(rule.thresholdCooldown) (threshold), \(rule.cusumCooldown) (CUSUM) periods"
                }
                out += line + "\n"
            } else {
                out += "  rules     none (scored, never alerts)\n"
            }
        }
        return out
    }

    private static func format(_ v: Double) -> String { String(format: "%.1f", v) }

    private static func instant(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}
