/// Why the engine refused a valid record: taking it would pass one of the bounds the configuration
/// sets on what one feeder can make canaryd hold. Nothing of a refused record is kept.
public enum IngestRefusal: Sendable, Equatable {
    /// The engine holds `engine.max_subjects` subjects and the record names another one.
    case tooManySubjects(limit: Int)
    /// The subject has `engine.max_metrics_per_subject` metric names and the record names another one.
    case tooManyMetrics(limit: Int)

    /// The row error a client hears for the record on `line`.
    public func rowError(line: Int) -> RowError {
        switch self {
        case .tooManySubjects(let limit):
            RowError(line: line, field: "subject", kind: .tooManySubjects,
                     reason: "canaryd already holds its limit of \(limit) subjects (engine.max_subjects); nothing of the row was kept")
        case .tooManyMetrics(let limit):
            RowError(line: line, field: "metric", kind: .tooManyMetrics,
                     reason: "the subject already has its limit of \(limit) metric names (engine.max_metrics_per_subject); nothing of the row was kept")
        }
    }

    /// The configuration key of the bound.
    public var key: String {
        switch self {
        case .tooManySubjects: "engine.max_subjects"
        case .tooManyMetrics: "engine.max_metrics_per_subject"
        }
    }
}
