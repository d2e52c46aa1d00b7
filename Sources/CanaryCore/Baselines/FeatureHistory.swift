/// A feature's past values per period (day or hour index), oldest first, trimmed to what baselines need.
public struct FeatureHistory: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var period: Int
        public var value: Double
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Records a period's value; a period recorded again replaces the earlier value.
    public mutating func record(period: Int, value: Double) {
        if let last = entries.last, last.period >= period {
            if let i = entries.firstIndex(where: { $0.period == period }) {
                entries[i].value = value
                return
            }
            let at = entries.firstIndex { $0.period > period } ?? entries.count
            entries.insert(Entry(period: period, value: value), at: at)
            return
        }
        entries.append(Entry(period: period, value: value))
    }

    /// Entries with `from <= period < before`.
    public func values(from: Int, before: Int) -> ArraySlice<Entry> {
        var lo = entries.count
        var hi = entries.count
        for (i, e) in entries.enumerated().reversed() {
            if e.period >= before { hi = i; continue }
            if e.period < from { break }
            lo = i
        }
        guard lo < hi else { return [] }
        return entries[lo..<hi]
    }

    /// Keeps the newest `count` entries only.
    public mutating func keepLast(_ count: Int) {
        if entries.count > count { entries.removeFirst(entries.count - count) }
    }

    /// Drops entries older than `period`.
    public mutating func trim(before period: Int) {
        if let first = entries.first, first.period < period {
            entries.removeAll { $0.period < period }
        }
    }
}
