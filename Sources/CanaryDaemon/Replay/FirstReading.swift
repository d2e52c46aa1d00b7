import CanaryCore
import Foundation

/// The first reading of the files a replay merges, shared by the reading thread and one helper thread
/// that take the files in turn: each file's counts, first row errors and whether it is in time order,
/// handed on in input order, so diagnostics read as if the files were read one after another. Two
/// threads whatever the number of files; the evaluating thread has nothing to do until it ends.
final class FirstReading: @unchecked Sendable {
    /// What reading one input found.
    struct Outcome {
        var counts: FileIngest.Counts
        /// The first rejected rows, as many as are shown per file.
        var errors: [RowError]
        /// Rejected rows beyond those.
        var moreErrors: Int
        /// Bytes read: the second reading stops there.
        var bytes: Int
        var ordered: Bool
        /// An input that cannot be read twice (a pipe): its records and directives, in time order.
        var held: MergeInput?
    }

    private let reading: ReplayReader
    private let errorsKept: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var nextInput = 0
    private var outcomes: [Result<Outcome, any Error>?]
    private var bytesRead = 0
    private var stopped = false
    private var helperDone = false

    init(reading: ReplayReader, errorsKept: Int) {
        self.reading = reading
        self.errorsKept = max(0, errorsKept)
        outcomes = Array(repeating: nil, count: reading.inputs.count)
    }

    /// Reads every input, with a helper thread, and hands each outcome to `onOutcome` in input order
    /// (on this thread); `onProgress` gets the bytes read so far by both. Stops at the first input that
    /// cannot be read, after the outcomes before it, and throws its error.
    func run(onOutcome: (Int, Outcome) -> Void, onProgress: (Int) -> Void) throws {
        let helper = Thread { [self] in
            work(onProgress: { _ in })
            condition.lock()
            helperDone = true
            condition.broadcast()
            condition.unlock()
        }
        helper.stackSize = 1 << 22
        helper.start()
        defer {
            condition.lock()
            stopped = true
            while !helperDone { condition.wait() }
            condition.unlock()
        }
        var emitted = 0
        while emitted < outcomes.count {
            // Read while there is something to take, then wait for the helper's file.
            work(onProgress: onProgress, once: true)
            condition.lock()
            while outcomes[emitted] == nil && (nextInput >= outcomes.count || stopped) { condition.wait() }
            var ready: [(Int, Result<Outcome, any Error>)] = []
            while emitted < outcomes.count, let outcome = outcomes[emitted] {
                ready.append((emitted, outcome))
                outcomes[emitted] = nil
                emitted += 1
            }
            condition.unlock()
            for (index, outcome) in ready { onOutcome(index, try outcome.get()) }
        }
    }

    /// Takes inputs and reads them until none is left (or, with `once`, reads one).
    private func work(onProgress: (Int) -> Void, once: Bool = false) {
        while true {
            condition.lock()
            guard !stopped, nextInput < outcomes.count else {
                condition.unlock()
                return
            }
            let index = nextInput
            nextInput += 1
            condition.unlock()
            let outcome = Result { try read(reading.inputs[index], onProgress: onProgress) }
            condition.lock()
            outcomes[index] = outcome
            if case .failure = outcome { stopped = true }
            condition.broadcast()
            condition.unlock()
            if once { return }
        }
    }

    private func read(_ input: Replay.Input, onProgress: (Int) -> Void) throws -> Outcome {
        let regular = FileReader.isRegularFile(input.path)
        var reader = try reading.makeReader(input)
        var outcome = Outcome(counts: FileIngest.Counts(), errors: [], moreErrors: 0, bytes: 0, ordered: true)
        var previous = -Double.infinity
        var records: [Record] = []
        var directives: [MergeInput.Directive] = []
        var counted = 0
        while try reader.step(
            onRecord: { r in
                if r.timestamp < previous { outcome.ordered = false }
                previous = r.timestamp
                if !regular { records.append(r) }
            },
            onRejected: { e in
                if outcome.errors.count < errorsKept { outcome.errors.append(e) } else { outcome.moreErrors += 1 }
            },
            onZone: { subject, zone in
                if !regular { directives.append(MergeInput.Directive(before: records.count, subject: subject, zone: zone)) }
            }) {
            condition.lock()
            bytesRead += reader.bytesRead - counted
            let done = bytesRead
            condition.unlock()
            counted = reader.bytesRead
            onProgress(done)
        }
        outcome.counts = reader.counts
        outcome.bytes = reader.bytesRead
        if !regular {
            let sorted = MergeInput.timeOrdered(records, directives)
            records = []
            outcome.held = MergeInput(holding: sorted.records, directives: sorted.directives)
        }
        return outcome
    }
}
