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

    mutating func positiveDouble(_ name: String) throws(ConfigError) -> Double? {
        guard let d = try double(name) else { return nil }
        guard d > 0, d.isFinite else { throw ConfigError(key: key(name), "expected a number above zero, found \(d)") }
        return d
    }

    mutating func nonNegativeDouble(_ name: String) throws(ConfigError) -> Double? {
        guard let d = try double(name) else { return nil }
        guard d >= 0, d.isFinite else { throw ConfigError(key: key(name), "expected zero or more, found \(d)") }
        return d
    }

    mutating func int(_ name: String, min lower: Int = 0) throws(ConfigError) -> Int? {
        guard let v = value(name) else { return nil }
        guard let i = v.int else { throw ConfigError(key: key(name), "expected a whole number") }
        guard i >= lower else { throw ConfigError(key: key(name), "expected \(lower) or more, found \(i)") }
        return i
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

    /// A duration: a number of seconds, or a string such as `90s`, `15m`, `2h`, `3d`; `off` gives nil via `isOff`.
    mutating func duration(_ name: String) throws(ConfigError) -> Double? {
        guard let v = value(name) else { return nil }
        if let i = v.int, i >= 0 { return Double(i) }
        if let d = v.double, d >= 0 { return d }
        guard let s = v.string, let seconds = Self.parseDuration(s) else {
            throw ConfigError(key: key(name), "expected a duration such as \"90s\", \"15m\", \"2h\" or \"3d\"")
        }
        return seconds
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
