/// Median/MAD of a raw metric over a trailing time window, in bounded memory.
///
/// The window is cut into `slots` equal time buckets; each keeps the latest observation that fell in it,
/// so a 1 Hz stream and a reading an hour hold the same few hundred values at most. An observation is
/// scored against the buckets before its own (not against itself), then takes its bucket.
public struct RollingBaseline: Sendable, Equatable, Codable {
    /// Bucket index (time / bucket length) and the latest value in it, oldest first.
    private var buckets: [Int] = []
    private var values: [Double] = []
    /// The bucket length the buckets were counted in: another (the window or its slots changed on a
    /// reload) starts the window afresh, as bucket numbers of one length mean nothing in another.
    private var length = 0.0

    public init() {}

    public var count: Int { values.count }

    /// Scores `x` at `t` (nil while fewer than `minimum` buckets have values, or with zero scale), then keeps it.
    public mutating func observe(_ x: Double, at t: Double, window: Double, slots: Int, minimum: Int,
                                 floorAbsolute: Double, floorRelative: Double) -> Deviation? {
        let length = window / Double(max(1, slots))
        if length != self.length {
            self.length = length
            buckets = []
            values = []
        }
        let bucket = Int((t / length).rounded(.down))
        // Buckets that left the window.
        var drop = 0
        while drop < buckets.count && buckets[drop] <= bucket - slots { drop += 1 }
        if drop > 0 {
            buckets.removeFirst(drop)
            values.removeFirst(drop)
        }
        var result: Deviation?
        let past = buckets.last == bucket ? Array(values.dropLast()) : values
        if past.count >= max(1, minimum), let centre = RobustStatistics.median(past) {
            let mad = RobustStatistics.mad(past, around: centre) ?? 0
            let scale = ScaleFloor.apply(Saturating.finite(mad * RobustStatistics.madToSigma), centre: centre,
                                         absolute: floorAbsolute, relative: floorRelative, circular: false)
            if scale > 0 {
                result = Deviation(value: x, centre: centre, scale: scale, z: Saturating.finite(Saturating.finite(x - centre) / scale))
            }
        }
        if buckets.last == bucket {
            values[values.count - 1] = x
        } else if buckets.last.map({ bucket > $0 }) ?? true {
            buckets.append(bucket)
            values.append(x)
        }
        return result
    }
}
