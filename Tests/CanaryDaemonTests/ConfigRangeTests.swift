import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Every number and duration in the configuration has a valid range: `inf`, `nan`, `1e300d`,
/// negative and huge values are refused naming the key, by check-config and by a reload, instead of
/// trapping at start or on `systemctl reload`.
@Suite(.serialized) struct ConfigRangeTests {
    /// A numeric key: the table it sits in (with what that table needs besides), and its name.
    struct NumericKey: Sendable, CustomTestStringConvertible {
        var table: String
        var name: String
        var preamble = ""
        /// Negative values are valid (a metric's min/max).
        var signed = false

        var key: String { "\(table).\(name)" }
        var testDescription: String { key }

        func toml(_ value: String) -> String {
            "[\(table)]\n\(preamble)\(name) = \(value)\n"
        }
    }

    static let webhook = "url = \"https://alerts.example.org/hook\"\nsecret_file = \"webhook-secret\"\n"
    static let composite = "features = [\"steps\", \"sleep_duration\"]\n"

    static let keys: [NumericKey] = {
        var keys: [NumericKey] = []
        func add(_ table: String, _ names: [String], preamble: String = "") {
            keys += names.map { NumericKey(table: table, name: $0, preamble: preamble) }
        }
        add("engine", ["close_delay", "max_lateness", "max_future", "max_past"])
        add("baseline", ["window_days", "min_history_days", "weekday_min_samples"])
        add("sleep", ["min_main_sleep_min"])
        add("activity", ["active_threshold", "sedentary_threshold", "non_wear_min", "non_wear_tolerance_min", "min_wear_min", "max_count"])
        add("typing", ["session_gap", "max_flight_ms", "min_keystrokes", "late_night_end_hour"])
        add("gaps", ["sleep", "activity", "typing", "samples"])
        add("rules.steps", ["threshold", "persistence", "cooldown", "resolve_below", "cusum_k", "cusum_h", "cusum_clip", "floor_abs", "floor_rel"])
        add("metrics.default", ["alpha", "warmup", "min_observations"])
        add("metrics.hr", ["alpha", "warmup", "min_observations"])
        add("metrics.hr.rule", ["threshold", "persistence", "cooldown", "floor_abs"])
        keys += ["min", "max"].flatMap { n in ["metrics.default", "metrics.hr"].map { NumericKey(table: $0, name: n, signed: true) } }
        add("composite.x", ["alpha", "min_features", "persistence", "cooldown"], preamble: composite)
        add("daemon", ["max_line_bytes", "status_interval", "drain_timeout", "settle", "max_close_interval", "progress_interval"])
        add("state", ["snapshot_interval", "alert_commit_interval", "retention"])
        add("delivery", ["max_concurrent"])
        add("webhooks.w", ["timeout", "backoff_initial", "backoff_max", "max_age"], preamble: webhook)
        return keys
    }()

    /// Values no numeric key takes: non-finite, far too large (as numbers, durations and whole numbers), negative.
    static let badValues = ["inf", "-inf", "nan", "+inf", "\"1e300d\"", "\"inf\"", "1e300", "-1e300",
                            "9223372036854775807", "-9223372036854775808", "-1"]

    @Test(arguments: keys, badValues)
    func refusesOutOfRangeNamingTheKey(_ key: NumericKey, _ value: String) {
        if key.signed && value == "-1" { return }
        do {
            let c = try CanaryConfiguration.parse(key.toml(value))
            Issue.record("\(key.key) = \(value) accepted: \(c.engine.closeDelaySeconds)")
        } catch {
            #expect(error.key == key.key, "\(key.key) = \(value): \(error)")
        }
    }

    @Test func eachKeyTakesAValueInsideItsRange() throws {
        // The refusals above are about the values, not the keys: a plausible value of each is accepted.
        let plausible: [String: String] = ["alpha": "0.1", "persistence": "\"2/3\"", "window_days": "28", "min_history_days": "14",
                                           "min": "-5", "max": "5", "late_night_end_hour": "5", "max_line_bytes": "4096",
                                           "drain_timeout": "\"5s\"", "alert_commit_interval": "\"1s\"", "retention": "\"30d\"",
                                           "max_past": "\"30d\"", "timeout": "\"5s\"", "max_age": "\"1h\"", "resolve_below": "1",
                                           "max_flight_ms": "2000", "max_count": "5000"]
        for key in Self.keys {
            #expect(throws: Never.self, "\(key.key)") { try CanaryConfiguration.parse(key.toml(plausible[key.name] ?? "2")) }
        }
    }

    @Test func checkConfigRefusesAnInfiniteDurationNamingTheKey() throws {
        let path = TestSupport.temporaryFile("inf.toml")
        try "[engine]\nclose_delay = inf\n".write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DaemonHarness.binary("canaryctl"))
        p.arguments = ["check-config", path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1, "\(text)")
        #expect(text.contains("engine.close_delay"), "\(text)")
    }

    @Test func aReloadWithAnAbsurdDurationIsRefusedAndTheDaemonKeepsRunning() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        // "1e300d" passed check-config and trapped converting it to whole days, killing canaryd on reload.
        #expect(config.contains("[state]\n"))
        try config.replacingOccurrences(of: "[state]\n", with: "[state]\nretention = \"1e300d\"\n")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let refused = try daemon.notify.wait(for: "a refused reload") { $0.contains("reload refused") }
        #expect(refused.contains("state.retention"), "\(refused)")

        // And an infinite interval, through a duration the old code took as seconds.
        try config.replacingOccurrences(of: "max_close_interval = \"1s\"", with: "max_close_interval = \"1s\"\nprogress_interval = inf")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let again = try daemon.notify.wait(for: "a second refused reload") { $0.contains("reload refused") && $0.contains("progress_interval") }
        #expect(again.contains("READY=1"))

        // Still serving, on the previous configuration.
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: DaemonLifecycleTests.sleepFile)
        #expect(outcome.completed && outcome.accepted == 189, "\(outcome)")
        #expect(try daemon.stop() == 0)
    }
}
