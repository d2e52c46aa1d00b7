import CanaryCore
import Foundation

/// The reading side of `canaryctl replay`, run on its own thread and handing rows to the evaluating
/// thread through a bounded queue. One file is handed over as it is read. Several files are read
/// twice: once for their counts and row errors and to learn whether each is in time order
/// (`FirstReading`), then merged by time (`TimeMerge`), so memory does not grow with the number of
/// rows. Only an input that is not in time order, or cannot be read twice (a pipe), is held and
/// sorted in memory, by itself.
struct ReplayReader: Sendable {
    var inputs: [Replay.Input]
    var zones: ZoneBook
    /// Rows stamped after this instant are refused (now + `engine.max_future`).
    var latestAccepted: Double
    /// Rows this much older than their subject's latest row in the file are refused (`engine.max_past`).
    var maxPast: Double
    var limits: ValueLimits
    /// Rejected rows kept per file for the diagnostics when several files are read (the rest are counted).
    var errorsShownPerFile = 20
    /// With more files than this merged at once, each closes its descriptor between chunks.
    var maxOpenFiles = 256
    /// What one step of the merge reads, over all files in time order together: each reads its share
    /// (16 KiB to 1 MiB) at a time, so 100 files hold about what one does.
    var mergeChunkBytes = 2 << 20

    func run(into queue: BoundedQueue<ReplayItem>) {
        defer { queue.close() }
        var batcher = Batcher(queue: queue)
        do {
            if inputs.count == 1 {
                try stream(inputs[0], into: &batcher)
            } else {
                try merge(into: &batcher)
            }
        } catch {
            batcher.flush()
            queue.push(.failed("\(error)"))
        }
    }

    /// One file: every row, directive and error handed over as it is read, as the socket would take them.
    private func stream(_ input: Replay.Input, into batcher: inout Batcher) throws {
        let queue = batcher.queue
        let total = Self.size(input.path)
        let counts = try FileIngest(path: input.path, format: input.format, subject: input.subject).read(
            zones: zones, latestAccepted: latestAccepted, maxPastBehindLatest: maxPast, limits: limits,
            onRecord: { batcher.append($0) },
            onError: { e in batcher.flush(); queue.push(.rejected(input.path, e)) },
            onZone: { subject, zone in batcher.flush(); queue.push(.zone(subject, zone)) },
            progress: { done in queue.push(.progress("reading", done, total)) })
        batcher.flush()
        queue.push(.fileDone(input.path, counts, moreRejected: 0))
    }

    /// Several files: read each once for its counts, errors and order (`FirstReading`, reported in input
    /// order, as the summary lists them), then take the rows of all in time order.
    private func merge(into batcher: inout Batcher) throws {
        let queue = batcher.queue
        let totalBytes = inputs.reduce(0) { $0 + Self.size($1.path) }
        var rows = 0
        var outcomes: [FirstReading.Outcome] = []
        try FirstReading(reading: self, errorsKept: errorsShownPerFile).run(
            onOutcome: { index, outcome in
                let path = inputs[index].path
                for e in outcome.errors { queue.push(.rejected(path, e)) }
                queue.push(.fileDone(path, outcome.counts, moreRejected: outcome.moreErrors))
                rows += outcome.counts.totalAccepted
                outcomes.append(outcome)
            },
            onProgress: { done in queue.push(.progress("reading", done, totalBytes)) })

        let streamed = outcomes.count { $0.ordered && $0.held == nil }
        let chunkBytes = min(1 << 20, max(16 << 10, mergeChunkBytes / max(1, streamed)))
        var merged: [MergeInput] = []
        for (input, outcome) in zip(inputs, outcomes) {
            if let held = outcome.held {
                merged.append(held)
            } else if outcome.ordered {
                let reader = try makeReader(input, chunkBytes: chunkBytes, byteLimit: outcome.bytes, keepsOpen: streamed <= maxOpenFiles)
                merged.append(MergeInput(reading: reader))
            } else {
                // Not in time order: read again, whole, and sorted by itself.
                var reader = try makeReader(input, byteLimit: outcome.bytes)
                var records: [Record] = []
                var directives: [MergeInput.Directive] = []
                while try reader.step(
                    onRecord: { records.append($0) },
                    onRejected: { _ in },
                    onZone: { subject, zone in directives.append(MergeInput.Directive(before: records.count, subject: subject, zone: zone)) }) {}
                let sorted = MergeInput.timeOrdered(records, directives)
                records = []
                merged.append(MergeInput(holding: sorted.records, directives: sorted.directives))
            }
        }
        outcomes = []

        var merge = TimeMerge(inputs: merged)
        var done = 0
        while let record = try merge.next(onZone: { subject, zone in batcher.flush(); queue.push(.zone(subject, zone)) }) {
            batcher.append(record)
            done += 1
            if done & 0xFFFF == 0 { queue.push(.progress("evaluating", done, rows)) }
        }
        batcher.flush()
    }

    func makeReader(_ input: Replay.Input, chunkBytes: Int = 1 << 20, byteLimit: Int = .max,
                    keepsOpen: Bool = true) throws -> FileReader {
        try FileReader(path: input.path, format: input.format, subject: input.subject, zones: zones,
                       latestAccepted: latestAccepted, maxPastBehindLatest: maxPast, limits: limits,
                       chunkBytes: chunkBytes, byteLimit: byteLimit, keepsOpen: keepsOpen)
    }

    private static func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// Gathers records so the threads hand over once per few thousand rows, not per row.
    private struct Batcher {
        let queue: BoundedQueue<ReplayItem>
        private var batch: [Record] = []

        init(queue: BoundedQueue<ReplayItem>) {
            self.queue = queue
            batch.reserveCapacity(8192)
        }

        mutating func append(_ record: Record) {
            batch.append(record)
            if batch.count == 8192 { flush() }
        }

        mutating func flush() {
            if !batch.isEmpty {
                queue.push(.records(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
    }
}
