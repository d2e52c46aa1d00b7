import CanaryCore
import Foundation
import TOMLKit

/// The whole configuration of canaryd and canaryctl, read from one TOML file.
///
/// Loading either succeeds completely or fails with a `ConfigError` naming the key, so a
/// reload can refuse a bad file and keep the old configuration.
public struct CanaryConfiguration: Sendable, Equatable {
    public var engine: EngineConfiguration
    public var daemon: DaemonSettings
    /// Keys that are still read but no longer do anything, with what to do instead (logged at start).
    public var deprecations: [String] = []

    public init(engine: EngineConfiguration = EngineConfiguration(), daemon: DaemonSettings = DaemonSettings()) {
        self.engine = engine
        self.daemon = daemon
    }

    /// Reads and validates the file at `path`.
    public static func load(path: String) throws(ConfigError) -> CanaryConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text)
    }

    /// Parses TOML text; every key is optional and falls back to the documented default.
    public static func parse(_ text: String) throws(ConfigError) -> CanaryConfiguration {
        // TOMLKit's parser aborts the process on a few malformed inputs instead of failing: refuse those first.
        if let found = TOMLPreflight.firstAbortingConstruct(text) {
            throw ConfigError(key: "", "TOML syntax error at line \(found.line): \(found.reason)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(key: "", "TOML syntax error at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigError(key: "", "TOML syntax error: \(error)")
        }
        var root = TableReader(table, path: "")
        var engine = EngineConfiguration()
        var deprecations: [String] = []

        if var t = try root.subtable("engine") {
            if let tz = try t.string("timezone") { engine.zones.defaultZone = try zone(tz, key: t.key("timezone")) }
            if let v = try t.duration("close_delay", in: 0...7 * day) { engine.closeDelaySeconds = v }
            if let v = try t.duration("max_lateness", in: 0...30 * day) { engine.maxLatenessSeconds = v }
            if let v = try t.duration("max_future", in: 0...366 * day) { engine.maxFutureSeconds = v }
            if let v = try t.duration("max_past", in: day...36_500 * day) { engine.maxPastSeconds = v }
            if let v = try t.int("max_subjects", in: 1...100_000_000) { engine.maxSubjects = v }
            if let v = try t.int("max_metrics_per_subject", in: 1...1_000_000) { engine.maxMetricsPerSubject = v }
            try t.finish()
        }
        if var t = try root.subtable("baseline") {
            if let v = try t.int("window_days", in: 2...3650) { engine.baseline.windowDays = v }
            if let v = try t.int("min_history_days", in: 1...3650) { engine.baseline.minHistoryDays = v }
            if let v = try t.bool("weekday_adjust") { engine.baseline.weekdayAdjust = v }
            if let v = try t.int("weekday_min_samples", in: 1...520) { engine.baseline.weekdayMinSamples = v }
            if let v = try t.bool("calibrate") { engine.baseline.calibrate = v }
            try t.finish()
            if engine.baseline.minHistoryDays > engine.baseline.windowDays {
                throw ConfigError(key: "baseline.min_history_days", "must not exceed baseline.window_days (\(engine.baseline.windowDays))")
            }
        }
        if var t = try root.subtable("sleep") {
            if let v = try t.nonNegativeDouble("min_main_sleep_min", max: 36 * 60) { engine.sleep.minMainSleepMinutes = v }
            try t.finish()
        }
        if var t = try root.subtable("activity") {
            if let v = try t.nonNegativeDouble("active_threshold", max: ValueLimits.maximumActivityCount) { engine.activity.activeThreshold = v }
            if let v = try t.nonNegativeDouble("sedentary_threshold", max: ValueLimits.maximumActivityCount) { engine.activity.sedentaryThreshold = v }
            if let v = try t.int("non_wear_min", in: 1...1440) { engine.activity.nonWearMinutes = v }
            if let v = try t.int("non_wear_tolerance_min", in: 0...1440) { engine.activity.nonWearTolerance = v }
            if let v = try t.int("non_wear_window_min", in: 0...1440) { engine.activity.nonWearWindow = v }
            if let v = try t.nonNegativeDouble("non_wear_floor", max: ValueLimits.maximumActivityCount) { engine.activity.nonWearFloor = v }
            if let v = try t.int("min_wear_min", in: 0...1440) { engine.activity.minWearMinutes = v }
            if let v = try t.positiveDouble("max_count", max: ValueLimits.maximumActivityCount) { engine.activity.maxCount = v }
            if let v = try t.bool("estimate_sleep") { engine.activity.estimateSleep = v }
            if let v = try t.positiveDouble("sleep_count_divisor", max: 1e6) { engine.activity.sleepCountDivisor = v }
            if let v = try t.int("rest_bridge_min", in: 0...720) { engine.activity.restBridgeMinutes = v }
            if let v = try t.int("rest_max_non_wear_min", in: 0...1440) { engine.activity.restMaxNonWearMinutes = v }
            if let v = try t.int("rest_max_min", in: 60...2160) { engine.activity.restMaxMinutes = v }
            if let v = try t.nonNegativeDouble("rhythm_threshold", max: ValueLimits.maximumActivityCount) { engine.activity.rhythmThreshold = v }
            if let v = try t.int("rhythm_window_days", in: 2...28) { engine.activity.rhythmWindowDays = v }
            if let v = try t.int("rhythm_min_days", in: 2...28) { engine.activity.rhythmMinDays = v }
            try t.finish()
            if engine.activity.rhythmMinDays > engine.activity.rhythmWindowDays {
                throw ConfigError(key: "activity.rhythm_min_days", "must not exceed activity.rhythm_window_days (\(engine.activity.rhythmWindowDays))")
            }
        }
        if var t = try root.subtable("typing") {
            if let v = try t.duration("session_gap", in: 0...day) { engine.typing.sessionGapSeconds = v }
            if let v = try t.positiveDouble("max_flight_ms", max: ValueLimits.maximumFlightMilliseconds) { engine.typing.maxFlightMilliseconds = v }
            if let v = try t.int("min_keystrokes", in: 1...1_000_000) { engine.typing.minKeystrokes = v }
            if let v = try t.int("late_night_end_hour", in: 0...12) {
                engine.typing.lateNightEndHour = v
            }
            try t.finish()
        }
        if var t = try root.subtable("gaps") {
            for stream in CanaryCore.Stream.allCases {
                if t.isOff(stream.rawValue) {
                    _ = t.value(stream.rawValue)
                    engine.gapSeconds[stream] = nil
                } else if let v = try t.duration(stream.rawValue, in: 0...366 * day) {
                    engine.gapSeconds[stream] = v
                }
            }
            try t.finish()
        }
        if var t = try root.subtable("rules") {
            for name in t.table.keys.sorted() {
                guard Feature.builtIn(named: name) != nil else {
                    throw ConfigError(key: "rules.\(name)", "unknown feature; expected one of: "
                        + Feature.builtIn.map(\.name).joined(separator: ", ") + " (samples metrics go under [metrics.NAME])")
                }
                guard var r = try t.subtable(name) else { continue }
                if r.isOff("enabled") {
                    _ = r.value("enabled")
                    engine.rules[name] = nil
                    try r.finish()
                    continue
                }
                engine.rules[name] = try rule(&r, base: engine.rules[name] ?? RuleSettings())
                try r.finish(known: ruleKeys)
            }
        }
        if var t = try root.subtable("metrics") {
            if var d = try t.subtable("default") {
                engine.defaultMetric = try metric(&d, base: MetricSettings())
            }
            for name in t.table.keys.sorted() where name != "default" {
                guard var m = try t.subtable(name) else { continue }
                engine.metrics[name] = try metric(&m, base: engine.defaultMetric)
            }
        }
        if var t = try root.subtable("composite") {
            engine.composites = []
            for name in t.table.keys.sorted() {
                guard var c = try t.subtable(name) else { continue }
                // A disabled composite is skipped whole, whatever else its table says.
                if c.isOff("enabled") { continue }
                _ = try c.bool("enabled")
                guard let features = try c.strings("features"), !features.isEmpty else {
                    throw ConfigError(key: c.key("features"), "a composite rule needs a list of features")
                }
                var s = CompositeSettings(name: name, features: features)
                if let v = try c.double("alpha", in: 0...1, excludingLower: true) {
                    guard v < 1 else { throw ConfigError(key: c.key("alpha"), "expected a probability above 0 and below 1") }
                    s.alpha = v
                }
                if let v = try c.int("min_features", in: 1...100) { s.minFeatures = v }
                if let (k, n) = try persistence(&c) { s.persistenceK = k; s.persistenceN = n }
                if let v = try c.int("cooldown", in: 0...3650) { s.cooldownPeriods = v }
                if let v = try c.bool("covariance") { s.covariance = v }
                if let v = try c.int("min_history_days", in: 1...3650) { s.minHistory = v }
                if let v = try c.positiveDouble("clip", max: 1000) { s.clip = v }
                if let v = try c.int("span_days", in: 1...60) { s.span = v }
                try c.finish(known: ["enabled", "features", "alpha", "min_features", "persistence", "cooldown", "covariance",
                                     "min_history_days", "clip", "span_days"])
                engine.composites.append(s)
            }
        }
        if var t = try root.subtable("subjects") {
            for id in t.table.keys.sorted() {
                do throws(ConfigError) {
                    guard var s = try t.subtable(id) else { continue }
                    if let tz = try s.string("timezone") { engine.zones.subjects[id] = try zone(tz, key: s.key("timezone")) }
                    try s.finish(known: ["timezone"])
                } catch {
                    throw error.naming(subject: id)
                }
            }
        }
        var daemon = DaemonSettings()
        if var t = try root.subtable("daemon") {
            if let v = try t.string("socket") {
                guard !v.isEmpty else { throw ConfigError(key: "daemon.socket", "expected a path") }
                daemon.socketPath = v
            }
            if let v = try t.string("socket_mode") {
                guard let mode = UInt16(v, radix: 8), mode <= 0o777 else {
                    throw ConfigError(key: "daemon.socket_mode", "expected octal permission bits such as \"0660\"")
                }
                daemon.socketMode = mode
            }
            if let v = try t.strings("allow_users") { daemon.allowUsers = v }
            if let v = try t.strings("allow_groups") { daemon.allowGroups = v }
            if let v = try t.int("max_line_bytes", in: 256...(16 << 20)) { daemon.maxLineBytes = v }
            if let v = try t.int("max_connections", in: 1...1_000_000) { daemon.maxConnections = v }
            if let v = try t.int("max_subjects_per_connection", in: 1...100_000_000) { daemon.maxSubjectsPerConnection = v }
            if t.isOff("idle_timeout") {
                _ = t.value("idle_timeout")
                daemon.idleTimeoutSeconds = nil
            } else if let v = try t.duration("idle_timeout", in: 1...(7 * day)) {
                daemon.idleTimeoutSeconds = v
            }
            if let v = try t.choice("journal", JournalMode.self, allowed: ["auto", "on", "off"]) { daemon.journal = v.rawValue }
            if let v = try t.string("alert_log") { daemon.alertLog = v.isEmpty ? nil : v }
            if let v = try t.duration("status_interval", in: 0...day) { daemon.statusIntervalSeconds = max(1, v) }
            if let v = try t.duration("drain_timeout", in: 0...12) {
                daemon.drainTimeoutSeconds = v
            }
            if let v = try t.string("control_socket") {
                guard !v.isEmpty else { throw ConfigError(key: "daemon.control_socket", "expected a path") }
                daemon.controlSocketPath = v
            }
            if let v = try t.strings("admin_groups") { daemon.adminGroups = v }
            if try t.duration("settle", in: 0...day) != nil {
                deprecations.append("daemon.settle has no effect any more: days close by event time, per stream "
                                    + "(engine.close_delay), and a quiet stream's after engine.max_lateness; remove the key")
            }
            if let v = try t.duration("max_close_interval", in: 0...day) { daemon.maxCloseIntervalSeconds = max(1, v) }
            if t.isOff("progress_interval") {
                _ = t.value("progress_interval")
                daemon.progressIntervalSeconds = nil
            } else if let v = try t.duration("progress_interval", in: 0...3600) {
                daemon.progressIntervalSeconds = max(0.05, v)
            }
            try t.finish()
        }
        if var t = try root.subtable("state") {
            if let v = try t.string("path") {
                guard !v.isEmpty else { throw ConfigError(key: "state.path", "expected a path") }
                daemon.statePath = v
            }
            if let v = try t.duration("snapshot_interval", in: 0...day) { daemon.snapshotIntervalSeconds = max(1, v) }
            if let v = try t.duration("alert_commit_interval", in: 0...60) { daemon.alertCommitSeconds = v }
            if let v = try t.duration("retention", in: day...36_500 * day) {
                engine.retentionDays = Int(v / 86_400)
            }
            try t.finish()
        }
        if var t = try root.subtable("privacy") {
            if let v = try t.choice("journal_subject", SubjectLabel.self, allowed: ["token", "raw"]) { daemon.journalSubject = v.rawValue }
            if let v = try t.string("key_file") {
                guard !v.isEmpty else { throw ConfigError(key: "privacy.key_file", "expected a path") }
                daemon.pseudonymKeyPath = v
            }
            try t.finish()
        }
        if var t = try root.subtable("consent") {
            for var g in try t.tables("grant") ?? [] {
                guard let subject = try g.string("subject"), !subject.isEmpty else {
                    throw ConfigError(key: g.key("subject"), "a seeded grant names its subject")
                }
                guard let names = try g.strings("scopes"), !names.isEmpty else {
                    throw ConfigError(key: g.key("scopes"), "expected a list of scopes: \(ConsentScope.help)")
                }
                var scopes: [ConsentScope] = []
                for n in names {
                    guard let s = ConsentScope(n) else { throw ConfigError(key: g.key("scopes"), "unknown scope \"\(n)\"; expected \(ConsentScope.help)") }
                    scopes.append(s)
                }
                guard let reference = try g.string("reference"), !reference.isEmpty else {
                    throw ConfigError(key: g.key("reference"), "a seeded grant names its consent reference (e.g. the form id)")
                }
                var expires: Double?
                if let e = try g.string("expires") {
                    guard let t = Self.instant(e) else { throw ConfigError(key: g.key("expires"), "expected an RFC 3339 time such as 2027-01-01T00:00:00Z") }
                    expires = t
                }
                try g.finish(known: ["subject", "scopes", "reference", "expires"])
                daemon.consentSeeds.append(ConsentSeed(subject: subject, scopes: scopes, reference: reference, expiresAt: expires))
            }
            try t.finish(known: ["grant"])
        }
        if var t = try root.subtable("delivery") {
            if let v = try t.int("max_concurrent", in: 1...1024) { daemon.maxConcurrentDeliveries = v }
            try t.finish()
        }
        if var t = try root.subtable("webhooks") {
            for name in t.table.keys.sorted() {
                guard var w = try t.subtable(name) else { continue }
                daemon.webhooks.append(try WebhookSettings.parse(&w, name: name))
            }
        }
        try root.finish(known: ["daemon", "state", "privacy", "consent", "delivery", "webhooks", "engine", "baseline", "sleep", "activity", "typing", "gaps", "rules", "metrics", "composite", "subjects"])
        var configuration = CanaryConfiguration(engine: engine, daemon: daemon)
        configuration.deprecations = deprecations
        return configuration
    }

    enum JournalMode: String { case auto, on, off }
    private static let day = 86_400.0
    private static let maxPersistence = 1000
    enum SubjectLabel: String { case token, raw }

    static let ruleKeys = ["enabled", "direction", "threshold", "persistence", "cooldown", "resolve_below", "episodes",
                           "cusum", "cusum_k", "cusum_h", "cusum_clip", "floor_abs", "floor_rel"]

    private static func rule(_ r: inout TableReader, base: RuleSettings) throws(ConfigError) -> RuleSettings {
        var s = base
        _ = try r.bool("enabled")
        if let v = try r.choice("direction", Direction.self, allowed: ["low", "high", "both"]) { s.direction = v }
        if let v = try r.positiveDouble("threshold", max: 1000) { s.threshold = v }
        if let (k, n) = try persistence(&r) { s.persistenceK = k; s.persistenceN = n }
        if let v = try r.int("cooldown", in: 0...100_000) { s.cooldownPeriods = v }
        if let v = try r.nonNegativeDouble("resolve_below", max: 1000) { s.resolveBelow = v }
        if let v = try r.bool("episodes") { s.episodes = v }
        if let v = try r.bool("cusum"), !v { s.cusumK = nil }
        if let v = try r.nonNegativeDouble("cusum_k", max: 1000) { s.cusumK = v }
        if let v = try r.positiveDouble("cusum_h", max: 1_000_000) { s.cusumH = v }
        if let v = try r.positiveDouble("cusum_clip", max: 1000) { s.cusumClip = v }
        if let v = try r.nonNegativeDouble("floor_abs", max: ValueLimits.maximumMagnitude) { s.floorAbsolute = v }
        if let v = try r.nonNegativeDouble("floor_rel", max: 1000) { s.floorRelative = v }
        if s.resolveBelow > s.threshold {
            throw ConfigError(key: r.key("resolve_below"), "must not exceed threshold (\(s.threshold)), or an alert could never resolve inside its band")
        }
        return s
    }

    /// `persistence = "3/4"` (k of n) or a single whole number k (k of k).
    private static func persistence(_ r: inout TableReader) throws(ConfigError) -> (Int, Int)? {
        guard let v = r.value("persistence") else { return nil }
        if let k = v.int, (1...maxPersistence).contains(k) { return (k, k) }
        if let s = v.string {
            let parts = s.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if parts.count == 2, let k = parts[0], let n = parts[1], k >= 1, n >= k, n <= maxPersistence { return (k, n) }
        }
        throw ConfigError(key: r.key("persistence"),
                          "expected \"k/n\" with 1 <= k <= n <= \(maxPersistence) (k of the last n periods), or a whole number k up to \(maxPersistence)")
    }

    private static func metric(_ m: inout TableReader, base: MetricSettings) throws(ConfigError) -> MetricSettings {
        var s = base
        if let v = try m.choice("mode", MetricSettings.Mode.self, allowed: ["raw", "hour", "day"]), v != base.mode {
            // Another mode than the one inherited: that mode's defaults, key by key, for every key not set
            // here (a raw metric's rule is per observation: threshold 4, persistence 1, no CUSUM, no cooldown).
            s.mode = v
            s.baseline = v == .raw ? .ewma : .robust
            s.rule = MetricSettings.defaultRule(for: v)
        }
        if let v = try m.choice("aggregate", MetricSettings.Aggregate.self, allowed: ["mean", "sum", "median", "min", "max"]) { s.aggregate = v }
        if let v = try m.choice("baseline", MetricSettings.BaselineKind.self, allowed: ["ewma", "robust", "rolling", "seasonal"]) { s.baseline = v }
        if s.mode == .raw && s.baseline == .robust {
            throw ConfigError(key: m.key("baseline"), "raw metrics use \"ewma\", \"rolling\" or \"seasonal\" (aggregate per hour or day for \"robust\")")
        }
        if s.mode != .raw && s.baseline != .robust {
            throw ConfigError(key: m.key("baseline"), "the \"\(s.baseline.rawValue)\" baseline is for mode = \"raw\"; aggregated metrics use \"robust\"")
        }
        if let v = try m.duration("window", in: 60...366 * 86_400) { s.windowSeconds = v }
        if let v = try m.int("window_slots", in: 8...4096) { s.windowSlots = v }
        if let v = try m.string("season") {
            guard v == "day" || v == "week" else { throw ConfigError(key: m.key("season"), "expected one of day, week, found \"\(v)\"") }
            s.seasonalPeriodHours = v == "day" ? 24 : 168
        }
        if let v = try m.int("season_cycles", in: 2...366) { s.seasonalCycles = v }
        if let v = try m.int("season_min_cycles", in: 1...366) { s.seasonalMinimum = v }
        if let v = try m.bool("likelihood") { s.likelihood = v }
        if let v = try m.int("likelihood_short", in: 1...10_000) { s.likelihoodShort = v }
        if let v = try m.int("likelihood_long", in: 10...10_000_000) { s.likelihoodLong = v }
        if s.seasonalMinimum > s.seasonalCycles {
            throw ConfigError(key: m.key("season_min_cycles"), "must not exceed season_cycles (\(s.seasonalCycles))")
        }
        if s.likelihood && s.mode != .raw {
            throw ConfigError(key: m.key("likelihood"), "the anomaly likelihood is for mode = \"raw\"")
        }
        if let v = try m.double("alpha", in: 0...1, excludingLower: true) {
            guard v < 1 else { throw ConfigError(key: m.key("alpha"), "expected a smoothing factor above 0 and below 1") }
            s.alpha = v
        }
        if let v = try m.int("warmup", in: 1...1_000_000) { s.warmup = v }
        if let v = try m.int("min_observations", in: 1...1_000_000) { s.minObservations = v }
        let bound = -ValueLimits.maximumMagnitude...ValueLimits.maximumMagnitude
        let lower = try m.double("min", in: bound) ?? s.range.lowerBound
        let upper = try m.double("max", in: bound) ?? s.range.upperBound
        guard lower < upper else { throw ConfigError(key: m.key("max"), "must be above min (\(TableReader.format(lower)))") }
        s.range = lower...upper
        if m.isOff("rule") {
            _ = m.value("rule")
            s.rule = nil
        } else if var r = try m.subtable("rule") {
            s.rule = try rule(&r, base: s.rule ?? MetricSettings.defaultRule(for: s.mode))
            try r.finish(known: ruleKeys)
        }
        try m.finish(known: ["mode", "aggregate", "baseline", "alpha", "warmup", "min_observations", "min", "max", "rule",
                             "window", "window_slots", "season", "season_cycles", "season_min_cycles",
                             "likelihood", "likelihood_short", "likelihood_long"])
        return s
    }

    /// An RFC 3339 instant with an offset.
    static func instant(_ text: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)?.timeIntervalSince1970
    }

    private static func zone(_ id: String, key: String) throws(ConfigError) -> TimeZone {
        guard let z = TimeZone(identifier: id) else {
            throw ConfigError(key: key, "unknown time zone \"\(id)\"; use an IANA name such as Europe/Oslo or UTC")
        }
        return z
    }
}
