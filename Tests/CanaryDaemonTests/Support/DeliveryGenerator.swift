import CanaryCore
import Foundation
@testable import CanaryDaemon

/// A seeded random number generator (SplitMix64), so a failing delivery can be made again from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The rows a delivery is made of: input files of the sample set and of the Depresjon recordings,
/// each row with its subject, stream and the instant it is placed by.
struct DeliveryCorpus: Sendable {
    /// One input file: its header, the subject for files without a subject column, its rows.
    struct Source: Sendable {
        var name: String
        var header: String
        var subject: String?
        var rows: [Row]
    }

    struct Row: Sendable {
        var line: String
        var subject: String
        var stream: CanaryCore.Stream
        /// The instant the row is placed by (a sleep session's end).
        var time: Double
    }

    var sources: [Source]
    var configuration: EngineConfiguration

    /// The sample set (`config/sample`, its configuration's zones) and the heads of two Depresjon recordings.
    static let standard: DeliveryCorpus = {
        var configuration = try! CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml")).engine
        configuration.maxPastSeconds = 36_500 * 86_400
        configuration.baseline.minHistoryDays = 7
        var sources: [Source] = []
        for name in ["sleep", "activity", "typing", "samples"] {
            sources.append(load(name: name, path: TestSupport.root("config/sample/\(name).csv"), subject: nil, zones: configuration.zones))
        }
        for name in ["condition_1", "control_1"] {
            sources.append(load(name: name, path: TestSupport.fixture("depresjon-\(name)-head.csv"), subject: name, zones: configuration.zones))
        }
        return DeliveryCorpus(sources: sources, configuration: configuration)
    }()

    static func load(name: String, path: String, subject: String?, zones: ZoneBook) -> Source {
        let lines = try! String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var stream = IngestStream(subject: subject, zones: zones)
        _ = Array(lines[0].utf8).withUnsafeBufferPointer { stream.feed($0, number: 1) }
        var rows: [Row] = []
        for (i, line) in lines.dropFirst().enumerated() {
            guard case .record(let r) = Array(line.utf8).withUnsafeBufferPointer({ stream.feed($0, number: i + 2) }) else { continue }
            rows.append(Row(line: line, subject: r.subject, stream: CanaryCore.Stream(rawValue: r.format.rawValue)!, time: r.timestamp))
        }
        return Source(name: name, header: lines[0], subject: subject, rows: rows)
    }

    /// Every subject of the corpus, in a fixed order.
    var subjects: [String] {
        var seen: [String] = []
        for s in sources { for r in s.rows where !seen.contains(r.subject) { seen.append(r.subject) } }
        return seen
    }
}

/// One way of delivering a set of rows: which connections carry what, in what order and in what byte
/// chunks they arrive interleaved, with which wall-clock pauses, restarts and resends. Every choice
/// stays inside what event time promises to make harmless:
/// - each subject's stream is shuffled only within `jitter` of its time order, or (sleep) listed newest first;
/// - exact duplicates are added anywhere after their original;
/// - connections are interleaved in chunks of any size, one running ahead of the slowest by at most `lead`
///   of event time, with `jitter + lead <= close_delay` (a stream that starts later than the others is
///   not then too late for the composite rules of the days it covers);
/// - the wall clock moves by pauses that sum to less than `max_lateness` (no stream times out);
/// - restarts: a graceful one (the state saved, connections resume after the last line handled), or a
///   kill (the state rolls back to the last commit and each client resends from a line at or before it).
struct DeliveryPlan {
    struct Connection {
        var source: Int
        var header: String
        var subject: String?
        /// The connection's data lines, in the order it sends them, with the event time the scheduler paces them by.
        var lines: [(text: String, key: Double)]
    }

    enum Step {
        /// Up to `bytes` more bytes of connection `connection` (never more than the lead allows).
        case send(connection: Int, bytes: Int)
        /// The wall clock moves on by this many seconds, and the daemon looks at it.
        case pause(Double)
        /// A commit: the state (and the alerts decided so far) is saved; lines handled until now are acknowledged.
        case commit
        /// A restart: graceful (`kill == false`) or SIGKILL.
        case restart(kill: Bool)
    }

    var connections: [Connection]
    var steps: [Step]
    var lead: Double
    var summary: String

    static func make(seed: UInt64, corpus: DeliveryCorpus, subjects: [String]) -> DeliveryPlan {
        var g = SeededGenerator(seed: seed)
        let closeDelay = corpus.configuration.closeDelaySeconds
        let jitter = Double.random(in: 0...closeDelay / 2, using: &g)
        let lead = Double.random(in: 0...closeDelay / 2, using: &g)
        var connections: [Connection] = []
        var notes: [String] = []
        for (index, source) in corpus.sources.enumerated() {
            // Each subject's stream of this file, jittered within its window, or newest first.
            var sequences: [[(text: String, key: Double)]] = []
            for subject in subjects {
                let rows = source.rows.filter { $0.subject == subject }
                guard !rows.isEmpty else { continue }
                var keyed = rows.map { (text: $0.line, key: $0.time + Double.random(in: 0...jitter, using: &g)) }
                keyed.sort { $0.key < $1.key }
                if rows[0].stream == .sleep && Bool.random(using: &g) {
                    // A sleep export listed newest first, all of it sent at once at its start.
                    let start = keyed.first!.key
                    keyed = keyed.reversed().map { (text: $0.text, key: start) }
                    notes.append("\(subject) sleep newest-first")
                }
                // Exact duplicates, anywhere after their original (an overlapping upload, a resend).
                for _ in 0..<max(1, keyed.count / 200) {
                    let i = Int.random(in: 0..<keyed.count, using: &g)
                    let j = min(keyed.count, i + 1 + Int.random(in: 0..<50, using: &g))
                    keyed.insert((text: keyed[i].text, key: keyed[max(i, j - 1)].key), at: j)
                }
                sequences.append(keyed)
            }
            guard !sequences.isEmpty else { continue }
            // One or two connections per file; each merges the subjects' streams it carries by key.
            let count = source.subject == nil ? Int.random(in: 1...min(2, sequences.count), using: &g) : 1
            var groups = Array(repeating: [(text: String, key: Double)](), count: count)
            for s in sequences { groups[Int.random(in: 0..<count, using: &g)] += s }
            for group in groups where !group.isEmpty {
                let merged = group.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element)
                connections.append(Connection(source: index, header: source.header, subject: source.subject, lines: merged))
            }
        }
        // Steps: enough sends to deliver everything, pauses within the lateness budget, commits and restarts.
        let totalBytes = connections.reduce(0) { $0 + $1.lines.reduce($1.header.utf8.count + 1) { $0 + $1.text.utf8.count + 1 } }
        var steps: [Step] = []
        var budget = corpus.configuration.maxLatenessSeconds * 0.95
        let restarts = Int.random(in: 0...2, using: &g)
        var sent = 0
        var restartsLeft = restarts
        while sent < totalBytes * 2 {
            let tiny = Int.random(in: 0..<10, using: &g) == 0
            let bytes = tiny ? Int.random(in: 1...16, using: &g) : Int.random(in: 1...65_536, using: &g)
            steps.append(.send(connection: Int.random(in: 0..<connections.count, using: &g), bytes: bytes))
            sent += bytes
            switch Int.random(in: 0..<100, using: &g) {
            case 0..<10:
                let pause = Double.random(in: 0...min(budget, corpus.configuration.maxLatenessSeconds / 3), using: &g)
                budget -= pause
                steps.append(.pause(pause))
            case 10..<20:
                steps.append(.commit)
            case 20 where restartsLeft > 0:
                restartsLeft -= 1
                steps.append(.restart(kill: Bool.random(using: &g)))
            default:
                break
            }
        }
        let summary = "seed \(seed): subjects \(subjects), \(connections.count) connections, jitter \(Int(jitter)) s, lead \(Int(lead)) s, "
            + "\(restarts) restarts" + (notes.isEmpty ? "" : ", " + notes.joined(separator: ", "))
        return DeliveryPlan(connections: connections, steps: steps, lead: lead, summary: summary)
    }
}
