/// Sleep/wake scoring of minute epochs by Cole–Kripke (Cole et al., Sleep 1992) with Webster's rescoring
/// rules (Webster et al., Sleep 1982), computed as pyActigraphy 1.2.2 computes `CK(settings="mean")`.
///
/// Why this algorithm: it needs nothing but one count per minute (every wrist actigraph and step
/// counter gives that), it is the most widely validated for wrist counts against polysomnography, and
/// its one linear window is rescaled to a device by a single divisor (`ActivitySettings.sleepCountDivisor`).
///
/// A minute's score is `D = 0.001 × Σ wₖ · A₍ₜ₊ₖ₎ / divisor` over the minutes t−4 … t+2 with weights
/// 106, 54, 58, 76, 230, 74, 67; D < 1 is sleep. A minute whose window reaches past the data or over a
/// missing (or non-wear) minute is wake, as in the reference.
public enum ColeKripke {
    /// Weights of the minutes t−4 … t+4 (the last two are zero; the window is centred as in the reference).
    static let weights: [Double] = [106, 54, 58, 76, 230, 74, 67, 0, 0]
    static let scale = 0.001

    /// Labels per minute: true is sleep. `counts[i]` is nil for a missing or non-wear minute.
    public static func score(_ counts: [Double?], divisor: Double, rescoring: Bool = true) -> [Bool] {
        let n = counts.count
        var sleep = [Bool](repeating: false, count: n)
        guard n >= 9 else { return sleep }
        // Each minute divided once; a missing one is NaN, which makes every window over it NaN (not < 1: wake).
        let x = counts.map { $0.map { $0 / divisor } ?? .nan }
        x.withUnsafeBufferPointer { x in
            for t in 4..<(n - 4) {
                var sum = 0.0
                for k in 0..<9 { sum += x[t - 4 + k] * weights[k] }
                if scale * sum < 1 { sleep[t] = true }
            }
        }
        return rescoring ? rescore(sleep) : sleep
    }

    /// Webster's rules, as the reference applies them (each rule to the unrescored labels, a minute
    /// rescored to wake by any rule is wake):
    /// after ≥ 4 wake minutes the next sleep minute is wake; after ≥ 10, the next 3; after ≥ 15, the next 4;
    /// sleep of ≤ 6 minutes between two wake runs of ≥ 10 is wake; sleep of ≤ 10 between wake runs of ≥ 20 is wake.
    public static func rescore(_ sleep: [Bool]) -> [Bool] {
        var keep = [Bool](repeating: true, count: sleep.count)
        for (periods, previous) in [(1, 4), (3, 10), (4, 15)] {
            for run in runs(sleep, of: true, atLeast: periods) where run.lowerBound >= previous {
                if !sleep[(run.lowerBound - previous)..<run.lowerBound].contains(true) {
                    for i in run.lowerBound..<(run.lowerBound + periods) { keep[i] = false }
                }
            }
        }
        for (periods, surround) in [(6, 10), (10, 20)] {
            let wake = runs(sleep, of: false, atLeast: surround)
            for (a, b) in zip(wake, wake.dropFirst()) where b.lowerBound - a.upperBound <= periods {
                for i in a.upperBound..<b.lowerBound { keep[i] = false }
            }
        }
        return zip(sleep, keep).map { $0 && $1 }
    }

    /// The runs of `value` in `labels` at least `minimum` long, in order.
    static func runs(_ labels: [Bool], of value: Bool, atLeast minimum: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = 0
        while i < labels.count {
            guard labels[i] == value else { i += 1; continue }
            var j = i
            while j < labels.count && labels[j] == value { j += 1 }
            if j - i >= minimum { result.append(i..<j) }
            i = j
        }
        return result
    }
}
