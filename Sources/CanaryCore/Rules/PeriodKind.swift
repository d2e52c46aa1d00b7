/// The granularity a series is evaluated at.
public enum PeriodKind: Sendable, Equatable {
    /// Local calendar days (index = days since 1970-01-01 on the subject's calendar).
    case day
    /// Hours (index = hours since the epoch).
    case hour
    /// Individual observations (index = running observation number).
    case instant
}
