/// The main rest period of a night found in minute activity, and the sleep features estimated from it.
///
/// Minutes are scored sleep or wake by Cole–Kripke (`ColeKripke`); runs of sleep separated by wake of at
/// most `bridge` minutes form one rest block (a night with a few awakenings is one rest period); the
/// night's main rest period is the block with the most sleep among those that end in the night's range
/// (a night belongs to the day you wake up). It starts at its first sleep minute and ends after its last.
public struct RestPeriod: Sendable, Equatable {
    /// Minute indices into the scored window: onset (first sleep minute) and offset (one past the last).
    public var onset: Int
    public var offset: Int
    /// Minutes scored sleep inside the period, and wake (wake after sleep onset).
    public var sleepMinutes: Int
    public var wakeMinutes: Int

    public var duration: Int { offset - onset }
    public var efficiency: Double { duration > 0 ? Double(sleepMinutes) / Double(duration) : 0 }

    /// Rules for finding a night's rest period.
    public struct Settings: Sendable, Equatable {
        /// Wake runs up to this long (minutes) inside a rest period do not end it.
        public var bridge = 30
        /// A rest period shorter than this (minutes, first to last sleep minute) is not a night's main one.
        public var minimumDuration = 180
        /// More missing or non-wear minutes than this inside the period, or in the hour before or after
        /// it, and the night has no rest features (the watch may have been off while asleep).
        public var maxNonWear = 30
        /// A rest period longer than this (minutes) is not a night's sleep but a device off the body or
        /// stuck on a low reading: the night has no rest features.
        public var maximumDuration = 960

        public init(bridge: Int = 30, minimumDuration: Int = 180, maxNonWear: Int = 30, maximumDuration: Int = 960) {
            self.bridge = bridge
            self.minimumDuration = minimumDuration
            self.maxNonWear = maxNonWear
            self.maximumDuration = maximumDuration
        }
    }

    /// The main rest period whose offset lies in `ends` (indices of the window), or nil when there is none
    /// long enough or the night has too much non-wear. `counts[i]` is nil for a missing or non-wear minute;
    /// `sleep` are the minute labels scored over the same window.
    public static func find(counts: [Double?], sleep: [Bool], ends: ClosedRange<Int>, settings: Settings) -> RestPeriod? {
        precondition(counts.count == sleep.count)
        var best: RestPeriod?
        for block in blocks(sleep, bridge: settings.bridge) where ends.contains(block.upperBound) {
            let asleep = sleep[block].lazy.filter { $0 }.count
            let candidate = RestPeriod(onset: block.lowerBound, offset: block.upperBound,
                                       sleepMinutes: asleep, wakeMinutes: block.count - asleep)
            if best == nil || candidate.sleepMinutes > best!.sleepMinutes { best = candidate }
        }
        guard let best, best.duration >= settings.minimumDuration, best.duration <= settings.maximumDuration else { return nil }
        let around = max(0, best.onset - 60)..<min(counts.count, best.offset + 60)
        let missing = counts[around].lazy.filter { $0 == nil }.count
        guard missing <= settings.maxNonWear else { return nil }
        return best
    }

    /// Sleep runs joined across wake runs of at most `bridge` minutes, each from its first to one past its
    /// last sleep minute.
    static func blocks(_ sleep: [Bool], bridge: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for run in ColeKripke.runs(sleep, of: true, atLeast: 1) {
            if let last = result.last, run.lowerBound - last.upperBound <= bridge {
                result[result.count - 1] = last.lowerBound..<run.upperBound
            } else {
                result.append(run)
            }
        }
        return result
    }
}
