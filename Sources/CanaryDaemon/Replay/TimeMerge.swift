import CanaryCore
import Foundation

/// A k-way merge of inputs each in time order into one run in time order. Rows come out as a
/// stable sort of all inputs' rows by timestamp would give them (ties: the earlier input first, then
/// the input's own order), while only each input's current chunk is in memory. A zone directive
/// comes out as soon as it reaches the head of its input, so it applies before the rows after it
/// there, as when the file is read alone; directives at the top of a file (where files have them)
/// apply from the start, before any row.
struct TimeMerge {
    private var inputs: [MergeInput]
    /// Inputs with a record at their head, as a binary min-heap on (time, input).
    private var heap: [(time: Double, input: Int)] = []
    /// The input whose record was returned last: its next record's time is known on the next call.
    private var taken: Int?
    private var started = false

    init(inputs: [MergeInput]) {
        self.inputs = inputs
        heap.reserveCapacity(inputs.count)
    }

    /// The next record in time order, nil at the end. Directives the merge reaches on the way go to
    /// `onZone` first, in the order they apply.
    mutating func next(onZone: (String, TimeZone) -> Void) throws -> Record? {
        if let i = taken {
            taken = nil
            if let time = try inputs[i].settle(onZone) {
                heap[0].time = time
                siftDown(0)
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
                if !heap.isEmpty { siftDown(0) }
            }
        } else if !started {
            started = true
            for i in inputs.indices {
                if let time = try inputs[i].settle(onZone) { heap.append((time, i)) }
            }
            for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        }
        guard let top = heap.first else { return nil }
        taken = top.input
        return inputs[top.input].take()
    }

    private func precedes(_ a: (time: Double, input: Int), _ b: (time: Double, input: Int)) -> Bool {
        a.time < b.time || (a.time == b.time && a.input < b.input)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { return }
            var child = left
            if left + 1 < n && precedes(heap[left + 1], heap[left]) { child = left + 1 }
            guard precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(parent, child)
            parent = child
        }
    }
}
