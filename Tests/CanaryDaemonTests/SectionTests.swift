import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Several formats in one stream, each section opened by a `#canary` directive (what `canaryctl
/// import` writes from a vendor export): replay and the daemon take it as they take the separate files.
@Suite("Sections: several formats in one stream")
struct SectionTests {
    static let parts = ["sleep.csv", "samples.csv", "typing.csv"].map { TestSupport.root("config/sample/\($0)") }

    /// The sample files one after another in one file, each after a `#canary format=` directive, and a
    /// section with a header nobody can read in the middle.
    static func combined() throws -> String {
        var text = ""
        for (path, format) in zip(parts, ["sleep", "samples", "typing"]) {
            text += "#canary format=\(format)\n" + (try String(contentsOfFile: path, encoding: .utf8))
            if !text.hasSuffix("\n") { text += "\n" }
            if format == "sleep" { text += "#canary format=activity\nnot,a,header\n1774000000,eli,5\n" }
        }
        let path = TestSupport.temporaryFile("combined.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func replayOfOneSectionedFileDecidesWhatTheSeparateFilesDecide() throws {
        let configuration = try CanaryConfiguration.load(path: TestSupport.root("config/sample/canary.toml"))
        let separate = try TestSupport.replay(Self.parts.map { Replay.Input(path: $0) }, configuration: configuration)
        let sectioned = try TestSupport.replay([Replay.Input(path: try Self.combined())], configuration: configuration)
        func key(_ a: [String: Any]) -> String { "\(a["subject"]!) \(a["kind"]!) \(a["rule"]!) \(a["period"]!) \(a["value"].map { "\($0)" } ?? "")" }
        // Every feature's alerts. Not the composite's: separate files are merged in time, while one
        // stream is read in its order, all its sleep before its samples, so a day's composite is decided
        // as the daemon decides it for a client that sends the streams one after the other (without the
        // streams that had not started yet).
        func perFeature(_ alerts: [[String: Any]]) -> [String] {
            alerts.filter { !($0["rule"] as! String).hasPrefix("composite.") }.map(key).sorted()
        }
        #expect(perFeature(separate.alerts).count > 10)
        #expect(perFeature(sectioned.alerts) == perFeature(separate.alerts))
        #expect(sectioned.summary.counts.accepted == separate.summary.counts.accepted, "\(sectioned.summary.counts.accepted)")
        // The unreadable section's header and its row, nothing else.
        #expect(sectioned.summary.counts.totalRejected == 2)
    }

    @Test func oneConnectionCarriesSeveralFormatsCountedEachByItsOwn() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: try Self.combined())
        let errors = outcome.errors
        #expect(outcome.completed && outcome.accepted == 189 + 4196 + 135_822 && outcome.rejected == 2, "\(outcome) \(errors)")
        // The refused header (line 193, after its directive on 192) is reported once, naming its line and
        // what it lacks; its row is refused for it, counted, not reported again.
        #expect(errors.count == 1 && errors[0].hasPrefix("ERR 193 ") && errors[0].contains("activity header lacks"), "\(errors)")
        let metrics = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["metrics", "--control", daemon.controlPath]).output
        for (format, n) in [("sleep", 189), ("samples", 4196), ("typing", 135_822), ("activity", 0)] {
            #expect(metrics.contains("canary_rows_accepted_total{format=\"\(format)\"} \(n)\n"), "\(format): \(metrics.split(separator: "\n").filter { $0.contains("rows_accepted") })")
        }
        #expect(try daemon.stop() == 0)
    }
}
