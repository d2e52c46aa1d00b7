import CanaryCore

/// What one connection's rows came to since its last tally, for the operator's metrics: rows accepted
/// (evaluated), late and duplicate by the engine's outcome, and rejections by reason. Counts only.
struct IngestTally: Sendable, Equatable {
    var format: InputFormat?
    var accepted = 0
    var late = 0
    var duplicate = 0
    /// By reason: the `ERR` kind (`not-a-number`, `no-consent`, `too-many-subjects`, ...), or `bad-header`.
    var rejected: [String: Int] = [:]

    var isEmpty: Bool { accepted == 0 && late == 0 && duplicate == 0 && rejected.isEmpty }
}
