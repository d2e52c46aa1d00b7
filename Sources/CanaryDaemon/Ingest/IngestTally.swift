import CanaryCore

/// What one connection's rows came to since its last tally, for the operator's metrics: rows accepted
/// (evaluated), late and duplicate by the engine's outcome, per format (a connection may carry several
/// sections), and rejections by reason. Counts only.
struct IngestTally: Sendable, Equatable {
    /// Evaluated rows of one format.
    struct Counts: Sendable, Equatable {
        var accepted = 0
        var late = 0
        var duplicate = 0
    }
    var byFormat: [InputFormat: Counts] = [:]
    /// The format the rejections are counted under (the section being read; nil before a header).
    var rejectedFormat: InputFormat?
    /// By reason: the `ERR` kind (`not-a-number`, `no-consent`, `too-many-subjects`, ...), or `bad-header`.
    var rejected: [String: Int] = [:]

    var isEmpty: Bool { byFormat.values.allSatisfy { $0 == Counts() } && rejected.isEmpty }

    /// One evaluated batch (all of one format; nil only for a batch of no rows).
    mutating func add(format: InputFormat?, accepted: Int, late: Int, duplicate: Int) {
        guard let format else { return }
        byFormat[format, default: Counts()].accepted += accepted
        byFormat[format, default: Counts()].late += late
        byFormat[format, default: Counts()].duplicate += duplicate
    }
}
