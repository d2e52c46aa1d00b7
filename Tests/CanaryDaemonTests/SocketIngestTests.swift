@testable import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The ingest socket under hostile and heavy use: the daemon stays up, answers every client, and
/// counts every valid row.
@Suite(.serialized) struct SocketIngestTests {
    static let header = "timestamp,subject,metric,value\n"

    static func rows(_ subject: String, count: Int, start: Int = 1_700_000_000) -> String {
        (0..<count).map { "\(start + $0 * 60),\(subject),hr,\(60 + $0 % 7)\n" }.joined()
    }

    @Test func survivesGarbageHugeLinesAndStallsAndCountsTheValidRows() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()

        // A client that sends half a line and stalls must not block anyone.
        let staller = try RawClient(path: daemon.socketPath)
        try staller.send(Self.header + "1700000000,s-stall,hr,6")

        // Random binary with newlines in it.
        var generator = SystemRandomNumberGenerator()
        let binary = try RawClient(path: daemon.socketPath)
        try binary.send(Self.header + Self.rows("s-bin", count: 5))
        try binary.send((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try binary.send("\n" + Self.rows("s-bin", count: 5, start: 1_700_100_000))
        binary.halfClose()

        // Invalid UTF-8 in a subject, between valid rows.
        let utf8 = try RawClient(path: daemon.socketPath)
        try utf8.send(Self.header + Self.rows("s-utf", count: 3))
        try utf8.send([0x31, 0x37, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x2c, 0xff, 0xfe, 0x2c, 0x68, 0x72, 0x2c, 0x36, 0x30, 0x0a])
        try utf8.send(Self.rows("s-utf", count: 3, start: 1_700_100_000))
        utf8.halfClose()

        // A 10 MB line between valid rows: refused, skipped, the rows after it still count.
        let huge = try RawClient(path: daemon.socketPath)
        try huge.send(Self.header + Self.rows("s-huge", count: 4))
        try huge.send("1700050000,s-huge,hr," + String(repeating: "7", count: 10_000_000) + "\n")
        try huge.send(Self.rows("s-huge", count: 4, start: 1_700_100_000))
        huge.halfClose()

        let binaryReply = binary.readAll()
        #expect(binaryReply.contains("OK accepted=10 "), "\(binaryReply.suffix(200))")
        #expect(binaryReply.contains("ERR "))
        let utf8Reply = utf8.readAll()
        #expect(utf8Reply.contains("ERR 5 invalid-utf8: field 'subject'"), "\(utf8Reply)")
        #expect(utf8Reply.hasSuffix("OK accepted=6 rejected=1\n"), "\(utf8Reply)")
        let hugeReply = huge.readAll()
        #expect(hugeReply.contains("ERR 6 line-too-long"), "\(hugeReply)")
        #expect(hugeReply.hasSuffix("OK accepted=8 rejected=1\n"), "\(hugeReply)")

        // The stalled client is still open and the daemon still serves others.
        let small = daemon.directory + "/small.csv"
        try (Self.header + Self.rows("s-after", count: 3)).write(toFile: small, atomically: true, encoding: .utf8)
        let after = try IngestClient(socketPath: daemon.socketPath).send(path: small)
        #expect(after.completed && after.accepted == 3)
        // The staller finally finishes its line: it is counted too.
        try staller.send("0\n")
        staller.halfClose()
        #expect(staller.readAll().hasSuffix("OK accepted=1 rejected=0\n"))
        #expect(try daemon.stop() == 0)
    }

    @Test func answersTwoHundredConcurrentClients() async throws {
        let daemon = try DaemonHarness(consent: (0..<200).map { "c\($0)" })
        try daemon.waitReady()
        let path = daemon.socketPath
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let client = try RawClient(path: path)
                    try client.send(Self.header + Self.rows("c\(i)", count: 50) + "bad,row\n")
                    client.halfClose()
                    return client.readAll()
                }
            }
            var all: [String] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.hasSuffix("OK accepted=50 rejected=1\n") })
        try daemon.notify.wait(for: "STATUS with every row") { $0.contains("10000 rows ingested") }
        #expect(try daemon.stop() == 0)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run a client as another user"))
    func refusesAPeerNotOnTheAllowList() throws {
        let daemon = try DaemonHarness(daemonKeys: "allow_users = [\"root\"]\nallow_groups = []")
        try daemon.waitReady()
        let script = """
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("\(daemon.socketPath)")
        try:
            s.sendall(b"timestamp,subject,metric,value\\n1700000000,x,hr,60\\n")
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        print(s.recv(4096).decode(), end="")
        """
        let reply = try TestSupport.runAsNobody(python: script)
        #expect(reply == "ERR 0 unauthorized\n")
        // root (on the list) still gets through.
        let ok = try IngestClient(socketPath: daemon.socketPath).send(path: TestSupport.root("config/sample/sleep.csv"))
        #expect(ok.accepted == 189)
        #expect(try daemon.stop() == 0)
        #expect(daemon.log.contains("refused an unauthorized ingest peer"))
        #expect(daemon.log.contains("peer_uid=65534"))
    }
}

/// What the daemon does with time: zones from directives, rows for days already evaluated, clients
/// that do not read their replies.
@Suite(.serialized) struct SocketSemanticsTests {
    @Test func aZoneDirectiveMovesTheSubjectsDaysAsInReplay() throws {
        let lines = try String(contentsOfFile: TestSupport.root("config/sample/sleep.csv"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("eli,") || $0.hasPrefix("subject,") }
        let data = TestSupport.temporaryFile("eli.csv")
        try ("#canary subject=eli tz=Pacific/Auckland\n" + lines.joined(separator: "\n") + "\n")
            .write(toFile: data, atomically: true, encoding: .utf8)
        let noGaps = DaemonLifecycleTests.noGaps
        let replayed = try TestSupport.replay([.init(path: data)], configuration: CanaryConfiguration.parse("[engine]\ntimezone = \"Europe/Oslo\"\n" + noGaps)).alerts

        let daemon = try DaemonHarness(extraConfig: noGaps)
        try daemon.waitReady()
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: data)
        #expect(outcome.accepted == lines.count - 1 && outcome.late == 0)
        let served = try daemon.waitForAlerts(atLeast: replayed.count)
        #expect(try daemon.stop() == 0)
        func key(_ a: [String: Any]) -> String { "\(a["rule"]!) \(a["period"]!) \(a["value"] ?? "")" }
        #expect(served.map(key).sorted() == replayed.map(key).sorted())
        // Onset is read on Auckland's clock: eli's 02:00 Oslo bedtimes are early afternoon there.
        let onset = try #require(served.first { ($0["rule"] as? String) == "sleep_onset.threshold" })
        #expect((onset["value"] as! Double) > 600 && (onset["value"] as! Double) < 1000)
    }

    @Test func rowsForDaysAlreadyEvaluatedAreReportedLate() throws {
        let daemon = try DaemonHarness(extraConfig: DaemonLifecycleTests.noGaps)
        try daemon.waitReady()
        let header = "timestamp,subject,metric,value\n"
        let first = TestSupport.temporaryFile("first.csv")
        try (header + "2026-03-10T12:00:00Z,s1,temp,36.6\n").write(toFile: first, atomically: true, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: first).accepted == 1)
        // Once ingest has settled (1 s here) the day is evaluated; rows for it later are late.
        sleep(3)
        let second = TestSupport.temporaryFile("second.csv")
        try (header + "2026-03-10T13:00:00Z,s1,temp,36.7\n2026-03-10T14:00:00Z,s1,temp,36.8\n")
            .write(toFile: second, atomically: true, encoding: .utf8)
        let outcome = try IngestClient(socketPath: daemon.socketPath).send(path: second)
        #expect(outcome.accepted == 2 && outcome.rejected == 0 && outcome.late == 2)
        #expect(try daemon.stop() == 0)
    }

    @Test func aClientThatNeverReadsItsRepliesCannotGrowTheDaemon() throws {
        let daemon = try DaemonHarness()
        try daemon.waitReady()
        let client = try RawClient(path: daemon.socketPath)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Every line is rejected, so every line earns a reply the client never reads.
        let chunk = Array(("timestamp,subject,metric,value\n" + String(repeating: "x,y\n", count: 250_000)).utf8)
        var sent = 0
        for _ in 0..<20 {
            let n = chunk.withUnsafeBytes { write(client.fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            sent += n
        }
        let status = try String(contentsOfFile: "/proc/\(daemon.pid)/status", encoding: .utf8)
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map { Int($0.split(separator: " ")[1])! } ?? 0
        #expect(sent < 20 * chunk.count, "the daemon stopped reading a client that does not read")
        #expect(rss < 200_000, "daemon RSS \(rss) kB")
        // Others are still served.
        let other = TestSupport.temporaryFile("ok.csv")
        try "timestamp,subject,metric,value\n1767225600,s2,hr,60\n".write(toFile: other, atomically: true, encoding: .utf8)
        #expect(try IngestClient(socketPath: daemon.socketPath).send(path: other).accepted == 1)
        #expect(try daemon.stop() == 0)
    }

    @Test func aConnectionThatStaysOpenHearsCommittedProgress() throws {
        let state = "/tmp/canary-it-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        // All rows on one local day (2023-11-14, 01:00-04:00 in Oslo), which stays open (the stream's data
        // does not pass its end, and the test is shorter than max_lateness): the rows themselves are in the saved state.
        let daemon = try DaemonHarness(daemonKeys: "progress_interval = \"0.2s\"", stateDirectory: state, maxLateness: "1h")
        try daemon.waitReady()
        let client = try RawClient(path: daemon.socketPath)
        try client.send(SocketIngestTests.header + SocketIngestTests.rows("s1", count: 100, start: 1_699_920_000) + "1699929000,s1,hr,fast\n")
        #expect(client.readLine() == "ERR 102 not-a-number: field 'value': not a number: \"fast\"")
        #expect(client.readLine() == "PROGRESS line=102 accepted=100 rejected=1", "without a half-close, after the commit")
        try client.send(SocketIngestTests.rows("s1", count: 10, start: 1_699_930_000))
        #expect(client.readLine() == "PROGRESS line=112 accepted=110 rejected=1")
        #expect(client.readLine(timeout: 1) == nil, "nothing new, nothing said")

        // Killed without ever sending OK: what PROGRESS acknowledged is in the saved state.
        daemon.signal(SIGKILL)
        _ = try daemon.waitExit()
        var engine = CanaryEngine(configuration: EngineConfiguration())
        try engine.importState(StateStore(path: daemon.statePath).loadSubjectStates())
        let kept = engine.subjects["s1"]?.days.values.reduce(0) { $0 + ($1.samples["hr"]?.count ?? 0) } ?? 0
        #expect(kept == 110)
    }
}
