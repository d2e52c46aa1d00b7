import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `canaryctl report`: the sample subject eli's report, offline over the sample files and from the
/// running daemon, loaded in a real browser (Debian's chromium, headless; scripts/test.sh installs it):
/// no console errors, one SVG chart per feature with its alert markers, a PNG that is not blank, a PDF.
@Suite(.serialized) struct ReportTests {
    static let chromium = "/usr/bin/chromium"
    static let sample = ["sleep.csv", "activity.csv", "typing.csv", "samples.csv"].map { TestSupport.root("config/sample/\($0)") }

    @Test func theSampleReportOfEliLoadsInABrowserWithEveryChartAndAlertMarker() throws {
        let dir = TestSupport.temporaryFile("report-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let html = dir + "/eli.html"
        let config = TestSupport.root("config/sample/canary.toml")
        let made = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["report", "--config", config, "--subject", "eli"] + Self.sample + ["--out", html])
        #expect(made.status == 0, "\(made.output)")

        // What the replay decided for eli: each alert is marked on the chart of each of its features.
        var replay = Replay(configuration: try CanaryConfiguration.load(path: config), inputs: Self.sample.map { Replay.Input(path: $0) },
                            now: Date().timeIntervalSince1970)
        replay.collect = true
        let alerts = try replay.run(alerts: nil, scores: nil, diagnostics: { _ in }, progress: nil).alerts.filter { $0.subject == "eli" }
        #expect(alerts.count == 22)  // the episode's 11 alerts and their 11 resolved events

        let page = try String(contentsOfFile: html, encoding: .utf8)
        // Self-contained: nothing is loaded and nothing runs.
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href=") && !page.contains("@import"))

        let (dom, log) = try Self.browser(["--dump-dom", "file://\(html)"])
        #expect(!log.contains("CONSOLE"), "console messages: \(log.split(separator: "\n").filter { $0.contains("CONSOLE") })")
        let charted = Set(Self.matches(#"<section class="chart" id="feature-([a-z0-9_]+)""#, in: dom))
        #expect(Self.count("<svg class=\"plot\"", in: dom) == charted.count)
        #expect(charted.isSuperset(of: ["sleep_duration", "steps", "backspace_rate", "flight_median", "resting_hr"]))
        let expected = alerts.reduce(0) { $0 + $1.features.filter(charted.contains).count }
        #expect(expected == 30)
        #expect(Self.count("class=\"alert-marker", in: dom) == expected)
        #expect(Self.count("class=\"alert-marker resolved\"", in: dom) == alerts.filter { $0.kind == .resolved }.reduce(0) { $0 + $1.features.count })
        // Every chart has its text alternative: a description and a table of its numbers.
        #expect(Self.count("<desc id=", in: dom) == charted.count && Self.count("<details>", in: dom) == charted.count)
        // The deviating days of the episode are marked (eli's nights of 2026-03-26 to 2026-04-01 are short).
        #expect(dom.contains("2026-03-28: 3.9 h"))
        #expect(Self.count("class=\"deviating\"", in: dom) >= 20)

        let png = dir + "/eli.png", pdf = dir + "/eli.pdf"
        _ = try Self.browser(["--hide-scrollbars", "--window-size=820,1600", "--screenshot=\(png)", "file://\(html)"])
        _ = try Self.browser(["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", "file://\(html)"])
        let stats = try ProcessRun.run("/usr/bin/python3", [TestSupport.fixture("png_stats.py"), png])
        let numbers = stats.output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        #expect(stats.status == 0 && numbers.count == 4, "\(stats.output)")
        if numbers.count == 4 {
            #expect(numbers[0] == 820 && numbers[1] == 1600)
            #expect(numbers[2] >= 50, "distinct colours: \(numbers[2])")
            #expect(numbers[3] >= 5, "non-white share: \(numbers[3]) %")
        }
        let pdfData = try Data(contentsOf: URL(fileURLWithPath: pdf))
        #expect(pdfData.starts(with: Array("%PDF".utf8)) && pdfData.count > 20_000)
    }

    @Test func theRunningDaemonReportsWhatItHoldsNamedAsTheJournalNamesAndOnlyWithConsent() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: DaemonLifecycleTests.sleepFile).accepted == 189)
        let logged = try daemon.waitForAlerts(atLeast: 10)
        let token = try daemon.token("eli")
        let html = daemon.directory + "/report.html"
        let made = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["report", "eli", "--control", daemon.controlPath, "--out", html])
        #expect(made.status == 0, "\(made.output)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        // Named by the journal's token (the default journal naming), never by the raw id.
        #expect(page.contains("Canary report: \(token)"))
        #expect(!page.contains(">eli<") && !page.contains("report: eli"))
        #expect(page.contains("id=\"feature-sleep_duration\""))
        let charted = Set(Self.matches(#"<section class="chart" id="feature-([a-z0-9_]+)""#, in: page))
        let eli = logged.filter { ($0["subject"] as? String) == token }
        let expected = eli.reduce(0) { $0 + (($1["features"] as? [String]) ?? []).filter(charted.contains).count }
        #expect(expected > 0 && Self.count("class=\"alert-marker", in: page) == expected)
        // --from/--to limit the days; a subject without consent has no report.
        let narrow = try ProcessRun.run(DaemonHarness.binary("canaryctl"),
                                        ["report", "eli", "--control", daemon.controlPath, "--from", "2026-03-27", "--to", "2026-03-29", "--out", html])
        #expect(narrow.status == 0, "\(narrow.output)")
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("2026-03-27 to 2026-03-29"))
        let refused = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["report", "nobody", "--control", daemon.controlPath, "--out", html])
        #expect(refused.status == 1 && refused.output.contains("no evaluation state for nobody"), "\(refused.output)")
        #expect(try daemon.stop() == 0)
    }

    // MARK: Helpers

    /// Runs headless chromium: what it printed on standard output, and its log.
    static func browser(_ arguments: [String]) throws -> (output: String, log: String) {
        guard FileManager.default.isExecutableFile(atPath: chromium) else {
            throw TestFailure("\(chromium) is missing: scripts/test.sh installs Debian's chromium for the report tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        // No sandbox: the tests run as root. Logging to standard error shows the page's console messages.
        let profile = TestSupport.temporaryFile("chromium-profile-" + UUID().uuidString.prefix(8))
        defer { try? FileManager.default.removeItem(atPath: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                             "--user-data-dir=" + profile] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = Thread.detachedRead(err.fileHandleForReading)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: output, as: UTF8.self), errors())
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}

extension Thread {
    /// Reads `handle` to its end on a thread of its own; the returned function waits for the text.
    static func detachedRead(_ handle: FileHandle) -> () -> String {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var text = ""
        Thread.detachNewThread {
            text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            done.signal()
        }
        return {
            done.wait()
            return text
        }
    }
}
