import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl replay` of several files merges them by time as streams: the result must be exactly
/// that of the same rows in one file sorted by time (a stable sort: ties keep file order, then row order).
@Suite struct ReplayMergeTests {
    /// One data row of a sample file, with its instant.
    struct Row {
        var time: Double
        var subject: String
        var line: String
    }

    /// The header and rows of a sample file; `timeColumn` holds the instant that orders a row.
    static func load(_ name: String, timeColumn: Int) throws -> (header: String, rows: [Row]) {
        let text = try String(contentsOfFile: TestSupport.root("config/sample/\(name)"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let iso = ISO8601DateFormatter()
        let rows = lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let subjectColumn = name == "sleep.csv" ? 0 : 1
            return Row(time: iso.date(from: String(fields[timeColumn]))!.timeIntervalSince1970,
                       subject: String(fields[subjectColumn]), line: line)
        }
        return (lines[0], rows)
    }

    static func save(_ lines: [String], in directory: String, name: String) throws -> String {
        let path = directory + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The stable sort by time of all files' rows, in file order: what one file sorted by time holds.
    static func sortedByTime(_ files: [[Row]]) -> [Row] {
        let all = files.flatMap { $0 }
        return all.indices.sorted { a, b in
            all[a].time < all[b].time || (all[a].time == all[b].time && a < b)
        }.map { all[$0] }
    }

    /// Alerts and scores exactly as written, with the summary and diagnostics.
    static func replay(_ paths: [String], configuration: CanaryConfiguration, maxErrors: Int = 20)
        throws -> (alerts: String, scores: String, summary: Replay.Summary, diagnostics: [String]) {
        let alertsPath = TestSupport.temporaryFile("alerts.jsonl")
        let scoresPath = TestSupport.temporaryFile("scores.csv")
        var diagnostics: [String] = []
        let summary: Replay.Summary
        do {
            let alerts = try BufferedWriter(path: alertsPath)
            let scores = try BufferedWriter(path: scoresPath)
            var replay = Replay(configuration: configuration, inputs: paths.map { Replay.Input(path: $0) }, now: 1_900_000_000)
            replay.maxErrorsShownPerFile = maxErrors
            summary = try replay.run(alerts: alerts, scores: scores, diagnostics: { diagnostics.append($0) }, progress: nil)
        }
        return (try String(contentsOfFile: alertsPath, encoding: .utf8), try String(contentsOfFile: scoresPath, encoding: .utf8),
                summary, diagnostics)
    }

    /// Replays `paths` merged and `one` (the same rows in one file sorted by time) with the sample
    /// configuration, expects the same alerts, scores and counts, and returns both runs.
    @discardableResult
    static func expectMergedEqualsOne(_ paths: [String], _ one: String) throws
        -> (expected: (alerts: String, scores: String, summary: Replay.Summary, diagnostics: [String]),
            merged: (alerts: String, scores: String, summary: Replay.Summary, diagnostics: [String])) {
        let configuration = try sampleConfiguration()
        let expected = try replay([one], configuration: configuration)
        let merged = try replay(paths, configuration: configuration)
        #expect(merged.diagnostics.isEmpty, "\(merged.diagnostics.prefix(3))")
        #expect(merged.alerts == expected.alerts)
        #expect(merged.scores == expected.scores)
        #expect(merged.summary.counts == expected.summary.counts)
        return (expected, merged)
    }

    static func sampleConfiguration() throws -> CanaryConfiguration {
        try CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml"))
    }

    /// Each subject's rows over two files, alternate days in each: every file in time order, all of
    /// them interleaved in time.
    /// A sample file's rows split (`split`) and saved as `prefix-N.csv`, and the same rows as one file sorted by time.
    static func splitAndSaved(_ name: String, prefix: String) throws
        -> (header: String, files: [[Row]], paths: [String], one: String, directory: String) {
        let (header, rows) = try load(name, timeColumn: 0)
        let files = split(rows)
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let paths = try files.enumerated().map { i, file in
            try save([header] + file.map(\.line), in: directory, name: "\(prefix)-\(i).csv")
        }
        let one = try save([header] + sortedByTime(files).map(\.line), in: directory, name: "one.csv")
        return (header, files, paths, one, directory)
    }

    static func split(_ rows: [Row]) -> [[Row]] {
        let subjects = Array(Set(rows.map(\.subject))).sorted()
        var files = [[Row]](repeating: [], count: subjects.count * 2)
        for row in rows {
            let day = Int((row.time / 86_400).rounded(.down))
            files[subjects.firstIndex(of: row.subject)! * 2 + day % 2].append(row)
        }
        return files
    }

    @Test(arguments: [("activity.csv", 0), ("samples.csv", 0)])
    func interleavedFilesGiveTheAlertsAndScoresOfOneFileSortedByTime(name: String, timeColumn: Int) throws {
        let (header, rows) = try Self.load(name, timeColumn: timeColumn)
        let files = Self.split(rows)
        #expect(files.count == 10)
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let paths = try files.enumerated().map { i, file in
            try Self.save([header] + file.map(\.line), in: directory, name: "part-\(i).csv")
        }
        let one = try Self.save([header] + Self.sortedByTime(files).map(\.line), in: directory, name: "one.csv")

        let (expected, merged) = try Self.expectMergedEqualsOne(paths, one)
        #expect(merged.summary.counts.totalAccepted == rows.count)
        #expect(merged.summary.subjects == expected.summary.subjects)
        #expect(merged.summary.observations == expected.summary.observations)
        #expect(merged.summary.lateRows == expected.summary.lateRows)
        if name == "activity.csv" {
            #expect(!expected.alerts.isEmpty, "eli's episode alerts: the comparison means something")
        }
        #expect(expected.scores.split(separator: "\n").count > 100)
    }

    @Test func filesOutOfTimeOrderAmongSortedOnesAreSortedByThemselvesWithTheSameResult() throws {
        var (header, files, sortedPaths, one, directory) = try Self.splitAndSaved("activity.csv", prefix: "sorted")
        // In the middle: one file newest first, and one whose later half comes first (in order until
        // half-way through, so only reading all of it shows that it is not).
        files[4].reverse()
        files[6] = Array(files[6][(files[6].count / 2)...] + files[6][..<(files[6].count / 2)])
        let paths = try files.enumerated().map { i, file in
            try Self.save([header] + file.map(\.line), in: directory, name: "part-\(i).csv")
        }

        let (expected, _) = try Self.expectMergedEqualsOne(paths, one)
        #expect(!expected.alerts.isEmpty)
        // And the same as all files in time order.
        let allSorted = try Self.replay(sortedPaths, configuration: Self.sampleConfiguration())
        #expect(allSorted.alerts == expected.alerts)
        #expect(allSorted.scores == expected.scores)
    }

    /// `#canary subject=eli tz=Pacific/Auckland` on top of one of the merged files: eli's nights are
    /// read on Auckland's clock in every file, as when all rows are in one file under the directive.
    @Test(arguments: ["eli", "ana"])
    func aDirectiveInAMergedFileStillApplies(inFileOf holder: String) throws {
        let (header, rows) = try Self.load("sleep.csv", timeColumn: 2)
        let subjects = Array(Set(rows.map(\.subject))).sorted()
        let files = subjects.map { s in rows.filter { $0.subject == s } }
        let directive = "#canary subject=eli tz=Pacific/Auckland"
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let paths = try files.enumerated().map { i, file in
            let top = subjects[i] == holder ? [directive] : []
            return try Self.save(top + [header] + file.map(\.line), in: directory, name: "part-\(i).csv")
        }
        let sorted = Self.sortedByTime(files).map(\.line)
        let one = try Self.save([directive, header] + sorted, in: directory, name: "one.csv")
        let withoutDirective = try Self.save([header] + sorted, in: directory, name: "plain.csv")

        let configuration = try CanaryConfiguration.parse("[engine]\ntimezone = \"Europe/Oslo\"\n" + DaemonLifecycleTests.noGaps)
        let expected = try Self.replay([one], configuration: configuration)
        let merged = try Self.replay(paths, configuration: configuration)
        #expect(merged.diagnostics.isEmpty, "\(merged.diagnostics)")
        #expect(merged.alerts == expected.alerts)
        #expect(merged.scores == expected.scores)
        let plain = try Self.replay([withoutDirective], configuration: configuration)
        #expect(plain.scores != expected.scores, "the directive changes what is evaluated: the comparison means something")
        #expect(expected.alerts.contains("sleep_onset.threshold"))
    }

    /// The merge on its own: ties go to the earlier input, then the input's order; a directive comes
    /// out once it reaches its input's head; an input out of order is sorted with its directive before
    /// every row that follows it in the file.
    @Test func theMergeBreaksTiesByInputThenOrderAndPlacesDirectives() throws {
        func row(_ t: Double, _ label: String) -> Record {
            .sample(SampleRecord(timestamp: t, subject: "s", metric: label, value: 0))
        }
        func merged(_ inputs: [MergeInput]) throws -> [String] {
            var merge = TimeMerge(inputs: inputs)
            var out: [String] = []
            while let record = try merge.next(onZone: { subject, _ in out.append("zone \(subject)") }) {
                if case .sample(let s) = record { out.append(s.metric) }
            }
            return out
        }
        let utc = TimeZone(identifier: "UTC")!
        func held(_ records: [Record], _ directives: [(before: Int, subject: String)] = []) -> MergeInput {
            let sorted = MergeInput.timeOrdered(records, directives.map { MergeInput.Directive(before: $0.before, subject: $0.subject, zone: utc) })
            return MergeInput(holding: sorted.records, directives: sorted.directives)
        }
        let a = held([row(1, "a1"), row(3, "a2"), row(3, "a3")])
        let b = held([row(2, "b1"), row(3, "b2")], [(0, "b")])
        // Out of order, with a directive after its first row: it goes before c2 and c3, which follow it.
        let c = held([row(4, "c1"), row(0, "c2"), row(3, "c3")], [(1, "c")])
        #expect(try merged([a, b, c]) == ["zone b", "zone c", "c2", "a1", "b1", "a2", "a3", "b2", "c3", "c1"])

        // A directive between two rows of an input in order: right after the row before it.
        let x = held([row(1, "x1"), row(2, "x2")], [(1, "x")])
        let d = held([row(1.5, "d1")], [(1, "d")])
        #expect(try merged([x, d]) == ["x1", "zone x", "d1", "zone d", "x2"])
        #expect(try merged([]) == [])
    }

    @Test func rowErrorsOfMergedFilesAreReportedOnceInFileOrderWithTheirCounts() throws {
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let header = "timestamp,subject,metric,value"
        let a = try Self.save([header, "1767225600,s1,hr,60", "1767225660,s1,hr,abc", "1767225720,s1,hr,61"],
                               in: directory, name: "a.csv")
        let b = try Self.save([header, "1767225630,s2,hr,70", "1767225690,s2", "1767225750,s2,hr,71", "1767225600,s2,hr,72"],
                               in: directory, name: "b.csv")
        let merged = try Self.replay([a, b], configuration: CanaryConfiguration())
        #expect(merged.diagnostics.count == 2, "\(merged.diagnostics)")
        #expect(merged.diagnostics.first?.hasPrefix(a + ":line 3: field 'value'") == true, "\(merged.diagnostics)")
        #expect(merged.diagnostics.last?.hasPrefix(b + ":line 3: expected 4 columns") == true, "\(merged.diagnostics)")
        #expect(merged.summary.counts.accepted[.samples] == 5)
        #expect(merged.summary.counts.rejected[.samples] == 2)

        // Beyond the rows shown per file, the rest are counted, per file.
        let c = try Self.save([header, "1767225600,s3,hr,x", "1767225660,s3,hr,y", "1767225720,s3,hr,62", "1767225780,s3,hr,z"],
                              in: directory, name: "c.csv")
        let few = try Self.replay([a, c, b], configuration: CanaryConfiguration(), maxErrors: 1)
        #expect(few.diagnostics.count == 4, "\(few.diagnostics)")
        #expect(few.diagnostics[0].hasPrefix(a + ":line 3:"))
        #expect(few.diagnostics[1].hasPrefix(c + ":line 2:"))
        #expect(few.diagnostics[2] == c + ": 2 more rejected rows not shown")
        #expect(few.diagnostics[3].hasPrefix(b + ":line 3:"))
        #expect(few.summary.counts.rejected[.samples] == 5)
    }

    /// A pipe (`canaryctl replay <(zcat a.csv.gz) b.csv`) cannot be read twice: it is held in memory
    /// and merged like the others.
    @Test func aPipeAmongTheFilesIsHeldAndMerged() throws {
        let split = try Self.splitAndSaved("samples.csv", prefix: "part")
        var paths = split.paths
        let (one, directory) = (split.one, split.directory)
        let fifo = directory + "/pipe.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let content = try String(contentsOfFile: paths[3], encoding: .utf8)
        paths[3] = fifo
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            _ = content.utf8CString.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
        writer.start()

        let configuration = try Self.sampleConfiguration()
        let expected = try Self.replay([one], configuration: configuration)
        let merged = try Self.replay(paths, configuration: configuration)
        #expect(merged.diagnostics.isEmpty, "\(merged.diagnostics.prefix(3))")
        #expect(merged.alerts == expected.alerts)
        #expect(merged.scores == expected.scores)
        #expect(merged.summary.counts == expected.summary.counts)
    }

    /// Many files at once close their descriptors between chunks: same result.
    @Test func filesBeyondTheOpenFileBoundAreReadAChunkAtATime() throws {
        let (header, rows) = try Self.load("samples.csv", timeColumn: 0)
        let files = Self.split(rows)
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let paths = try files.enumerated().map { i, file in
            try Self.save([header] + file.map(\.line), in: directory, name: "part-\(i).csv")
        }
        let configuration = try Self.sampleConfiguration()
        let engine = configuration.engine
        func run(maxOpenFiles: Int) -> [String] {
            var reader = ReplayReader(inputs: paths.map { Replay.Input(path: $0) }, zones: engine.zones,
                                      latestAccepted: .infinity, maxPast: engine.maxPastSeconds, limits: engine.valueLimits)
            reader.maxOpenFiles = maxOpenFiles
            reader.mergeChunkBytes = 1  // the smallest chunks: many reopenings
            let queue = BoundedQueue<ReplayItem>(capacity: 1 << 20)
            reader.run(into: queue)
            var out: [String] = []
            while let item = queue.pop() {
                switch item {
                case .records(let batch): out += batch.map { "\($0)" }
                case .zone(let s, let z): out.append("zone \(s) \(z.identifier)")
                case .failed(let message): out.append("failed \(message)")
                default: break
                }
            }
            return out
        }
        let open = run(maxOpenFiles: 256)
        let reopened = run(maxOpenFiles: 1)
        #expect(open.count == rows.count)
        #expect(open == reopened)
    }
}

/// A file that cannot be opened ends the replay with an error naming it, alone or among others.
@Suite struct ReplayMissingFileTests {
    @Test(arguments: [1, 3])
    func aFileThatCannotBeOpenedEndsTheReplayWithItsName(files: Int) throws {
        let directory = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        let present = try (0..<(files - 1)).map { i in
            try ReplayMergeTests.save(["timestamp,subject,metric,value", "1767225600,s\(i),hr,60"], in: directory, name: "p\(i).csv")
        }
        let missing = directory + "/missing.csv"
        #expect(throws: ReplayError.self) {
            _ = try ReplayMergeTests.replay(present + [missing], configuration: CanaryConfiguration())
        }
        do {
            _ = try ReplayMergeTests.replay(present + [missing], configuration: CanaryConfiguration())
        } catch let error as ReplayError {
            #expect(error.description == "cannot open \(missing): No such file or directory")
        }
    }
}
