import Foundation

/// Why a configuration was refused: the key, what was found, and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `rules.sleep_duration.threshold`; empty for whole-file problems.
    public let key: String
    public let reason: String
    /// The subject id the key names (`subjects.<id>...`), when it names one: ids may contain dots, so
    /// the key alone cannot tell where the id ends.
    public var subject: String?

    public init(key: String, _ reason: String, subject: String? = nil) {
        self.key = key
        self.reason = reason
        self.subject = subject
    }

    /// The same error naming the subject `id` it is about.
    func naming(subject id: String) -> ConfigError {
        ConfigError(key: key, reason, subject: subject ?? id)
    }

    /// The same error with subject ids (`subjects.<id>...`) replaced, for logs that must not carry them.
    public func redactingSubjects() -> ConfigError {
        let prefix = "subjects."
        guard key.hasPrefix(prefix) else { return self }
        // The id runs to the end, or to the last dot when the parser did not say (a key inside the table).
        let rest = key.dropFirst(prefix.count)
        let id: Substring
        if let subject, rest.hasPrefix(subject) {
            id = rest.prefix(subject.count)
        } else if let dot = rest.lastIndex(of: ".") {
            id = rest[..<dot]
        } else {
            id = rest
        }
        let redactedKey = prefix + "<subject>" + rest.dropFirst(id.count)
        let redactedReason = id.isEmpty ? reason : reason.replacingOccurrences(of: "\"\(id)\"", with: "\"<subject>\"")
        return ConfigError(key: redactedKey, redactedReason)
    }

    public var description: String {
        key.isEmpty ? "configuration: \(reason)" : "configuration key '\(key)': \(reason)"
    }
}
