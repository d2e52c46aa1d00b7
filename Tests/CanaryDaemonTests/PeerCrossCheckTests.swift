import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Canary configured with the reference rule of `peer_python.py` flags exactly the rows the peer flags.
@Suite struct PeerCrossCheckTests {
    /// (subject, metric, timestamp) of every data row of a samples CSV, in file order.
    static func rows(_ path: String) throws -> [(String, String, Double)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",")
            return (String(f[1]), String(f[2]), Double(f[0])!)
        }
    }

    static func flaggedByPeer(_ alertsFile: String, rows: [(String, String, Double)]) throws -> Set<String> {
        let text = try String(contentsOfFile: alertsFile, encoding: .utf8)
        return Set(text.split(separator: "\n").map { Int($0)! }.map { i in
            "\(rows[i].0)|\(rows[i].1)|\(AlertJSON.number(rows[i].2))"
        })
    }

    @Test func flagsExactlyThePeersRowsOnTheSmallGeneratedFile() throws {
        let data = TestSupport.fixture("peer-small.csv")
        let rows = try Self.rows(data)
        let expected = try Self.flaggedByPeer(TestSupport.fixture("peer-small.alerts"), rows: rows)
        #expect(expected.count == 42)

        let configuration = try CanaryConfiguration.load(path: TestSupport.root("bench/peer.toml"))
        let (alerts, summary, diagnostics) = try TestSupport.replay([.init(path: data)], configuration: configuration)
        #expect(diagnostics.isEmpty)
        #expect(summary.counts.accepted[.samples] == 48_000)
        let flagged = Set(alerts.map { a in
            "\(a["subject"] as! String)|\((a["features"] as! [String])[0])|\(AlertJSON.number(a["period_start"] as! Double))"
        })
        #expect(alerts.count == flagged.count, "one alert per flagged row")
        #expect(flagged == expected)
        #expect(alerts.allSatisfy { ($0["kind"] as? String) == "deviation" })
    }

    /// When the reference peer is at hand (it is beside the checkout, and in CI), run it live as well.
    @Test func agreesWithTheLivePeerWhenAvailable() throws {
        let peer = TestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/bench/peer_python.py").path
        guard FileManager.default.fileExists(atPath: peer) else { return }
        let out = TestSupport.temporaryFile("peer.alerts")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peer, TestSupport.fixture("peer-small.csv"), "--dump-alerts", out]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return }  // no python3 here: the committed list above still checks
        let live = try String(contentsOfFile: out, encoding: .utf8)
        let committed = try String(contentsOfFile: TestSupport.fixture("peer-small.alerts"), encoding: .utf8)
        #expect(live == committed)
    }
}
