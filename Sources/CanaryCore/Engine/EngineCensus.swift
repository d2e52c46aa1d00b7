/// How much the engine holds, for the operator's metrics: subjects, series (features and raw metrics),
/// and subject-days received but not yet evaluated. Counts only: nothing about who.
public struct EngineCensus: Sendable, Equatable {
    public var subjects = 0
    public var series = 0
    public var openDays = 0

    public init(subjects: Int = 0, series: Int = 0, openDays: Int = 0) {
        self.subjects = subjects
        self.series = series
        self.openDays = openDays
    }
}

extension CanaryEngine {
    /// Counts over every subject: O(subjects), for a scrape, not for the row path.
    public var census: EngineCensus {
        var c = EngineCensus(subjects: subjects.count)
        for state in subjects.values {
            c.series += state.series.count
            c.openDays += state.days.count
        }
        return c
    }
}
