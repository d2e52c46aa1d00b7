import CanaryDaemon
import Foundation

/// Runs the real `canaryd` binary for a test: a temporary directory with its configuration,
/// socket and alert log, a test-owned NOTIFY_SOCKET, optionally under `systemd-socket-activate`.
final class DaemonHarness: @unchecked Sendable {
    let directory: String
    let socketPath: String
    let alertLog: String
    var controlPath: String { directory + "/control.sock" }
    let stateDirectory: String
    var statePath: String { stateDirectory + "/state.sqlite" }

    /// The journal token of a subject, computed with this daemon's key.
    func token(_ subject: String, keyFile: String? = nil) throws -> String {
        let key = try Data(contentsOf: URL(fileURLWithPath: keyFile ?? stateDirectory + "/pseudonym.key"))
        return Pseudonymizer(key: key).token(for: subject)
    }
    let configPath: String
    let notify: NotifyListener
    let process = Process()
    /// Where the socket-activated canaryd's pid is written (nil: `process` is canaryd itself).
    private let pidFile: String?

    /// canaryd's pid.
    var pid: pid_t {
        guard let pidFile else { return process.processIdentifier }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let p = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return p
            }
            usleep(10_000)
        }
        return process.processIdentifier
    }
    private let output = Pipe()
    private let outputLock = NSLock()
    private var outputText = ""

    /// The directory holding the built executables (beside the test bundle), or `CANARY_TEST_BINARIES`
    /// to run the tests against another build (e.g. the commit before a fix, to see a test fail).
    static let binaries: URL = {
        if let dir = ProcessInfo.processInfo.environment["CANARY_TEST_BINARIES"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    static func binary(_ name: String) -> String {
        binaries.appendingPathComponent(name).path
    }

    /// - Parameters:
    ///   - extraConfig: TOML appended after the generated `[daemon]` keys (other sections welcome).
    ///   - socketActivated: start under `systemd-socket-activate` instead of letting canaryd bind.
    ///   - metricsAddress: with `socketActivated`, also pass a TCP listening socket named `metrics` (host:port).
    /// Subjects the generated configuration seeds with `monitor` and `alert:journal` consent.
    static let defaultConsent = ["ana", "ben", "chen", "dara", "eli", "s1", "s2", "x", "s-stall", "s-bin", "s-utf", "s-huge", "s-after"]

    init(daemonKeys: String = "", engineKeys: String = "", extraConfig: String = "", socketActivated: Bool = false, journal: String = "off",
         consent: [String] = DaemonHarness.defaultConsent, scopes: [String] = ["monitor", "alert:journal"], keyFile: String? = nil, rawSubjects: Bool = false,
         stateDirectory: String? = nil, maxLateness: String? = "1s", environment: [String: String] = [:],
         metricsAddress: String? = nil) throws {
        directory = "/tmp/canary-it-\(UUID().uuidString.prefix(8))"
        self.stateDirectory = stateDirectory ?? directory + "/state"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        socketPath = directory + "/ingest.sock"
        alertLog = directory + "/alerts.jsonl"
        configPath = directory + "/canary.toml"
        notify = try NotifyListener(directory: directory)
        let scopeList = scopes.map { "\"\($0)\"" }.joined(separator: ", ")
        let seeds = consent.map { "[[consent.grant]]\nsubject = \"\($0)\"\nscopes = [\(scopeList)]\nreference = \"test\"\n" }.joined(separator: "\n")
        try Self.config(socket: socketPath, alertLog: alertLog, maxLateness: maxLateness, engineKeys: engineKeys,
                        daemonKeys: "journal = \"\(journal)\"\ncontrol_socket = \"\(directory)/control.sock\"\n" + daemonKeys,
                        extra: "[state]\npath = \"\(self.stateDirectory)/state.sqlite\"\n\n[privacy]\nkey_file = \"\(keyFile ?? self.stateDirectory + "/pseudonym.key")\"\n"
                            + (rawSubjects ? "journal_subject = \"raw\"\n" : "") + "\n" + seeds + "\n" + extraConfig)
            .write(toFile: configPath, atomically: true, encoding: .utf8)

        var env = ["PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path, "HOME": directory]
        env.merge(environment) { $1 }
        if socketActivated {
            // Through Fixtures/run_and_wait.py (why: there): canaryd's pid is in `pidFile`.
            pidFile = directory + "/canaryd.pid"
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            // A second socket named "metrics" stands for canaryd-metrics.socket.
            var args = metricsAddress.map { ["-l", socketPath, "-l", $0, "--fdname=ingest:metrics"] } ?? ["-l", socketPath, "--fdname=ingest"]
            for (k, v) in env { args += ["-E", "\(k)=\(v)"] }
            args += [Self.binary("canaryd"), "--config", configPath]
            process.arguments = [TestSupport.fixture("run_and_wait.py"), pidFile!, "/usr/bin/systemd-socket-activate"] + args
        } else {
            pidFile = nil
            process.executableURL = URL(fileURLWithPath: Self.binary("canaryd"))
            process.arguments = ["--config", configPath]
        }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.outputLock.lock()
            self.outputText += String(decoding: data, as: UTF8.self)
            self.outputLock.unlock()
        }
        try process.run()
    }

    static func config(socket: String, alertLog: String, maxLateness: String?, engineKeys: String = "", daemonKeys: String, extra: String) -> String {
        """
        [daemon]
        socket = "\(socket)"
        socket_mode = "0666"
        alert_log = "\(alertLog)"
        status_interval = "1s"
        drain_timeout = "5s"
        max_close_interval = "1s"
        \(daemonKeys)

        [engine]
        timezone = "Europe/Oslo"
        # The fixtures have fixed dates (2026-03): keep them inside engine.max_past whatever the clock says.
        max_past = "36500d"
        # A stream quiet this long closes its days by the clock (the fixtures' last days, in most tests).
        \(maxLateness.map { "max_lateness = \"\($0)\"" } ?? "")
        \(engineKeys)

        \(extra)
        """
    }

    /// Everything canaryd wrote to stdout/stderr so far.
    var log: String {
        outputLock.lock()
        defer { outputLock.unlock() }
        return outputText
    }

    /// Sends a file once the socket answers: socket-activated, canaryd starts on the first connection,
    /// which then waits in the backlog. Nil when nothing answered within 10 s.
    func sendStarting(path: String) -> IngestClient.Outcome? {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let outcome = try? IngestClient(socketPath: socketPath).send(path: path) { return outcome }
            usleep(50_000)
        }
        return nil
    }

    /// A valid reload (a subject's zone added to the configuration): SIGHUP, then READY=1 with
    /// "configuration reloaded".
    func reloadValid() throws {
        try (try String(contentsOfFile: configPath, encoding: .utf8) + "\n[subjects.eli]\ntimezone = \"Europe/Oslo\"\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        signal(SIGHUP)
        try notify.wait(for: "READY after reload") { $0.contains("READY=1") && $0.contains("configuration reloaded") }
    }

    /// An invalid configuration (an unknown zone) and SIGHUP: returns the notify message of the refusal.
    @discardableResult
    func reloadInvalid() throws -> String {
        try "[engine]\ntimezone = \"Mars/Olympus\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        signal(SIGHUP)
        return try notify.wait(for: "READY after a refused reload") { $0.contains("reload refused") }
    }

    /// Waits for READY=1 (canaryd binding its own socket).
    func waitReady() throws {
        try notify.wait(for: "READY=1") { $0.contains("READY=1") }
    }

    func signal(_ sig: Int32) {
        kill(pid, sig)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    func stop(timeout: Double = 20) throws -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        return try waitExit(timeout: timeout)
    }

    func waitExit(timeout: Double = 20) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            if pidFile != nil { kill(pid, SIGKILL) }
            process.terminate()
            throw TestFailure("canaryd did not exit within \(timeout) s; log:\n\(log)")
        }
        return process.terminationStatus
    }

    func alerts() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: alertLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Waits until the alert log holds at least `count` alerts.
    func waitForAlerts(atLeast count: Int, timeout: Double = 20) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let a = alerts()
            if a.count >= count { return a }
            usleep(50_000)
        }
        throw TestFailure("fewer than \(count) alerts after \(timeout) s: \(alerts().count); log:\n\(log)")
    }

    deinit {
        if process.isRunning {
            if pidFile != nil { kill(pid, SIGKILL) }
            process.terminate()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
