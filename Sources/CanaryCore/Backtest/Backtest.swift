import Foundation

/// Scores the alerts of a replay against labelled episodes: which episodes were flagged and how soon,
/// and how often the configuration alerts outside them (false alerts per 100 person-days).
///
/// Definitions (also in the README):
/// - A subject's days run from the local day of its first row to that of its last; the first
///   `warmupDays` of them are warm-up (no baseline yet) and count for nothing.
/// - An episode is detected when a `deviation` or `composite` alert of its subject falls on a day from
///   its start to its end plus `graceDays`; the delay is the first such day minus the start (0: the
///   first day).
/// - Any other `deviation` or `composite` alert after warm-up is false. Person-days are the days after
///   warm-up outside every episode window (episode plus grace), where a false alert can happen.
/// - `resolved` and `gap` alerts are neither: they are counted apart.
public struct Backtest: Sendable {
    public var episodes: [Episode]
    public var warmupDays: Int
    public var graceDays: Int

    public init(episodes: [Episode], warmupDays: Int, graceDays: Int) {
        self.episodes = episodes
        self.warmupDays = warmupDays
        self.graceDays = graceDays
    }

    /// One alert reduced to what scoring needs.
    public struct Flag: Sendable, Equatable {
        public var subject: String
        public var day: Int
        public var kind: AlertKind
        public var rule: String

        public init(subject: String, day: Int, kind: AlertKind, rule: String) {
            self.subject = subject
            self.day = day
            self.kind = kind
            self.rule = rule
        }
    }

    /// What happened to one episode.
    public struct Outcome: Sendable, Equatable {
        public var episode: Episode
        public var detected: Bool
        /// Days from the episode's start to its first alert.
        public var delay: Int?
        public var firstRule: String?
        /// The subject has no data on the episode's days at all (it cannot be scored).
        public var unobserved: Bool
    }

    /// Counts of one group of episodes (a label, or all).
    public struct Rate: Sendable, Equatable {
        public var detected: Int
        public var total: Int
        public var rate: Double { total > 0 ? Double(detected) / Double(total) : 0 }
        /// Wilson score interval at 95 %.
        public var interval: ClosedRange<Double> { Backtest.wilson(detected, total) }
    }

    /// One rule's alerts: inside an episode window, and outside (false).
    public struct RuleCount: Sendable, Equatable {
        public var inEpisodes = 0
        public var outside = 0
    }

    /// The scores of a configuration.
    public struct Report: Sendable, Equatable {
        public var outcomes: [Outcome]
        public var detection: Rate
        public var byLabel: [String: Rate]
        public var medianDelay: Double?
        public var meanDelay: Double?
        public var falseAlerts: Int
        public var personDays: Int
        public var falsePer100: Double { personDays > 0 ? 100 * Double(falseAlerts) / Double(personDays) : 0 }
        /// Every deviation and composite alert after warm-up, per 100 person-days after warm-up.
        public var alertLoad: Double
        public var resolved: Int
        public var gaps: Int
        public var rules: [String: RuleCount]
        public var subjects: Int
    }

    /// Scores `flags` given each subject's first and last day of data.
    public func score(flags: [Flag], spans: [String: ClosedRange<Int>]) -> Report {
        let bySubject = Dictionary(grouping: episodes, by: \.subject)
        func window(_ e: Episode) -> ClosedRange<Int> { e.start...(e.end + graceDays) }
        func inEpisode(_ subject: String, _ day: Int) -> Bool {
            bySubject[subject]?.contains { window($0).contains(day) } ?? false
        }
        func afterWarmup(_ subject: String, _ day: Int) -> Bool {
            guard let span = spans[subject] else { return false }
            return day >= span.lowerBound + warmupDays && day <= span.upperBound
        }

        var outcomes: [Outcome] = []
        for e in episodes {
            let hits = flags.filter { ($0.kind == .deviation || $0.kind == .composite) && $0.subject == e.subject && window(e).contains($0.day) }
                .sorted { ($0.day, $0.rule) < ($1.day, $1.rule) }
            let observed = spans[e.subject].map { $0.overlaps(e.start...e.end) } ?? false
            outcomes.append(Outcome(episode: e, detected: !hits.isEmpty, delay: hits.first.map { $0.day - e.start },
                                    firstRule: hits.first?.rule, unobserved: !observed))
        }
        let scored = outcomes.filter { !$0.unobserved }
        let detection = Rate(detected: scored.filter(\.detected).count, total: scored.count)
        var byLabel: [String: Rate] = [:]
        for o in scored {
            byLabel[o.episode.label, default: Rate(detected: 0, total: 0)].total += 1
            if o.detected { byLabel[o.episode.label]!.detected += 1 }
        }
        let delays = scored.compactMap(\.delay).map(Double.init).sorted()

        var personDays = 0
        var allDays = 0
        for (subject, span) in spans {
            let first = span.lowerBound + warmupDays
            guard first <= span.upperBound else { continue }
            allDays += span.upperBound - first + 1
            personDays += (first...span.upperBound).filter { !inEpisode(subject, $0) }.count
        }
        var falseAlerts = 0
        var load = 0
        var rules: [String: RuleCount] = [:]
        var resolved = 0
        var gaps = 0
        for f in flags {
            switch f.kind {
            case .resolved: resolved += 1
            case .gap: gaps += 1
            case .deviation, .composite:
                let inside = inEpisode(f.subject, f.day)
                if inside {
                    rules[f.rule, default: RuleCount()].inEpisodes += 1
                } else if afterWarmup(f.subject, f.day) {
                    rules[f.rule, default: RuleCount()].outside += 1
                    falseAlerts += 1
                }
                if afterWarmup(f.subject, f.day) { load += 1 }
            }
        }
        return Report(outcomes: outcomes, detection: detection, byLabel: byLabel,
                      medianDelay: Self.median(delays), meanDelay: delays.isEmpty ? nil : delays.reduce(0, +) / Double(delays.count),
                      falseAlerts: falseAlerts, personDays: personDays,
                      alertLoad: allDays > 0 ? 100 * Double(load) / Double(allDays) : 0,
                      resolved: resolved, gaps: gaps, rules: rules, subjects: spans.count)
    }

    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// Wilson score interval for `k` successes of `n` at 95 % (z = 1.96).
    public static func wilson(_ k: Int, _ n: Int) -> ClosedRange<Double> {
        guard n > 0 else { return 0...1 }
        let z = 1.959_963_984_540_054
        let p = Double(k) / Double(n)
        let nn = Double(n)
        let denominator = 1 + z * z / nn
        let centre = (p + z * z / (2 * nn)) / denominator
        let half = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot() / denominator
        return max(0, centre - half)...min(1, centre + half)
    }
}
