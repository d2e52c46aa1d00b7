import CanaryCore

/// What the engine made of one submitted batch: rows for days already evaluated, and rows it refused
/// for a bound (by their index in the batch, so the connection can name their lines).
public struct BatchOutcome: Sendable {
    /// One refused record: its position in the batch and why.
    public struct Refused: Sendable {
        public var index: Int
        public var refusal: IngestRefusal
    }

    public var late = 0
    /// The batch's first late row: its index, and its subject's oldest period still open.
    public var firstLate: (index: Int, openSince: String)?
    /// Raw samples not newer than their series' latest (resent or repeated), not evaluated again.
    public var duplicate = 0
    public var refused: [Refused] = []
}
