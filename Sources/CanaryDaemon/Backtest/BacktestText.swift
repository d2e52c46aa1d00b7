import CanaryCore
import Foundation

/// The backtest's report for a person (a table) and for a program (JSON).
public enum BacktestText {
    public static func render(_ r: Backtest.Report, backtest: Backtest, showEpisodes: Bool = true) -> String {
        var out = ""
        if showEpisodes {
            out += "episode                              label                  detected  delay  first rule\n"
            for o in r.outcomes {
                let e = o.episode
                let name = "\(e.subject) \(Episode.date(e.start))..\(Episode.date(e.end))"
                let state = o.unobserved ? "no data" : (o.detected ? "yes" : "no")
                out += pad(name, 37) + pad(e.label, 23) + pad(state, 10) + pad(o.delay.map { "\($0) d" } ?? "-", 7) + (o.firstRule ?? "-") + "\n"
            }
            out += "\n"
        }
        let ci = r.detection.interval
        out += "subjects \(r.subjects), episodes \(r.detection.total) scored"
        let unobserved = r.outcomes.filter(\.unobserved).count
        out += unobserved > 0 ? " (\(unobserved) without data, not scored)\n" : "\n"
        out += String(format: "detected %d of %d: %.1f%% (95%% Wilson interval %.1f%%–%.1f%%)\n",
                      r.detection.detected, r.detection.total, r.detection.rate * 100, ci.lowerBound * 100, ci.upperBound * 100)
        for label in r.byLabel.keys.sorted() where !label.isEmpty {
            let rate = r.byLabel[label]!
            out += String(format: "  %-24@ %d of %d: %.1f%%\n", label as NSString, rate.detected, rate.total, rate.rate * 100)
        }
        out += "delay to first alert (days from the episode's start): "
            + (r.medianDelay.map { String(format: "median %.1f, mean %.2f", $0, r.meanDelay ?? 0) } ?? "none detected") + "\n"
        out += String(format: "false alerts: %d in %d person-days outside episodes after %d warm-up days: %.2f per 100 person-days\n",
                      r.falseAlerts, r.personDays, backtest.warmupDays, r.falsePer100)
        out += String(format: "alert load: %.2f deviation and composite alerts per 100 person-days after warm-up; %d resolved, %d gap (not scored)\n",
                      r.alertLoad, r.resolved, r.gaps)
        if !r.rules.isEmpty {
            out += "alerts by rule (in episodes / false):\n"
            for rule in r.rules.keys.sorted() {
                let c = r.rules[rule]!
                out += "  " + pad(rule, 36) + "\(c.inEpisodes) / \(c.outside)\n"
            }
        }
        return out
    }

    public static func json(_ r: Backtest.Report, backtest: Backtest) -> [String: Any] {
        let ci = r.detection.interval
        return [
            "episodes": r.outcomes.map { o -> [String: Any] in
                var e: [String: Any] = ["subject": o.episode.subject, "start": Episode.date(o.episode.start),
                                        "end": Episode.date(o.episode.end), "label": o.episode.label,
                                        "detected": o.detected, "scored": !o.unobserved]
                if let d = o.delay { e["delay_days"] = d }
                if let rule = o.firstRule { e["first_rule"] = rule }
                return e
            },
            "detection": ["detected": r.detection.detected, "total": r.detection.total, "rate": r.detection.rate,
                          "wilson95": [ci.lowerBound, ci.upperBound]],
            "by_label": r.byLabel.mapValues { ["detected": $0.detected, "total": $0.total, "rate": $0.rate] },
            "median_delay_days": r.medianDelay as Any,
            "mean_delay_days": r.meanDelay as Any,
            "false_alerts": r.falseAlerts,
            "person_days": r.personDays,
            "false_per_100_person_days": r.falsePer100,
            "alert_load_per_100_person_days": r.alertLoad,
            "resolved": r.resolved,
            "gap": r.gaps,
            "rules": r.rules.mapValues { ["in_episodes": $0.inEpisodes, "false": $0.outside] },
            "warmup_days": backtest.warmupDays,
            "grace_days": backtest.graceDays,
            "subjects": r.subjects,
        ]
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

