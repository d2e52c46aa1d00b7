/// Tells non-wear apart from inactivity in minute counts: a device taken off reads zero, which is
/// missing data, never a person at rest.
public enum NonWear {
    /// True for each minute inside a run of zeros at least `settings.nonWearMinutes` long, where a non-zero
    /// interruption of up to `settings.nonWearTolerance` minutes does not end the run when the
    /// `settings.nonWearWindow` minutes before and after it are zeros (Choi et al., Med Sci Sports Exerc
    /// 2011): a bump of the device on a table, not a sleeper's movement every few minutes. Missing minutes
    /// (nil) end a run; they are missing data anyway.
    public static func mark(_ minutes: [Double?], settings: ActivitySettings) -> [Bool] {
        let n = minutes.count
        var nonWear = [Bool](repeating: false, count: n)
        var i = 0
        while i < n {
            guard still(minutes[i], settings) else { i += 1; continue }
            var j = i
            var lastZero = i
            var interruption = 0
            while j < n, let c = minutes[j] {
                if c <= settings.nonWearFloor {
                    lastZero = j
                    interruption = 0
                } else {
                    interruption += 1
                    if interruption > settings.nonWearTolerance { break }
                    if interruption == 1 && !zeros(minutes, around: j, settings: settings) { break }
                }
                j += 1
            }
            if lastZero - i + 1 >= settings.nonWearMinutes {
                for k in i...lastZero { nonWear[k] = true }
            }
            i = lastZero + 1
        }
        return nonWear
    }

    /// Whether the interruption starting at `start` has `nonWearWindow` zeros before it and, after its
    /// non-zero minutes (at most `nonWearTolerance`), as many after it.
    private static func zeros(_ minutes: [Double?], around start: Int, settings: ActivitySettings) -> Bool {
        let window = settings.nonWearWindow
        guard window > 0 else { return true }
        guard start >= window, minutes[(start - window)..<start].allSatisfy({ still($0, settings) }) else { return false }
        var end = start
        while end < minutes.count, end - start < settings.nonWearTolerance, let c = minutes[end], c > settings.nonWearFloor { end += 1 }
        guard end + window <= minutes.count else { return false }
        return minutes[end..<(end + window)].allSatisfy { still($0, settings) }
    }

    /// A minute with a count at or below the device's still floor (`nonWearFloor`; zero for most devices).
    @inline(__always)
    private static func still(_ count: Double?, _ settings: ActivitySettings) -> Bool {
        guard let count else { return false }
        return count <= settings.nonWearFloor
    }
}
