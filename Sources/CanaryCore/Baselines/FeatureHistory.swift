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

extension FeatureHistory {
    private enum CodingKeys: String, CodingKey {
        /// The periods, the first in full and each next one as its step from the one before.
        case p
        /// The values, in the same order.
        case v
        /// The layout saved before 2026-12: `[{"period": …, "value": …}]`, still read.
        case entries
    }

    /// Saved as two arrays (`{"p": [first, step, …], "v": [values]}`): about half the bytes of an object
    /// per entry, which matters in every snapshot of every series.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let old = try c.decodeIfPresent([Entry].self, forKey: .entries) {
            entries = old
            return
        }
        let steps = try c.decode([Int].self, forKey: .p)
        let values = try c.decode([Double].self, forKey: .v)
        guard steps.count == values.count else {
            throw DecodingError.dataCorruptedError(forKey: .v, in: c,
                                                   debugDescription: "\(steps.count) periods but \(values.count) values")
        }
        var period = 0
        entries.reserveCapacity(steps.count)
        for (i, step) in steps.enumerated() {
            period = i == 0 ? step : period + step
            entries.append(Entry(period: period, value: values[i]))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var steps: [Int] = []
        steps.reserveCapacity(entries.count)
        var last = 0
        for (i, e) in entries.enumerated() {
            steps.append(i == 0 ? e.period : e.period - last)
            last = e.period
        }
        try c.encode(steps, forKey: .p)
        try c.encode(entries.map(\.value), forKey: .v)
    }
}
