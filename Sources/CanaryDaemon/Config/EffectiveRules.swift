import CanaryCore

/// The rules a configuration ends up with, every key spelled out (defaults included), as TOML a user
/// can read or paste back: `canaryctl check-config --effective`.
public enum EffectiveRules {
    public static func toml(_ engine: EngineConfiguration) -> String {
        var out = "# Effective rules: every key, defaults included.\n"
        for feature in Feature.builtIn {
            guard let r = engine.rules[feature.name] else { continue }
            out += "\n[rules.\(feature.name)]\n" + rule(r)
        }
        out += "\n[metrics.default]\n" + metric(engine.defaultMetric, prefix: "metrics.default")
        for name in engine.metrics.keys.sorted() {
            out += "\n[metrics.\(name)]\n" + metric(engine.metrics[name]!, prefix: "metrics.\(name)")
        }
        for c in engine.composites {
            out += "\n[composite.\(c.name)]\n"
            out += "features = [\(c.features.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
            out += "alpha = \(number(c.alpha))\nmin_features = \(c.minFeatures)\npersistence = \"\(c.persistenceK)/\(c.persistenceN)\"\n"
            out += "cooldown = \(c.cooldownPeriods)\ncovariance = \(c.covariance)\nmin_history_days = \(c.minHistory)\n"
            out += "clip = \(number(c.clip))\nspan_days = \(c.span)\n"
        }
        return out
    }

    static func metric(_ m: MetricSettings, prefix: String) -> String {
        var out = "mode = \"\(m.mode.rawValue)\"\n"
        if m.mode == .raw {
            out += "baseline = \"\(m.baseline.rawValue)\"\nalpha = \(number(m.alpha))\nwarmup = \(m.warmup)\n"
            out += "window = \"\(Int(m.windowSeconds))s\"\nwindow_slots = \(m.windowSlots)\n"
            out += "season = \"\(m.seasonalPeriodHours == 168 ? "week" : "day")\"\nseason_cycles = \(m.seasonalCycles)\nseason_min_cycles = \(m.seasonalMinimum)\n"
            out += "likelihood = \(m.likelihood)\nlikelihood_short = \(m.likelihoodShort)\nlikelihood_long = \(m.likelihoodLong)\n"
        } else {
            out += "aggregate = \"\(m.aggregate.rawValue)\"\nbaseline = \"\(m.baseline.rawValue)\"\nmin_observations = \(m.minObservations)\n"
        }
        out += "min = \(number(m.range.lowerBound))\nmax = \(number(m.range.upperBound))\n"
        guard let r = m.rule else { return out + "rule = \"off\"\n" }
        return out + "[\(prefix).rule]\n" + rule(r)
    }

    static func rule(_ r: RuleSettings) -> String {
        var out = "direction = \"\(r.direction.rawValue)\"\nthreshold = \(number(r.threshold))\n"
        out += "persistence = \"\(r.persistenceK)/\(r.persistenceN)\"\ncooldown = \(r.cooldownPeriods)\n"
        out += "resolve_below = \(number(r.resolveBelow))\nepisodes = \(r.episodes)\n"
        if let k = r.cusumK {
            out += "cusum = true\ncusum_k = \(number(k))\ncusum_h = \(number(r.cusumH))\ncusum_clip = \(number(r.cusumClip))\n"
        } else {
            out += "cusum = false\n"
        }
        return out + "floor_abs = \(number(r.floorAbsolute))\nfloor_rel = \(number(r.floorRelative))\n"
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return "\(v)"
    }
}
