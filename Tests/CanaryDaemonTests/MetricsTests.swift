import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The operator's metrics, scraped from the real daemon over a TCP socket passed in by
/// `systemd-socket-activate` (as `canaryd-metrics.socket` passes it) and over the control socket with
/// `canaryctl metrics`, each checked by Debian's `promtool check metrics` (scripts/test.sh installs it).
@Suite(.serialized) struct MetricsTests {
    static let promtool = "/usr/bin/promtool"

    @Test func scrapedOverTheActivatedSocketAndTheControlSocketValidForPromtool() throws {
        let port = try WebhookReceiver.freePort()
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps, socketActivated: true,
                                       metricsAddress: "127.0.0.1:\(port)")
        #expect(daemon.sendStarting(path: DaemonLifecycleTests.sleepFile)?.accepted == 189)
        // Two bad rows (a value that is no number, a subject without consent), and one good row.
        let bad = TestSupport.temporaryFile("metrics-bad.csv")
        try "timestamp,subject,metric,value\n2026-03-02T10:00:00Z,eli,hr,abc\n2026-03-02T10:00:00Z,nobody,hr,60\n2026-03-02T10:00:00Z,eli,hr,61\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let second = try IngestClient(socketPath: daemon.socketPath).send(path: bad)
        #expect(second.accepted == 1 && second.rejected == 2)
        let alerts = try daemon.waitForAlerts(atLeast: 10)

        let (status, text) = try Self.get(port: port, path: "/metrics")
        #expect(status == 200)
        let m = Self.samples(text)
        #expect(m[#"canary_rows_accepted_total{format="sleep"}"#] == 189)
        #expect(m[#"canary_rows_accepted_total{format="samples"}"#] == 1)
        #expect(m[#"canary_rows_rejected_total{format="samples",reason="not-a-number"}"#] == 1)
        #expect(m[#"canary_rows_rejected_total{format="samples",reason="no-consent"}"#] == 1)
        #expect(m[#"canary_ingest_connections_total{result="accepted"}"#] ?? 0 >= 2)
        #expect(m["canary_subjects_tracked"] == 5)  // ana, ben, chen, dara, eli
        #expect(m["canary_series_tracked"] ?? 0 >= 4)
        #expect(m["canary_periods_closed_total"] ?? 0 >= 30)
        // Every alert in the log was committed and delivered (the log is the journal channel here).
        let kinds = Dictionary(grouping: alerts, by: { $0["kind"] as? String ?? "?" }).mapValues { Double($0.count) }
        for (kind, n) in kinds { #expect(m["canary_alerts_total{kind=\"\(kind)\"}"] == n, "\(kind)") }
        #expect(m[#"canary_deliveries_total{channel="journal",outcome="delivered"}"#] == Double(alerts.count))
        #expect(m["canary_outbox_deliveries_owed"] == 0)
        #expect(m[#"canary_commits_total{result="ok"}"#] ?? 0 >= 1)
        #expect(m["canary_commit_duration_seconds_count"] ?? 0 >= 1)
        #expect(m["canary_evaluation_lag_seconds_count"] ?? 0 >= 1)
        #expect(m["canary_build_info{version=\"\(CanaryCoreVersion.string)\"}"] == 1)
        // No subject id or token in any label.
        let values = Self.labelValues(text)
        for subject in DaemonHarness.defaultConsent + ["nobody"] {
            let token = try daemon.token(subject)
            #expect(!values.contains(subject) && !values.contains(token), "\(subject)")
        }
        #expect(try Self.promtoolCheck(text) == "")

        // A client that never finishes its request is closed (after 10 s), not held forever.
        let started = Date()
        #expect(try Self.halfRequestClosed(port: port, within: 20))
        #expect(Date().timeIntervalSince(started) >= 9)

        // Other paths are not found; the control socket serves the same families.
        #expect(try Self.get(port: port, path: "/other").status == 404)
        let ctl = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["metrics", "--control", daemon.controlPath])
        #expect(ctl.status == 0, "\(ctl.output)")
        #expect(Self.samples(ctl.output)[#"canary_rows_accepted_total{format="sleep"}"#] == 189)
        #expect(Set(Self.families(ctl.output)) == Set(Self.families(text)))
        #expect(try Self.promtoolCheck(ctl.output) == "")

        // Reloads, by result.
        try daemon.reloadValid()
        try daemon.reloadInvalid()
        let after = Self.samples(try Self.get(port: port, path: "/metrics").body)
        #expect(after[#"canary_reloads_total{result="applied"}"#] == 1)
        #expect(after[#"canary_reloads_total{result="refused"}"#] == 1)
        #expect(try daemon.stop() == 0)
    }

    /// Without a socket named `metrics` canaryd serves metrics on the control socket only, and says so.
    @Test func withoutTheMetricsSocketOnlyTheControlSocketServes() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()
        let ctl = try ProcessRun.run(DaemonHarness.binary("canaryctl"), ["metrics", "--control", daemon.controlPath])
        #expect(ctl.status == 0 && ctl.output.contains("# TYPE canary_rows_accepted_total counter"), "\(ctl.output)")
        #expect(daemon.log.contains("control socket only"), "\(daemon.log)")
        #expect(try daemon.stop() == 0)
    }

    // MARK: Helpers

    /// `promtool check metrics` on `text`: its complaints ("" when none), failing when it is missing.
    static func promtoolCheck(_ text: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: promtool) else {
            throw TestFailure("\(promtool) is missing: scripts/test.sh installs Debian's prometheus package for it")
        }
        let r = try ProcessRun.run(promtool, ["check", "metrics"], input: text)
        return r.status == 0 ? "" : "exit \(r.status): \(r.output)"
    }

    /// Samples by series (`name{labels}`), from the text format.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    /// Every label value of every sample.
    static func labelValues(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                if let eq = pair.firstIndex(of: "=") { out.insert(String(pair[pair.index(after: eq)...].dropFirst().dropLast())) }
            }
        }
        return out
    }

    /// The metric family names of `# TYPE` lines.
    static func families(_ text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
    }

    /// Sends half a request and waits for the server to close the connection: true when it did.
    static func halfRequestClosed(port: Int, within seconds: Int) throws -> Bool {
        let fd = try connect(port: port)
        defer { close(fd) }
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n".withCString { write(fd, $0, strlen($0)) }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 0
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    /// A plain HTTP/1.1 GET on loopback: the status and the body.
    static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let fd = try connect(port: port)
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { write(fd, $0, strlen($0)) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        let response = String(decoding: data, as: UTF8.self)
        guard let split = response.range(of: "\r\n\r\n") else { throw TestFailure("no HTTP response: \(response)") }
        let status = Int(response.split(separator: " ", maxSplits: 2)[1]) ?? 0
        return (status, String(response[split.upperBound...]))
    }
}
