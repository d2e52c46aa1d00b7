import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// The promise of event time, as a property: the same rows give the same alerts (ids, kinds, periods,
/// values) and the same `--scores` observations however they are delivered — over one connection or
/// several, interleaved in any byte chunks, shuffled within the close delay, newest first, with
/// duplicates, across graceful restarts and kills with resends, with wall-clock pauses shorter than
/// `engine.max_lateness` — as when they are replayed from files merged by time.
///
/// Deliveries are generated from a seed (`DeliveryPlan.make`) over the sample set and two Depresjon
/// recordings. The test run checks `CANARY_PROPERTY_SEEDS` seeds (default 12) from `CANARY_PROPERTY_SEED`
/// (default a fixed one); `scripts/event-time-property.sh` runs many more.
@Suite struct EventTimePropertyTests {
    static var seeds: [UInt64] {
        let env = ProcessInfo.processInfo.environment
        let count = env["CANARY_PROPERTY_SEEDS"].flatMap { Int($0) } ?? 12
        let first = env["CANARY_PROPERTY_SEED"].flatMap { UInt64($0) } ?? 20_261_207
        return (0..<UInt64(count)).map { first &+ $0 }
    }

    /// The subjects of one seed: one to three of the sample set, and now and then a Depresjon recording.
    static func subjects(seed: UInt64, corpus: DeliveryCorpus) -> [String] {
        var g = SeededGenerator(seed: seed ^ 0x5EED)
        let sample = ["ana", "ben", "chen", "dara", "eli"].shuffled(using: &g).prefix(Int.random(in: 1...3, using: &g))
        let depresjon = Bool.random(using: &g) ? [["condition_1", "control_1"].randomElement(using: &g)!] : []
        return Array(sample) + depresjon
    }

    @Test func anyDeliveryWithinTheLatenessDecidesWhatTheReplayDecides() throws {
        let corpus = DeliveryCorpus.standard
        var identical = 0
        var compared = 0
        for seed in Self.seeds {
            let subjects = Self.subjects(seed: seed, corpus: corpus)
            let expected = DeliverySimulator.reference(corpus: corpus, subjects: subjects)
            let plan = DeliveryPlan.make(seed: seed, corpus: corpus, subjects: subjects)
            let got = try DeliverySimulator.run(plan, corpus: corpus)
            compared += expected.alerts.count
            let alertDiff = Set(got.alerts).symmetricDifference(expected.alerts).sorted().prefix(4)
            #expect(got.alerts == expected.alerts, "\(plan.summary): alerts differ: \(alertDiff)")
            let scoreDiff = Set(got.scores).symmetricDifference(expected.scores).sorted().prefix(4)
            #expect(got.scores == expected.scores, "\(plan.summary): \(got.scores.count) vs \(expected.scores.count) observations; \(scoreDiff)")
            if got == expected { identical += 1 }
        }
        #expect(compared > 0, "some alerts were compared")
        print("event-time property: \(identical) of \(Self.seeds.count) seeds identical to the replay (\(compared) alerts compared)")
    }

    /// The reference is the replay: the core merge of the test equals `canaryctl replay` over the files.
    @Test func theReferenceIsWhatReplayDecides() throws {
        let corpus = DeliveryCorpus.standard
        let subjects = corpus.subjects
        let expected = DeliverySimulator.reference(corpus: corpus, subjects: subjects)
        var configuration = CanaryConfiguration()
        configuration.engine = corpus.configuration
        let inputs = ["sleep", "activity", "typing", "samples"].map { Replay.Input(path: TestSupport.root("config/sample/\($0).csv")) }
            + ["condition_1", "control_1"].map { (name: String) in
                Replay.Input(path: TestSupport.fixture("depresjon-\(name)-head.csv"), subject: name)
            }
        let scores = TestSupport.temporaryFile("scores.csv")
        let (alerts, _, diagnostics) = try TestSupport.replay(inputs, configuration: configuration, scores: scores)
        #expect(diagnostics.isEmpty)
        let replayed = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n").dropFirst().map(String.init).sorted()
        #expect(replayed == expected.scores)
        #expect(alerts.count == expected.alerts.count)
        let ids = Set(alerts.map { $0["id"] as! String })
        let expectedIDs = Set(expected.alerts.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["id"] as! String })
        #expect(ids == expectedIDs)
    }
}
