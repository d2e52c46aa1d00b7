import CanaryCore
import Foundation
@testable import CanaryDaemon

/// What a run decided, in a form two runs can be compared by: alerts as the alert log writes them and
/// observations as `replay --scores` writes them, each sorted (the order of decisions across streams
/// and subjects is not part of the promise; what is decided is).
struct DecidedOutput: Equatable {
    var alerts: [String]
    var scores: [String]
}

/// Collects decisions as the replay's sink formats them.
struct FormattingSink: EngineSink {
    var alerts: [String] = []
    var scores: [String] = []
    var wantsObservations: Bool { true }

    mutating func emit(_ alert: Alert) { alerts.append(AlertJSON.encode(alert)) }

    mutating func observe(_ o: Observation) {
        let d = o.deviation
        scores.append("\(AlertJSON.number(o.timestamp)),\(o.subject),\(o.metric),\(d.value),\(d.centre),\(d.scale),\(d.z),\(d.score)")
    }

    var output: DecidedOutput { DecidedOutput(alerts: alerts.sorted(), scores: scores.sorted()) }
}

enum DeliverySimulator {
    /// The reference: the subjects' rows of every file, merged by time (stably, as `canaryctl replay`
    /// merges files), evaluated in one go and finished at the newest row.
    static func reference(corpus: DeliveryCorpus, subjects: [String]) -> DecidedOutput {
        var rows: [(Record, Double)] = []
        for source in corpus.sources {
            var stream = IngestStream(subject: source.subject, zones: corpus.configuration.zones)
            _ = Array(source.header.utf8).withUnsafeBufferPointer { stream.feed($0, number: 1) }
            for (i, row) in source.rows.enumerated() where subjects.contains(row.subject) {
                if case .record(let r) = Array(row.line.utf8).withUnsafeBufferPointer({ stream.feed($0, number: i + 2) }) {
                    rows.append((r, r.timestamp))
                }
            }
        }
        let order = rows.indices.sorted { (rows[$0].1, $0) < (rows[$1].1, $1) }
        var engine = CanaryEngine(configuration: corpus.configuration)
        var sink = FormattingSink()
        var latest = -Double.infinity
        for i in order {
            engine.ingest(rows[i].0, into: &sink)
            latest = max(latest, rows[i].1)
        }
        engine.finish(at: latest, into: &sink)
        return sink.output
    }

    /// Plays `plan` through the daemon's per-connection ingest (`IngestSession`: bytes in any chunks,
    /// headers, parsing) into the engine, with the plan's clock, commits and restarts; then finishes
    /// at the newest row, as a replay does.
    static func run(_ plan: DeliveryPlan, corpus: DeliveryCorpus, wallClockStart: Double = 1_800_000_000) throws -> DecidedOutput {
        let configuration = corpus.configuration
        /// One client: its bytes, where it is, and the daemon side of its current connection.
        struct Client {
            var bytes: [UInt8]
            /// Byte offset of the end of each line (after its newline); line 0 is the header.
            var lineEnds: [Int]
            var keys: [Double]
            var position = 0
            var session: IngestSession
            /// Data lines (not counting the header) fully handled by the current connection's start and by now.
            var firstLine = 0
            var acknowledged = 0
            var previousAcknowledged = 0
        }
        var now = wallClockStart
        func session(for c: DeliveryPlan.Connection) -> IngestSession {
            IngestSession(zones: configuration.zones, latestAccepted: now + configuration.maxFutureSeconds,
                          earliestAccepted: now - configuration.maxPastSeconds, limits: configuration.valueLimits,
                          subject: c.subject)
        }
        func client(_ c: DeliveryPlan.Connection, from line: Int) -> Client {
            var bytes = Array((c.header + "\n").utf8)
            var ends = [bytes.count]
            var keys: [Double] = []
            for l in c.lines[line...] {
                bytes += Array((l.text + "\n").utf8)
                ends.append(bytes.count)
                keys.append(l.key)
            }
            return Client(bytes: bytes, lineEnds: ends, keys: keys, session: session(for: c), firstLine: line)
        }
        var clients = plan.connections.map { client($0, from: 0) }
        var engine = CanaryEngine(configuration: configuration)
        var sink = FormattingSink()
        var latest = -Double.infinity
        var saved: (state: [String: Data], alerts: Int, scores: Int, latest: Double) = ([:], 0, 0, -.infinity)

        /// Data lines of a client fully handled (its header excluded), counted from the plan's first line.
        func handled(_ c: Client) -> Int {
            var lo = 0, hi = c.lineEnds.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if c.lineEnds[mid] <= c.position { lo = mid + 1 } else { hi = mid }
            }
            return c.firstLine + max(0, lo - 1)
        }
        func nextKey(_ c: Client) -> Double? {
            let line = handled(c) - c.firstLine
            return line < c.keys.count ? c.keys[line] : nil
        }
        func feed(_ i: Int, upTo end: Int) {
            guard end > clients[i].position else { return }
            engine.arrival = now
            let chunk = Array(clients[i].bytes[clients[i].position..<end])
            chunk.withUnsafeBufferPointer { chunk in
                clients[i].session.receive(chunk, record: { record, _ in
                    engine.ingest(record, into: &sink)
                    latest = max(latest, record.timestamp)
                }, reply: { _ in })
            }
            clients[i].position = end
        }
        func restart(kill: Bool) throws {
            if !kill {
                // Graceful: what was handled is saved and acknowledged.
                saved = (try engine.exportState(), sink.alerts.count, sink.scores.count, latest)
                for i in clients.indices {
                    clients[i].previousAcknowledged = handled(clients[i])
                    clients[i].acknowledged = clients[i].previousAcknowledged
                }
            }
            engine = CanaryEngine(configuration: configuration)
            try engine.importState(saved.state)
            sink.alerts.removeLast(sink.alerts.count - saved.alerts)
            sink.scores.removeLast(sink.scores.count - saved.scores)
            latest = saved.latest
            var g = SeededGenerator(seed: UInt64(sink.alerts.count &* 31 &+ clients.count))
            for i in clients.indices {
                // A client resends from its last acknowledgement, or from an earlier one (it missed the last PROGRESS).
                let from = kill ? Int.random(in: clients[i].previousAcknowledged...clients[i].acknowledged, using: &g)
                    : clients[i].acknowledged
                clients[i] = client(plan.connections[i], from: from)
                clients[i].acknowledged = from
                clients[i].previousAcknowledged = from
            }
        }

        var stepIndex = 0
        while true {
            let open = clients.indices.filter { clients[$0].position < clients[$0].bytes.count }
            guard !open.isEmpty else { break }
            let slowest = open.compactMap { nextKey(clients[$0]) }.min() ?? -.infinity
            let bound = slowest + plan.lead
            // Past the plan's own steps, the rest goes in connection by connection, as the lead allows.
            let step: DeliveryPlan.Step = stepIndex < plan.steps.count ? plan.steps[stepIndex] : .send(connection: open[0], bytes: 65_536)
            stepIndex += 1
            switch step {
            case .send(let wanted, let bytes):
                // The wanted connection if the lead allows it, else the slowest one.
                var i = wanted % clients.count
                if clients[i].position >= clients[i].bytes.count || (nextKey(clients[i]) ?? -.infinity) > bound {
                    i = open.first { nextKey(clients[$0]) == slowest } ?? open[0]
                }
                var end = min(clients[i].bytes.count, clients[i].position + bytes)
                // Never past the last line the lead allows (a partial line of it is fine).
                let first = handled(clients[i]) - clients[i].firstLine
                if let over = clients[i].keys[first...].firstIndex(where: { $0 > bound }) {
                    end = min(end, clients[i].lineEnds[over])  // end of the line before `over` (lineEnds is offset by the header)
                }
                now += 0.001
                feed(i, upTo: end)
                if clients[i].position == clients[i].bytes.count {
                    // End of input: the last line counts even without a newline.
                    clients[i].session.finishInput(record: { record, _ in
                        engine.ingest(record, into: &sink)
                        latest = max(latest, record.timestamp)
                    }, reply: { _ in })
                }
            case .pause(let seconds):
                now += seconds
                engine.advance(to: now, into: &sink)
            case .commit:
                saved = (try engine.exportState(), sink.alerts.count, sink.scores.count, latest)
                for i in clients.indices {
                    clients[i].previousAcknowledged = clients[i].acknowledged
                    clients[i].acknowledged = handled(clients[i])
                }
            case .restart(let kill):
                try restart(kill: kill)
            }
        }
        engine.finish(at: latest, into: &sink)
        return sink.output
    }
}
