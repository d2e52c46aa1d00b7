/// Why a configuration was refused: the key, what was found, and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `rules.sleep_duration.threshold`; empty for whole-file problems.
    public let key: String
    public let reason: String

    public init(key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "configuration: \(reason)" : "configuration key '\(key)': \(reason)"
    }
}
