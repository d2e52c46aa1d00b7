import Foundation
import Testing
@testable import CanaryCore

/// CanaryCore's actigraphy features against pyActigraphy 1.2.2 on the four Depresjon recordings
/// (`Fixtures/actigraphy`, made by `scripts/actigraphy-reference.py`): IS, IV, RA, L5 and M10 to 1e-6
/// over each whole recording and every 7-day window, and Cole–Kripke labels minute for minute.
@Suite struct ActigraphyReferenceTests {
    struct Reference: Decodable {
        struct Rhythm: Decodable {
            var IS: Double?, IV: Double?, RA: Double?, L5: Double, M10: Double
            var L5_start_min: Int, M10_start_min: Int
            var offset_min: Int?
        }
        var name: String
        var start: String
        var minutes: Int
        var whole: Rhythm
        var windows: [Rhythm]
        var ck_runs: [Int]
    }

    static let names = ["condition_1", "condition_2", "control_1", "control_2"]

    static func load(_ name: String) throws -> (counts: [Double?], reference: Reference) {
        let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/actigraphy")
        let text = try String(contentsOf: folder.appendingPathComponent("\(name).counts"), encoding: .utf8)
        let counts: [Double?] = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0 == "-" ? nil : Double($0)! }
        let json = try Data(contentsOf: folder.appendingPathComponent("\(name).reference.json"))
        return (counts, try JSONDecoder().decode(Reference.self, from: json))
    }

    /// Minute of the day of the recording's first minute (`2003-05-07T12:00:00` → 720).
    static func firstMinute(_ start: String) -> Int {
        let time = start.split(separator: "T")[1].split(separator: ":").map { Int($0)! }
        return time[0] * 60 + time[1]
    }

    static func check(_ r: RhythmFeatures.Result, against e: Reference.Rhythm, binarized: [RhythmFeatures.Minute],
                      firstMinute: Int, what: String) {
        // No variance (a device stuck above the threshold): the reference's NaN, Canary's nil.
        func same(_ a: Double?, _ b: Double?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return abs(a - b) <= 1e-6
        }
        #expect(same(r.interdailyStability, e.IS), "\(what) IS \(String(describing: r.interdailyStability)) vs \(String(describing: e.IS))")
        #expect(same(r.intradailyVariability, e.IV), "\(what) IV \(String(describing: r.intradailyVariability)) vs \(String(describing: e.IV))")
        #expect(same(r.relativeAmplitude, e.RA), "\(what) RA")
        #expect(abs(r.l5! - e.L5) <= 1e-6, "\(what) L5 \(r.l5!) vs \(e.L5)")
        #expect(abs(r.m10! - e.M10) <= 1e-6, "\(what) M10 \(r.m10!) vs \(e.M10)")
        // Start times: where windows tie (common with binarized data), the reference's rolling sums pick
        // among them by rounding; the reference's start must give the same mean as Canary's.
        let profile = averageDay(binarized, firstMinute: firstMinute)
        #expect(abs(mean(profile, from: e.L5_start_min % 1440, length: 300) - r.l5!) <= 1e-9, "\(what) L5 start")
        #expect(abs(mean(profile, from: e.M10_start_min % 1440, length: 600) - r.m10!) <= 1e-9, "\(what) M10 start")
    }

    static func averageDay(_ minutes: [RhythmFeatures.Minute], firstMinute: Int) -> [Double] {
        var active = [Double](repeating: 0, count: 1440)
        var present = [Double](repeating: 0, count: 1440)
        for (i, m) in minutes.enumerated() {
            guard let m else { continue }
            present[(firstMinute + i) % 1440] += 1
            if m { active[(firstMinute + i) % 1440] += 1 }
        }
        return (0..<1440).map { present[$0] > 0 ? active[$0] / present[$0] : 0 }
    }

    static func mean(_ profile: [Double], from start: Int, length: Int) -> Double {
        (start..<(start + length)).reduce(0) { $0 + profile[$1 % 1440] } / Double(length)
    }

    @Test(arguments: names) func rhythmMatchesPyActigraphy(name: String) throws {
        let (counts, reference) = try Self.load(name)
        #expect(counts.count == reference.minutes)
        let binarized: [RhythmFeatures.Minute] = counts.map { $0.map { $0 > 4 } }
        let first = Self.firstMinute(reference.start)
        // The whole recording, its whole hours.
        let whole = Array(binarized[..<(binarized.count - binarized.count % 60)])
        Self.check(RhythmFeatures.compute(whole, firstMinuteOfDay: first), against: reference.whole,
                   binarized: whole, firstMinute: first, what: "\(name) whole")
        #expect(reference.windows.count >= 9)
        for w in reference.windows {
            let offset = w.offset_min!
            let part = Array(binarized[offset..<(offset + 7 * 1440)])
            Self.check(RhythmFeatures.compute(part, firstMinuteOfDay: (first + offset) % 1440), against: w,
                       binarized: part, firstMinute: (first + offset) % 1440, what: "\(name) window at \(offset)")
        }
    }

    @Test(arguments: names) func coleKripkeMatchesPyActigraphy(name: String) throws {
        let (counts, reference) = try Self.load(name)
        let labels = ColeKripke.score(counts, divisor: 30)
        var expected: [Bool] = []
        for (i, run) in reference.ck_runs.enumerated() { expected += [Bool](repeating: i % 2 == 1, count: run) }
        #expect(expected.count == counts.count)
        // The reference sums a missing minute as 0 (still); Canary reads it as missing (wake). Minutes within
        // an hour of a missing one are left out (control_1's DST hour); every other minute must agree.
        let missing = counts.indices.filter { counts[$0] == nil }
        let compared = counts.indices.filter { i in !missing.contains { abs($0 - i) <= 60 } }
        #expect(compared.count == counts.count - (missing.isEmpty ? 0 : missing.count + 120))
        let differing = compared.filter { labels[$0] != expected[$0] }
        #expect(differing.isEmpty, "\(name): \(differing.count) minutes differ, first at \(differing.prefix(5))")
        #expect(labels.filter { $0 }.count > counts.count / 5, "\(name): the recording has nights")
    }
}
