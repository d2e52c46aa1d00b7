import TOMLKit

/// Reads typed values out of one TOML table, remembering which keys were used so that
/// misspelt keys are refused by name instead of silently ignored.
struct TableReader {
    let table: TOMLTable
    let path: String
    private(set) var used: Set<String> = []

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    mutating func value(_ name: String) -> (any TOMLValueConvertible)? {
        used.insert(name)
        return table[name]
    }

    mutating func double(_ name: String) throws(ConfigError) -> Double? {
        guard let v = value(name) else { return nil }
        if let d = v.double { return d }
        if let i = v.int { return Double(i) }
        throw ConfigError(key: key(name), "expected a number")
    }

    /// A number inside `range` (so never NaN or infinite); `open` excludes the lower bound itself.
    mutating func double(_ name: String, in range: ClosedRange<Double>, excludingLower open: Bool = false) throws(ConfigError) -> Double? {
        guard let d = try double(name) else { return nil }
        guard range.contains(d), !(open && d == range.lowerBound) else {
            let bounds = open ? "above \(range.lowerBound == 0 ? "zero" : Self.format(range.lowerBound)) and at most \(Self.format(range.upperBound))"
                : "from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
            throw ConfigError(key: key(name), "expected a number \(bounds), found \(Self.format(d))")
        }
        return d
    }

    /// Keys without a documented range of their own: finite and at most 1e12.
    static let defaultNumberLimit = 1e12
    /// Durations without a documented range of their own: at most 100 years.
    static let defaultDurationLimit = 36_500 * 86_400.0

    mutating func positiveDouble(_ name: String, max upper: Double = defaultNumberLimit) throws(ConfigError) -> Double? {
        try double(name, in: 0...upper, excludingLower: true)
    }

    mutating func nonNegativeDouble(_ name: String, max upper: Double = defaultNumberLimit) throws(ConfigError) -> Double? {
        try double(name, in: 0...upper)
    }

    /// A whole number inside `range`: bounded, so that period arithmetic (`day - window`,
    /// `period + cooldown`) can never overflow.
    mutating func int(_ name: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let v = value(name) else { return nil }
        guard let i = v.int else { throw ConfigError(key: key(name), "expected a whole number from \(range.lowerBound) to \(range.upperBound)") }
        guard range.contains(i) else {
            throw ConfigError(key: key(name), "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(i)")
        }
        return i
    }

    /// A whole number of at least `lower` and at most 1e9 (keys without a documented range of their own).
    mutating func int(_ name: String, min lower: Int = 0) throws(ConfigError) -> Int? {
        try int(name, in: lower...1_000_000_000)
    }

    mutating func bool(_ name: String) throws(ConfigError) -> Bool? {
        guard let v = value(name) else { return nil }
        guard let b = v.bool else { throw ConfigError(key: key(name), "expected true or false") }
        return b
    }

    mutating func string(_ name: String) throws(ConfigError) -> String? {
        guard let v = value(name) else { return nil }
        guard let s = v.string else { throw ConfigError(key: key(name), "expected a string") }
        return s
    }

    mutating func strings(_ name: String) throws(ConfigError) -> [String]? {
        guard let v = value(name) else { return nil }
        guard let a = v.array else { throw ConfigError(key: key(name), "expected an array of strings") }
        var out: [String] = []
        for item in a {
            guard let s = item.string else { throw ConfigError(key: key(name), "expected an array of strings") }
            out.append(s)
        }
        return out
    }

    mutating func choice<T: RawRepresentable>(_ name: String, _ type: T.Type, allowed: [String]) throws(ConfigError) -> T?
    where T.RawValue == String {
        guard let s = try string(name) else { return nil }
        guard let v = T(rawValue: s) else {
            throw ConfigError(key: key(name), "expected one of \(allowed.joined(separator: ", ")), found \"\(s)\"")
        }
        return v
    }

    /// A duration inside `range` (seconds): a number of seconds, or a string such as `90s`, `15m`,
    /// `2h`, `3d`; `off` gives nil via `isOff`. NaN, infinities and values outside the range are refused
    /// with the key, so no duration can trap later (`Duration.seconds`, `Int(...)`).
    mutating func duration(_ name: String, in range: ClosedRange<Double>, excludingLower open: Bool = false) throws(ConfigError) -> Double? {
        guard let v = value(name) else { return nil }
        let expected = (open ? "a duration above \(range.lowerBound == 0 ? "zero" : Self.formatDuration(range.lowerBound)) and at most "
                                : "a duration from \(Self.formatDuration(range.lowerBound)) to ") + Self.formatDuration(range.upperBound)
            + " (seconds, or a string such as \"90s\", \"15m\", \"2h\" or \"3d\")"
        let seconds: Double
        if let i = v.int {
            seconds = Double(i)
        } else if let d = v.double {
            seconds = d
        } else if let s = v.string, let d = Self.parseDuration(s) {
            seconds = d
        } else {
            throw ConfigError(key: key(name), "expected \(expected)")
        }
        guard range.contains(seconds), !(open && seconds == range.lowerBound) else {
            throw ConfigError(key: key(name), "expected \(expected), found \(Self.formatDuration(seconds))")
        }
        return seconds
    }

    /// A duration from zero to 100 years (keys without a documented range of their own).
    mutating func duration(_ name: String) throws(ConfigError) -> Double? {
        try duration(name, in: 0...Self.defaultDurationLimit)
    }

    static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// Seconds as the largest unit that divides them ("400d", "90s"), or the number when none does.
    static func formatDuration(_ d: Double) -> String {
        guard d.isFinite, d >= 0, d < 1e15 else { return format(d) }
        for (unit, size) in [("d", 86_400.0), ("h", 3600), ("m", 60)] where d >= size && d.truncatingRemainder(dividingBy: size) == 0 {
            return format(d / size) + unit
        }
        return format(d) + "s"
    }

    func isOff(_ name: String) -> Bool {
        table[name]?.string == "off" || table[name]?.bool == false
    }

    static func parseDuration(_ s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard let unit = t.last else { return nil }
        let factor: Double
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86_400
        default: return Double(t).flatMap { $0 >= 0 ? $0 : nil }
        }
        guard let n = Double(t.dropLast()), n >= 0, n.isFinite else { return nil }
        return n * factor
    }

    /// An array of tables (`[[name]]`).
    mutating func tables(_ name: String) throws(ConfigError) -> [TableReader]? {
        guard let v = value(name) else { return nil }
        guard let a = v.array else { throw ConfigError(key: key(name), "expected an array of tables ([[\(key(name))]])") }
        var out: [TableReader] = []
        for (i, item) in a.enumerated() {
            guard let t = item.table else { throw ConfigError(key: key(name), "expected an array of tables ([[\(key(name))]])") }
            out.append(TableReader(t, path: "\(key(name))[\(i)]"))
        }
        return out
    }

    mutating func subtable(_ name: String) throws(ConfigError) -> TableReader? {
        guard let v = value(name) else { return nil }
        guard let t = v.table else { throw ConfigError(key: key(name), "expected a table") }
        return TableReader(t, path: key(name))
    }

    /// Refuses keys nobody asked for, naming the first one and the keys that are known here.
    func finish(known: [String]? = nil) throws(ConfigError) {
        let unknown = table.keys.filter { !used.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let expected = (known ?? used.sorted()).joined(separator: ", ")
        throw ConfigError(key: key(first), "unknown key; expected one of: \(expected)")
    }
}

import Foundation
