import CanaryCore
import Foundation

/// One input of a merge by time: its records in time order, with its zone directives where they
/// apply, taken from the front. A file in time order is read a chunk at a time as the merge takes
/// it; an input that is not (or cannot be read twice) is held whole, sorted by `timeOrdered`. A value
/// the merge keeps in an array and mutates in place.
struct MergeInput {
    /// A `#canary subject=ID tz=Zone` directive, due before the record at `before`.
    struct Directive {
        var before: Int
        var subject: String
        var zone: TimeZone
    }

    /// The records not yet taken, the next one last: taking one moves it out instead of copying it.
    private var records: [Record]
    private var directives: [Directive]
    /// Records in the current chunk (taken or not); `before` of a directive counts from its start.
    private var chunkCount: Int
    private var nextDirective = 0
    private var reader: FileReader?
    /// The last record's time: a file found in time order must still be when it is read again.
    private var lastTime = -Double.infinity

    /// A file known to be in time order, read as the merge needs it. Its row errors were reported
    /// when it was first read, so they are skipped here.
    init(reading reader: FileReader) {
        records = []
        directives = []
        chunkCount = 0
        self.reader = reader
    }

    /// Records and directives held in memory, in the order the merge is to take them.
    init(holding records: [Record], directives: [Directive] = []) {
        self.records = records.reversed()
        self.directives = directives
        chunkCount = records.count
        reader = nil
    }

    /// Hands the directives due before the next record to `onZone`; the next record's time, nil once
    /// the input is exhausted.
    mutating func settle(_ onZone: (String, TimeZone) -> Void) throws -> Double? {
        while true {
            while nextDirective < directives.count && directives[nextDirective].before <= chunkCount - records.count {
                onZone(directives[nextDirective].subject, directives[nextDirective].zone)
                nextDirective += 1
            }
            if !records.isEmpty { return records[records.count - 1].timestamp }
            guard try refill() else { return nil }
        }
    }

    /// The next record (after `settle` said there is one), taken.
    mutating func take() -> Record {
        records.removeLast()
    }

    /// Reads the file's next chunk that holds anything; false at its end.
    private mutating func refill() throws -> Bool {
        // Set aside while it calls back into this input.
        guard var reader = reader.take() else { return false }
        defer { self.reader = reader }
        directives.removeAll(keepingCapacity: true)
        nextDirective = 0
        var ordered = true
        while records.isEmpty && directives.isEmpty {
            let more = try reader.step(
                onRecord: { r in
                    if r.timestamp < lastTime { ordered = false }
                    lastTime = r.timestamp
                    records.append(r)
                },
                onRejected: { _ in },
                onZone: { subject, zone in directives.append(Directive(before: records.count, subject: subject, zone: zone)) })
            guard ordered else {
                throw ReplayError("\(reader.path) changed while it was replayed: it is no longer in time order")
            }
            if !more { break }
        }
        chunkCount = records.count
        records.reverse()
        return !records.isEmpty || !directives.isEmpty
    }

    /// An input's records and directives (`before` counting records in file order) in the order a
    /// merge takes them: records by time, stable (rows with the same time keep their file order), each
    /// directive just before the earliest record that follows it in the file, so it still applies to
    /// every row after it.
    static func timeOrdered(_ records: [Record], _ directives: [Directive]) -> (records: [Record], directives: [Directive]) {
        let n = records.count
        if isTimeOrdered(records) { return (records, directives) }
        let order = (0..<n).sorted { a, b in
            let ta = records[a].timestamp, tb = records[b].timestamp
            return ta < tb || (ta == tb && a < b)
        }
        // earliest[k]: the first place in time order taken by any of records k..<n (n for none).
        var place = [Int](repeating: 0, count: n)
        for (p, i) in order.enumerated() { place[i] = p }
        var earliest = [Int](repeating: n, count: n + 1)
        for k in stride(from: n - 1, through: 0, by: -1) { earliest[k] = min(place[k], earliest[k + 1]) }
        // `earliest` never decreases with `before`, so directives keep their file order.
        let moved = directives.map { Directive(before: earliest[min($0.before, n)], subject: $0.subject, zone: $0.zone) }
        return (order.map { records[$0] }, moved)
    }

    private static func isTimeOrdered(_ records: [Record]) -> Bool {
        var previous = -Double.infinity
        for r in records {
            if r.timestamp < previous { return false }
            previous = r.timestamp
        }
        return true
    }
}
