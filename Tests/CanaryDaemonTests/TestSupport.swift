import CanaryCore
import Foundation
@testable import CanaryDaemon

/// Paths and helpers shared by the daemon tests.
enum TestSupport {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> String {
        fixtures.appendingPathComponent(name).path
    }

    /// The package root (for config/ and bench/), found from this source file.
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static func root(_ relative: String) -> String {
        packageRoot.appendingPathComponent(relative).path
    }

    static func temporaryFile(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("canary-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Runs a Python snippet as user nobody (uid/gid 65534, no groups) and returns what it printed.
    static func runAsNobody(python script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a replay and returns the alerts it printed (parsed) and the diagnostics.
    static func replay(_ inputs: [Replay.Input], configuration: CanaryConfiguration,
                       scores: String? = nil) throws -> (alerts: [[String: Any]], summary: Replay.Summary, diagnostics: [String]) {
        let out = temporaryFile("alerts.jsonl")
        let summary: Replay.Summary
        var diagnostics: [String] = []
        do {
            let writer = try BufferedWriter(path: out)
            let scoresWriter = try scores.map { try BufferedWriter(path: $0) }
            let replay = Replay(configuration: configuration, inputs: inputs, now: 1_900_000_000)
            summary = try replay.run(alerts: writer, scores: scoresWriter, diagnostics: { diagnostics.append($0) }, progress: nil)
        }
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let alerts = text.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        return (alerts, summary, diagnostics)
    }
}
