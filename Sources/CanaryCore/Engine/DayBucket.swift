/// The raw material of one local day for one subject, held until the day closes.
///
/// Keyed collections make exact duplicates idempotent: the same sleep session, epoch or key event
/// sent twice counts once.
struct DayBucket: Sendable, Codable {
    var sleep: Set<SleepRecord> = []
    /// Activity epochs: instant → count, a slot per minute (`MinuteEpochs`).
    var activity = MinuteEpochs()
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
        case .activity: activity = MinuteEpochs()
        case .typing: typing = []
        case .samples: samples = [:]
        }
    }
}

/// One fixed order for the rows of a period, whatever order they arrived in (and whatever order a set or
/// dictionary of this process keeps them in): sums of floating-point values then come out the same to
/// the last bit, so a delivery's decisions equal a replay's.
enum CanonicalOrder {
    static func values(_ byInstant: [Double: Double]) -> [Double] {
        byInstant.sorted { $0.key < $1.key }.map(\.value)
    }

    static func sessions(_ set: Set<SleepRecord>) -> [SleepRecord] {
        set.sorted { a, b in
            (a.end, a.start, a.asleepMinutes ?? -1, a.awakeMinutes ?? -1, a.efficiency ?? -1)
                < (b.end, b.start, b.asleepMinutes ?? -1, b.awakeMinutes ?? -1, b.efficiency ?? -1)
        }
    }

    static func keystrokes(_ set: Set<TypingRecord>) -> [TypingRecord] {
        set.sorted { a, b in
            (a.timestamp, a.holdMilliseconds, a.flightMilliseconds, a.key.rawValue)
                < (b.timestamp, b.holdMilliseconds, b.flightMilliseconds, b.key.rawValue)
        }
    }
}
