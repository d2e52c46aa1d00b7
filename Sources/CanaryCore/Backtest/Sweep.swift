import Foundation

/// One configuration key varied over a range, for an operating curve: `KEY=FROM:TO:STEP`.
///
/// Keys: `rules.NAME.KEY` (or `rules.*.KEY`, every rule) with KEY one of `threshold`, `cusum_h`,
/// `cusum_k`, `floor_abs`, `floor_rel`, `resolve_below`, `cooldown`; `composite.NAME.KEY` (or
/// `composite.*.KEY`) with `alpha`, `min_features`, `clip` or `span_days`; `baseline.window_days`, `baseline.min_history_days`.
public struct Sweep: Sendable, Equatable {
    public var key: String
    public var values: [Double]

    static let ruleKeys = ["threshold", "cusum_h", "cusum_k", "floor_abs", "floor_rel", "resolve_below", "cooldown"]
    static let compositeKeys = ["alpha", "min_features", "clip", "span_days"]

    public init(key: String, values: [Double]) {
        self.key = key
        self.values = values
    }

    /// Parses `KEY=FROM:TO:STEP` (inclusive of TO, within rounding); at most 1000 settings.
    public static func parse(_ text: String) throws(SweepError) -> Sweep {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw SweepError("expected KEY=FROM:TO:STEP, found '\(text)'") }
        let key = String(parts[0])
        let range = parts[1].split(separator: ":").map { Double($0) }
        guard range.count == 3, let from = range[0], let to = range[1], let step = range[2],
              from.isFinite, to.isFinite, step.isFinite, step > 0, to >= from else {
            throw SweepError("'\(parts[1])' is not FROM:TO:STEP with FROM <= TO and STEP > 0")
        }
        let count = Int(((to - from) / step + 1e-9).rounded(.down)) + 1
        guard count <= 1000 else { throw SweepError("\(count) settings; at most 1000") }
        let sweep = Sweep(key: key, values: (0..<count).map { from + Double($0) * step })
        var probe = EngineConfiguration()
        try sweep.apply(from, to: &probe)
        return sweep
    }

    /// Sets the key to `value` in `configuration`.
    public func apply(_ value: Double, to configuration: inout EngineConfiguration) throws(SweepError) {
        let path = key.split(separator: ".").map(String.init)
        switch (path.first, path.count) {
        case ("rules", 3):
            guard Self.ruleKeys.contains(path[2]) else {
                throw SweepError("rules.\(path[1]).\(path[2]): not a swept rule key; one of \(Self.ruleKeys.joined(separator: ", "))")
            }
            let names = path[1] == "*" ? Array(configuration.rules.keys) : [path[1]]
            guard path[1] == "*" || configuration.rules[path[1]] != nil else {
                throw SweepError("rules.\(path[1]): the configuration has no rule for this feature")
            }
            for name in names { Self.set(path[2], value, in: &configuration.rules[name]!) }
        case ("composite", 3):
            guard Self.compositeKeys.contains(path[2]) else {
                throw SweepError("composite.\(path[1]).\(path[2]): not a swept composite key; one of \(Self.compositeKeys.joined(separator: ", "))")
            }
            let indices = configuration.composites.indices.filter { path[1] == "*" || configuration.composites[$0].name == path[1] }
            guard !indices.isEmpty else { throw SweepError("composite.\(path[1]): no such composite rule") }
            for i in indices {
                switch path[2] {
                case "alpha":
                    guard value > 0 && value < 1 else { throw SweepError("composite alpha must be in (0, 1), not \(value)") }
                    configuration.composites[i].alpha = value
                case "clip":
                    guard value > 0 else { throw SweepError("composite clip must be above 0, not \(value)") }
                    configuration.composites[i].clip = value
                case "span_days":
                    configuration.composites[i].span = max(1, Int(value.rounded()))
                default:
                    configuration.composites[i].minFeatures = Int(value.rounded())
                }
            }
        case ("baseline", 2) where path[1] == "window_days":
            configuration.baseline.windowDays = max(2, Int(value.rounded()))
        case ("baseline", 2) where path[1] == "min_history_days":
            configuration.baseline.minHistoryDays = max(1, Int(value.rounded()))
        default:
            throw SweepError("\(key): not a key that can be swept (rules.NAME.KEY, rules.*.KEY, composite.NAME.KEY, baseline.window_days, baseline.min_history_days)")
        }
    }

    static func set(_ key: String, _ value: Double, in rule: inout RuleSettings) {
        switch key {
        case "threshold": rule.threshold = value
        case "cusum_h": rule.cusumH = value
        case "cusum_k": if rule.cusumK != nil { rule.cusumK = value }
        case "floor_abs": rule.floorAbsolute = value
        case "floor_rel": rule.floorRelative = value
        case "resolve_below": rule.resolveBelow = value
        default: rule.cooldownPeriods = Int(value.rounded())
        }
    }
}

/// A sweep that cannot be read or applied, with why.
public struct SweepError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
