/// The activity epochs of one open day, held per minute instead of per row: an epoch that starts on a
/// whole minute (the usual minute export) is one slot of a flat array over the minutes the day's rows
/// span (room for 1561 minutes, 12.2 KiB, whatever the number of rows or resends); any other instant (a
/// sub-minute epoch) is kept by its instant. The first count of an instant is kept, a repeat is a
/// duplicate, so the same rows in any order give the same contents.
///
/// Saved as the instant → count pairs it holds (the layout of earlier versions, which it also reads).
struct MinuteEpochs: Sendable {
    /// The whole minute (epoch seconds / 60) of `counts[0]`.
    private var origin = 0
    /// The count of the epoch at the start of minute `origin + i`; NaN for none (counts are finite).
    private var counts: [Double] = []
    /// Epochs at instants that are not a whole minute.
    private var other: [Double: Double] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Keeps the first count of the instant `t`; false when it already held one (a duplicate).
    mutating func insertFirst(_ value: Double, at t: Double) -> Bool {
        let minute = (t / 60).rounded(.down)
        guard minute * 60 == t, abs(minute) < 1e15 else { return insertOther(value, at: t) }
        let m = Int(minute)
        if counts.isEmpty {
            // Room for a whole day's span at once: the array never grows past it (nor doubles its capacity).
            origin = m
            counts.reserveCapacity(Self.maximumSpan)
            counts.append(value)
            count += 1
            return true
        }
        if m < origin {
            // Rows of a day may come in any order: grow towards the earlier minute (the span stays a day's).
            guard origin - m + counts.count <= Self.maximumSpan else { return insertOther(value, at: t) }
            counts.insert(contentsOf: repeatElement(.nan, count: origin - m), at: 0)
            origin = m
        } else if m - origin >= counts.count {
            guard m - origin < Self.maximumSpan else { return insertOther(value, at: t) }
            counts.append(contentsOf: repeatElement(.nan, count: m - origin + 1 - counts.count))
        }
        let i = m - origin
        guard counts[i].isNaN else { return false }
        counts[i] = value
        count += 1
        return true
    }

    /// A local day is at most 25 hours (26 with a zone's rare larger jump); wider spans go by instant.
    static let maximumSpan = 26 * 60 + 1

    private mutating func insertOther(_ value: Double, at t: Double) -> Bool {
        var inserted = false
        keep(&other[t, default: { inserted = true; return value }()])
        if inserted { count += 1 }
        return inserted
    }

    @inline(__always) private func keep(_ value: inout Double) {}

    /// Every epoch as (instant, count), in time order.
    var epochs: [(instant: Double, count: Double)] {
        var out: [(instant: Double, count: Double)] = []
        out.reserveCapacity(count)
        for (i, c) in counts.enumerated() where !c.isNaN { out.append((Double(origin + i) * 60, c)) }
        guard !other.isEmpty else { return out }
        out += other.map { ($0.key, $0.value) }
        out.sort { $0.instant < $1.instant }
        return out
    }

    /// Bytes the contents take (array storage), for tests of the bound.
    var heldBytes: Int { counts.capacity * MemoryLayout<Double>.stride + other.capacity * 2 * MemoryLayout<Double>.stride }
}

extension MinuteEpochs: Equatable {
    /// The same epochs (NaN marks an empty minute, so the arrays themselves never compare equal).
    static func == (a: MinuteEpochs, b: MinuteEpochs) -> Bool {
        a.count == b.count && a.epochs.elementsEqual(b.epochs) { $0.instant == $1.instant && $0.count == $1.count }
    }
}

extension MinuteEpochs: Codable {
    init(from decoder: any Decoder) throws {
        self.init()
        // The pairs as a dictionary of Double keys encodes them: [instant, count, instant, count, ...].
        for (t, c) in try [Double: Double](from: decoder) { _ = insertFirst(c, at: t) }
    }

    func encode(to encoder: any Encoder) throws {
        var pairs: [Double: Double] = [:]
        for e in epochs { pairs[e.instant] = e.count }
        try pairs.encode(to: encoder)
    }
}
