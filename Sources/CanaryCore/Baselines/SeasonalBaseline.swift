/// A raw metric's usual level for each hour of the day (or of the week), for signals with a daily rhythm
/// (heart rate, skin temperature, activity), so 03:00 is compared with other nights' 03:00, not with
/// the afternoon.
///
/// The centre is the median of the hour's means on its last `cycles` earlier days (weeks), never the
/// cycle it is in; the scale is the spread (1.4826 × MAD) of the last 256 observations' residuals from
/// their hour's centre, so a single reading is judged by how much single readings usually stray from
/// the rhythm, not by how much hourly means do. Memory is bounded: 24 (168) hours × `cycles` means and
/// 256 residuals.
public struct SeasonalBaseline: Sendable, Equatable, Codable {
    /// Per hour of the cycle: completed means of earlier cycles, oldest first, with the cycle index.
    private var history: [Int: [Past]] = [:]
    /// The hour being accumulated: its hour-of-cycle, cycle index, sum and count.
    private var open: Open?
    /// Residuals of recent scored observations from their hour's centre, oldest first.
    private var residuals: [Double] = []
    /// Hours per cycle the history was kept in: another (a reload) starts it afresh.
    private var period = 0

    static let residualCount = 256

    struct Past: Sendable, Equatable, Codable {
        var cycle: Int
        var mean: Double
    }

    struct Open: Sendable, Equatable, Codable {
        var slot: Int
        var cycle: Int
        var sum: Double
        var count: Int
    }

    public init() {}

    /// Scores `x` observed in local hour `hour` (hours since the epoch on the subject's calendar) with
    /// `period` hours per cycle (24 or 168), against the hour's means of at most `cycles` earlier cycles
    /// (nil before `minimum` of them exist, and before `warmup` residuals give a scale), then adds it to
    /// the hour's mean.
    public mutating func observe(_ x: Double, localHour hour: Int, period: Int, cycles: Int, minimum: Int, warmup: Int,
                                 floorAbsolute: Double, floorRelative: Double) -> Deviation? {
        if period != self.period {
            self.period = period
            history = [:]
            open = nil
            residuals = []
        }
        let slot = ((hour % period) + period) % period
        let cycle = Int((Double(hour) / Double(period)).rounded(.down))
        if let o = open, o.slot != slot || o.cycle != cycle {
            close(o, cycles: cycles)
            open = nil
        }
        var result: Deviation?
        let past = (history[slot] ?? []).filter { $0.cycle < cycle && $0.cycle >= cycle - cycles }.map(\.mean)
        if past.count >= max(1, minimum), let centre = RobustStatistics.median(past) {
            let residual = Saturating.finite(x - centre)
            if residuals.count >= warmup, let middle = RobustStatistics.median(residuals) {
                let mad = RobustStatistics.mad(residuals, around: middle) ?? 0
                let scale = ScaleFloor.apply(Saturating.finite(mad * RobustStatistics.madToSigma), centre: centre,
                                             absolute: floorAbsolute, relative: floorRelative, circular: false)
                if scale > 0 {
                    result = Deviation(value: x, centre: centre, scale: scale, z: Saturating.finite(residual / scale))
                }
            }
            residuals.append(residual)
            if residuals.count > Self.residualCount { residuals.removeFirst(residuals.count - Self.residualCount) }
        }
        if open == nil { open = Open(slot: slot, cycle: cycle, sum: 0, count: 0) }
        open!.sum = Saturating.finite(open!.sum + x)
        open!.count += 1
        return result
    }

    private mutating func close(_ o: Open, cycles: Int) {
        var list = history[o.slot] ?? []
        list.removeAll { $0.cycle == o.cycle || $0.cycle <= o.cycle - cycles }
        list.append(Past(cycle: o.cycle, mean: o.sum / Double(o.count)))
        history[o.slot] = list
    }
}
