/// One generic numeric observation (`samples` format).
public struct SampleRecord: Sendable, Equatable {
    public var timestamp: Double
    public var subject: String
    public var metric: String
    public var value: Double

    public init(timestamp: Double, subject: String, metric: String, value: Double) {
        self.timestamp = timestamp
        self.subject = subject
        self.metric = metric
        self.value = value
    }
}

/// One sleep session, main sleep or nap (`sleep` format). Times are epoch seconds.
public struct SleepRecord: Sendable, Hashable, Codable {
    public var subject: String
    public var start: Double
    public var end: Double
    /// Minutes asleep as the device reports them, when it does.
    public var asleepMinutes: Double?
    /// Minutes awake inside the session, when reported.
    public var awakeMinutes: Double?
    /// Asleep share of time in bed (0...1), when reported.
    public var efficiency: Double?

    public init(subject: String, start: Double, end: Double, asleepMinutes: Double? = nil,
                awakeMinutes: Double? = nil, efficiency: Double? = nil) {
        self.subject = subject
        self.start = start
        self.end = end
        self.asleepMinutes = asleepMinutes
        self.awakeMinutes = awakeMinutes
        self.efficiency = efficiency
    }

    /// Time in bed, in minutes.
    public var inBedMinutes: Double { (end - start) / 60 }

    /// Minutes asleep: the reported figure, else derived from awake minutes or efficiency, else time in bed.
    public var sleepMinutes: Double {
        if let asleepMinutes { return min(asleepMinutes, inBedMinutes) }
        if let awakeMinutes { return max(0, inBedMinutes - awakeMinutes) }
        if let efficiency { return inBedMinutes * efficiency }
        return inBedMinutes
    }
}

/// One activity epoch: steps or actigraphy counts over a minute or less (`activity` format).
public struct ActivityRecord: Sendable, Equatable {
    public var timestamp: Double
    public var subject: String
    public var count: Double

    public init(timestamp: Double, subject: String, count: Double) {
        self.timestamp = timestamp
        self.subject = subject
        self.count = count
    }
}

/// One key press's timing (`typing` format): how long it was held and the flight time before it.
public struct TypingRecord: Sendable, Hashable, Codable {
    public var timestamp: Double
    public var subject: String
    public var holdMilliseconds: Double
    public var flightMilliseconds: Double
    public var key: KeyClass

    public init(timestamp: Double, subject: String, holdMilliseconds: Double, flightMilliseconds: Double, key: KeyClass) {
        self.timestamp = timestamp
        self.subject = subject
        self.holdMilliseconds = holdMilliseconds
        self.flightMilliseconds = flightMilliseconds
        self.key = key
    }
}

/// A parsed, validated input row of any format.
public enum Record: Sendable, Equatable {
    case sample(SampleRecord)
    case sleep(SleepRecord)
    case activity(ActivityRecord)
    case typing(TypingRecord)

    public var subject: String {
        switch self {
        case .sample(let r): r.subject
        case .sleep(let r): r.subject
        case .activity(let r): r.subject
        case .typing(let r): r.subject
        }
    }

    /// The instant that orders this record in time (a sleep session's end: when it became known).
    public var timestamp: Double {
        switch self {
        case .sample(let r): r.timestamp
        case .sleep(let r): r.end
        case .activity(let r): r.timestamp
        case .typing(let r): r.timestamp
        }
    }

    public var format: InputFormat {
        switch self {
        case .sample: .samples
        case .sleep: .sleep
        case .activity: .activity
        case .typing: .typing
        }
    }
}
