/// The raw material of one local day for one subject, held until the day closes.
///
/// Keyed collections make exact duplicates idempotent: the same sleep session, epoch or key event
/// sent twice counts once.
struct DayBucket: Sendable, Codable {
    var sleep: Set<SleepRecord> = []
    /// Activity epochs: instant → count.
    var activity: [Double: Double] = [:]
    var typing: Set<TypingRecord> = []
    /// Day-aggregated sample metrics: metric → instant → value.
    var samples: [String: [Double: Double]] = [:]

    var isEmpty: Bool { sleep.isEmpty && activity.isEmpty && typing.isEmpty && samples.isEmpty }
}
