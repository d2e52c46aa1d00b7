/// What a report of one person draws: each daily feature's values with the baseline each was judged
/// against (centre and scale) and its z, the rule's threshold and direction, what is open now, and
/// the alerts of the period (filled in by the caller, who holds them). Codable, so the running daemon
/// can hand it over its control socket.
public struct ReportData: Sendable, Codable, Equatable {
    /// One judged period: its start (epoch seconds), the value, and the baseline it was judged against
    /// (nil while the history was too short to judge).
    public struct Point: Sendable, Codable, Equatable {
        public var start: Double
        public var value: Double
        public var centre: Double?
        public var scale: Double?
        public var z: Double?

        public init(start: Double, value: Double, centre: Double?, scale: Double?, z: Double?) {
            self.start = start
            self.value = value
            self.centre = centre
            self.scale = scale
            self.z = z
        }
    }

    /// One feature of the person, oldest point first.
    public struct Series: Sendable, Codable, Equatable {
        public var name: String
        public var label: String
        public var unit: FeatureUnit
        public var stream: Stream
        /// Sleep features estimated from activity (no `sleep` stream).
        public var estimated: Bool
        /// The threshold rule's |z| bound and direction (nil: no rule on this feature).
        public var threshold: Double?
        public var direction: String?
        /// Excursions alerted on and not resolved ("threshold low").
        public var open: [String]
        public var points: [Point]
    }

    public var subject: String
    /// The subject's time zone (its days are local days there).
    public var zone: String
    public var streams: [BaselineReport.StreamState]
    public var series: [Series]
    /// The period's alerts and `resolved` events, oldest first.
    public var alerts: [Alert]

    /// The series' points replaced by what was observed as the engine judged (a replay's complete
    /// record, where the engine's state keeps only its baseline window); raw metrics gain a series.
    public mutating func replacePoints(with observations: [Observation]) {
        var byMetric: [String: [Point]] = [:]
        for o in observations where o.subject == subject {
            let d = o.deviation
            byMetric[o.metric, default: []].append(Point(start: o.timestamp, value: d.value, centre: d.centre, scale: d.scale, z: d.z))
        }
        for i in series.indices {
            if let points = byMetric.removeValue(forKey: series[i].name) { series[i].points = points.sorted { $0.start < $1.start } }
        }
    }

    /// Points within [from, to) only.
    public mutating func restrict(from: Double, to: Double) {
        for i in series.indices { series[i].points.removeAll { $0.start < from || $0.start >= to } }
        alerts.removeAll { $0.periodStart < from || $0.periodStart >= to }
    }
}

extension CanaryEngine {
    /// `subject`'s daily features as the engine holds them (the days of its baseline window): each day's
    /// value, and the baseline it was judged against: kept with the history for every day it holds
    /// (`SeriesState.recordJudgement`); for a state saved before that was kept, judged again from the
    /// history before the day when the whole window is still held, else the value only. Nil when
    /// the engine holds nothing of the subject. Alerts are left to the caller.
    public func reportData(subject: String) -> ReportData? {
        guard var state = subjects[subject] else { return nil }
        let c = configuration
        let report = BaselineReport.make(subject: subject, state: &state, configuration: c, feature: nil, last: 0)
        var series: [ReportData.Series] = []
        for s in report.series where s.kind == "day" {
            guard let held = state.series[s.name] else { continue }
            let builtIn = Feature.builtIn(named: s.name)
            let feature = builtIn ?? Feature.metric(s.name)
            let rule = builtIn == nil ? c.metricSettings(s.name).rule : c.rules[s.name]
            let judge = BaselineReport.judgement(series: held, feature: feature, rule: rule, configuration: c, hourly: false)
            let z = Dictionary(held.judged.entries.map { ($0.period, $0.value) }, uniquingKeysWith: { $1 })
            let centre = Dictionary(held.judgedCentre.entries.map { ($0.period, $0.value) }, uniquingKeysWith: { $1 })
            let scale = Dictionary(held.judgedScale.entries.map { ($0.period, $0.value) }, uniquingKeysWith: { $1 })
            let fullFrom = (held.history.entries.first?.period ?? 0) + c.baseline.windowDays
            let points = held.history.entries.map { e in
                let start = state.clock.startOfDay(e.period)
                if let z = z[e.period], let centre = centre[e.period], let scale = scale[e.period] {
                    return ReportData.Point(start: start, value: e.value, centre: centre, scale: scale, z: z)
                }
                let d = e.period >= fullFrom && !c.baseline.calibrate ? judge(e.value, e.period) : nil
                return ReportData.Point(start: start, value: e.value, centre: d?.centre, scale: d?.scale, z: d?.z)
            }
            series.append(ReportData.Series(name: s.name, label: s.label, unit: s.unit, stream: s.stream, estimated: s.estimated,
                                            threshold: s.rule?.threshold, direction: s.rule?.direction, open: s.rule?.open ?? [],
                                            points: points))
        }
        return ReportData(subject: subject, zone: zone(for: subject).identifier, streams: report.streams, series: series, alerts: [])
    }
}
