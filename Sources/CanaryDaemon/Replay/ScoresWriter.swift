import CanaryCore
import Foundation

/// Writes `replay --scores` on a thread of its own: the evaluating thread hands observations over in
/// batches and goes on evaluating while they are formatted (formatting a row costs about what
/// evaluating it does), so the work spreads over the cores. One consumer keeps the order.
final class ScoresWriter: @unchecked Sendable {
    static let header = "timestamp,subject,metric,value,baseline,scale,z,score\n"
    private static let batchSize = 4096

    private let queue = BoundedQueue<[Observation]>(capacity: 8)
    private var batch: [Observation] = []
    private let finished = DispatchSemaphore(value: 0)
    private var closed = false

    /// Takes `output` over: from here on only the writer's thread writes to it, until `finish`.
    init(output: BufferedWriter) {
        output.write(Self.header)
        batch.reserveCapacity(Self.batchSize)
        let queue = self.queue, finished = self.finished
        nonisolated(unsafe) let output = output
        let thread = Thread {
            while let observations = queue.pop() {
                for o in observations { Self.write(o, to: output) }
            }
            output.flush()
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues one observation (on the evaluating thread).
    func append(_ o: Observation) {
        batch.append(o)
        if batch.count >= Self.batchSize {
            queue.push(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Writes what is queued, flushes and ends the thread; the output is the caller's again. Idempotent.
    func finish() {
        guard !closed else { return }
        closed = true
        if !batch.isEmpty { queue.push(batch) }
        batch = []
        queue.close()
        finished.wait()
    }

    /// One row: what "\(AlertJSON.number(o.timestamp)),\(o.subject),\(o.metric),\(d.value),…,\(d.score)\n"
    /// printed, byte for byte, without a String per value.
    static func write(_ o: Observation, to scores: BufferedWriter) {
        let d = o.deviation
        if o.timestamp.isFinite { scores.writeNumber(o.timestamp) } else { scores.write("null") }
        scores.writeField(o.subject)
        scores.writeField(o.metric)
        scores.writeField(d.value)
        scores.writeField(d.centre)
        scores.writeField(d.scale)
        scores.writeField(d.z)
        scores.writeField(d.score)
        scores.write(byte: UInt8(ascii: "\n"))
    }
}
