import Foundation

/// Why a configuration was refused: the key, what was found, and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `rules.sleep_duration.threshold`; empty for whole-file problems.
    public let key: String
    public let reason: String

    public init(key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }

    /// The same error with subject ids (`subjects.<id>...`) replaced, for logs that must not carry them.
    public func redactingSubjects() -> ConfigError {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "subjects" else { return self }
        let redacted = (["subjects", "<subject>"] + parts.dropFirst(2).map(String.init)).joined(separator: ".")
        return ConfigError(key: redacted, reason.replacingOccurrences(of: String(parts[1]), with: "<subject>"))
    }

    public var description: String {
        key.isEmpty ? "configuration: \(reason)" : "configuration key '\(key)': \(reason)"
    }
}
