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

extension DayBucket {
    /// Whether the bucket holds rows of `stream`.
    func has(_ stream: Stream) -> Bool {
        switch stream {
        case .sleep: !sleep.isEmpty
        case .activity: !activity.isEmpty
        case .typing: !typing.isEmpty
        case .samples: !samples.isEmpty
        }
    }

    /// Drops the rows of `stream` (its day closed; the other streams' rows wait for theirs).
    mutating func clear(_ stream: Stream) {
        switch stream {
        case .sleep: sleep = []
        case .activity: activity = [:]
        case .typing: typing = []
        case .samples: samples = [:]
        }
    }
}
